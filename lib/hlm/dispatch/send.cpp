#include <hlm/dispatch/fault_point.hpp>
#include <hlm/dispatch/recall_copies.hpp>
#include <hlm/dispatch/send.hpp>
#include <hlm/dispatch/stream.hpp>
#include <hlm/queue/direct_container.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <utility>

namespace hlm::dispatch {

PolicyRings::PolicyRings(const ring::SwiftConf& swift_conf, std::filesystem::path swift_dir)
  : m_swift_conf(swift_conf),
    m_swift_dir(std::move(swift_dir))
{
}

const PolicyRing&
PolicyRings::get(int policy)
{
  const auto known = m_rings.find(policy);
  if (known != m_rings.end()) {
    return known->second;
  }
  PolicyRing& entry = m_rings[policy];
  try {
    if (!m_swift_conf.policy_by_index(policy)) {
      throw ConfigError(
        fmt::format("storage policy {} is not in {}", policy, m_swift_conf.path.string()));
    }
    entry.ring = ring::Ring::load(ring::object_ring_path(m_swift_dir, policy));
  } catch (const ConfigError& e) {
    // The dispatcher's own configuration, not a node's: kind `node` for
    // "configuration or ring", transient as it always was.
    entry.failure = make_failure(FailureKind::node, e.what());
  }
  return entry;
}

namespace {

// An object's outcome: to `lists` for a list request's object, else into
// its entry's `failures` (and, for a container entry that keeps them, the
// object's own failures apart).
void
record_outcome(ListWork* lists,
               std::size_t owner,
               EntryFailures& failures,
               const std::string& path,
               std::size_t base_size,
               const std::vector<ReplicaOutcome>& replicas)
{
  if (lists) {
    lists->object(owner, path, replicas);
    return;
  }
  const bool keep = failures.keeps_objects();
  EntryFailures own;
  for (const auto& replica : replicas) {
    failures.add_replica();
    if (replica.failure) {
      failures.add(*replica.failure, path);
    }
    if (keep) {
      own.add_replica();
      if (replica.failure) {
        own.add(*replica.failure, path);
      }
    }
  }
  if (keep && own.failed()) {
    failures.keep_object(path.substr(base_size), std::move(own));
  }
}

} // namespace

Sender::Sender(const Fanout& fanout,
               swift::HttpClient& http,
               const queue::RequestQueue& requests,
               std::size_t batch_size,
               std::size_t recall_copies)
  : m_fanout(fanout),
    m_http(http),
    m_requests(requests),
    m_batch_size(batch_size),
    m_recall_copies(recall_copies)
{
}

void
Sender::list_objects(const std::vector<queue::ListedEntry>& pending,
                     const std::vector<std::size_t>& members,
                     std::vector<EntryFailures>& failures,
                     ListWork* lists,
                     const std::function<void(std::size_t, std::string)>& add) const
{
  for (const std::size_t i : members) {
    if (pending[i].list) {
      if (lists) {
        lists->read(i, pending[i], [&](std::string path) { add(i, std::move(path)); });
      }
      continue;
    }
    const auto& target = pending[i].entry->target;
    const std::string base = fmt::format("/{}/{}/", target.account, target.container);
    if (!target.object.empty()) {
      add(i, base + target.object);
      continue;
    }
    try {
      queue::DirectContainerClient lister(m_http,
                                          m_requests.container_ring(),
                                          m_requests.secret(),
                                          target.account);
      std::size_t listed = 0;
      lister.list_rows(target.container, {}, [&](const queue::Row& row) {
        if (m_still_pending && ++listed % m_batch_size == 0 && !m_still_pending(i)) {
          return false; // cancelled: no more of its objects
        }
        add(i, base + row.name);
        return true;
      });
    } catch (const Error& e) {
      // The container servers are down or refuse: worth another attempt.
      failures[i].add(
        make_failure(FailureKind::unreachable, fmt::format("cannot list {}: {}", base, e.what())));
    }
  }
}

void
Sender::send(const HandlerWork& operation,
             int policy,
             const ring::Ring& object_ring,
             const std::vector<queue::ListedEntry>& pending,
             const std::vector<std::size_t>& members,
             std::vector<EntryFailures>& failures,
             const OnRound& on_round,
             ListWork* lists) const
{
  const ring::HashSecret& secret = m_requests.secret();
  // The entry each object held by the stream came from, oldest first.
  std::deque<std::size_t> owners;
  std::size_t unreported = 0; // objects passed on since the last on_round
  const auto report = [&] {
    fault_point("sent");
    on_round(unreported);
    unreported = 0;
  };
  const auto on_object = [&](const std::string& path, const std::vector<ReplicaOutcome>& replicas) {
    const std::size_t owner = owners.front();
    owners.pop_front();
    const auto& target = pending[owner].entry->target;
    record_outcome(pending[owner].list ? lists : nullptr,
                   owner,
                   failures[owner],
                   path,
                   target.account.size() + target.container.size() + 3,
                   replicas);
  };
  // recall --copies N: rounds of its own (recall_copies.hpp), each a status
  // pass with placements and a recall of the chosen replicas.
  std::optional<CopiesRounds> copies_rounds;
  std::optional<StreamingFanout> stream;
  if (const auto copies =
        copies_for_group(operation.operation, object_ring, pending, members, m_recall_copies)) {
    copies_rounds.emplace(
      m_fanout,
      operation,
      m_batch_size,
      policy,
      object_ring,
      secret,
      *copies,
      [&](const std::vector<std::string>& paths, const std::vector<ReplicaOutcome>& outcomes) {
        std::vector<std::vector<ReplicaOutcome>> by_object(paths.size());
        for (const auto& outcome : outcomes) {
          by_object[outcome.object].push_back(outcome);
        }
        for (std::size_t k = 0; k < paths.size(); ++k) {
          on_object(paths[k], by_object[k]);
        }
        unreported = paths.size();
        report();
      });
  } else {
    stream.emplace(
      m_fanout,
      operation,
      policy,
      object_ring,
      secret,
      [&](std::size_t, const std::string& path, const std::vector<ReplicaOutcome>& replicas) {
        on_object(path, replicas);
        if (++unreported >= m_batch_size) {
          report();
        }
      },
      // A host's document is the window in which a tape backend orders its
      // recalls (hlm-dispatch --schedule batched): batch_size, as before.
      m_batch_size);
  }
  const auto add = [&](std::size_t entry, std::string path) {
    owners.push_back(entry);
    if (copies_rounds) {
      copies_rounds->add(std::move(path));
    } else {
      stream->add(std::move(path));
    }
  };
  list_objects(pending, members, failures, lists, add);
  if (copies_rounds) {
    copies_rounds->flush();
  } else {
    stream->finish();
    if (unreported > 0) {
      report();
    }
  }
}

} // namespace hlm::dispatch
