#include <hlm/dispatch/dispatcher.hpp>
#include <hlm/util/strings.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <tuple>

namespace hlm::dispatch {

namespace {

constexpr std::size_t k_reasons_kept = 3;

constexpr std::size_t k_objects_named = 5;

// Test hook, like the tapesim connector's HLM_TAPESIM_FAULT: with
// HLM_DISPATCH_FAULT=<point> in the environment, the process dies at once
// (_exit 86, leaving the queue as a SIGKILL would) the first time it
// reaches that point, so tests can stop a run between any two of its queue
// updates:
//   listed      the pending queue listed, nothing sent or written
//   sent        the nodes answered a round; no queue row updated for it
//   completed   right after the first complete() of the run
//   failed-put  inside a last failure: the failed row written, the
//               pending row not yet removed
//   retry-put   right after the first retry rewrite
// A test hook only: not in the man page, not for operators.
void
fault_point(std::string_view point)
{
  const char* fault = std::getenv("HLM_DISPATCH_FAULT");
  if (fault && point == fault) {
    ::_exit(86);
  }
}

// Entries this run leaves pending (next attempt not due, failed and to be
// retried, or held behind one of those), so that an entry queued later for
// an overlapping target with the other operation waits too: run now, a
// recall would be undone by the retried migrate queued before it.
class Held
{
public:
  void
  add(std::size_t index, const queue::Entry& entry)
  {
    m_by_container[{entry.target.account, entry.target.container}].push_back(
      {index, entry.operation, entry.target.object});
  }

  // Whether an entry queued before `index` and held conflicts with `entry`.
  bool
  blocks(std::size_t index, const queue::Entry& entry) const
  {
    const auto it = m_by_container.find({entry.target.account, entry.target.container});
    if (it == m_by_container.end()) {
      return false;
    }
    return std::any_of(it->second.begin(), it->second.end(), [&](const Item& held) {
      return held.index < index && held.operation != entry.operation
             && (held.object.empty() || entry.target.object.empty()
                 || held.object == entry.target.object);
    });
  }

private:
  struct Item
  {
    std::size_t index;
    Operation operation;
    std::string object; // empty: the whole container
  };
  std::map<std::pair<std::string, std::string>, std::vector<Item>> m_by_container;
};

std::int64_t
unix_now()
{
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// What went wrong for one entry: failures grouped by their message, so a
// node that failed a thousand objects for one reason says it once.
struct EntryState
{
  std::size_t replicas = 0;
  std::size_t failed_replicas = 0;
  std::vector<std::pair<std::string, std::vector<std::string>>> reasons; // message → objects

  void
  add_failure(const std::string& message, const std::string& object = {})
  {
    ++failed_replicas;
    auto it = std::find_if(reasons.begin(), reasons.end(),
                           [&](const auto& r) { return r.first == message; });
    if (it == reasons.end()) {
      if (reasons.size() >= k_reasons_kept) {
        return;
      }
      reasons.push_back({message, {}});
      it = std::prev(reasons.end());
    }
    if (!object.empty() && it->second.size() < k_objects_named
        && std::find(it->second.begin(), it->second.end(), object) == it->second.end()) {
      it->second.push_back(object);
    }
  }

  std::string
  summary() const
  {
    std::string text;
    if (replicas > 0) {
      text = fmt::format("{} of {} replicas failed", failed_replicas, replicas);
    }
    for (const auto& [message, objects] : reasons) {
      text += (text.empty() ? "" : "; ") + message;
      if (!objects.empty()) {
        text += fmt::format(" (objects: {}{})", fmt::join(objects, ", "),
                            objects.size() == k_objects_named ? ", ..." : "");
      }
    }
    return text;
  }
};

// Which entries go to the nodes together, in which order. FIFO: each entry
// alone, in arrival order. Batched: the entries of one operation and policy
// together; but an entry whose target overlaps an earlier one's with the
// other operation (recall X queued after migrate X, or migrate of a
// container after recall of one of its objects) starts a new round of
// groups, so that the later request still wins, as in arrival order.
class Grouping
{
public:
  using Key = std::pair<Operation, int>;
  using Groups = std::vector<std::pair<Key, std::vector<std::size_t>>>;

  explicit Grouping(Schedule schedule)
    : m_schedule(schedule)
  {
  }

  void
  add(std::size_t index, const queue::Entry& entry)
  {
    const Key key{entry.operation, entry.policy_index};
    if (m_schedule == Schedule::fifo) {
      m_groups.push_back({key, {index}});
      return;
    }
    if (conflicts(entry)) {
      m_round_start = m_groups.size();
      m_seen.clear();
    }
    remember(entry);
    auto group = std::find_if(m_groups.begin() + static_cast<std::ptrdiff_t>(m_round_start),
                              m_groups.end(), [&](const auto& g) { return g.first == key; });
    if (group == m_groups.end()) {
      m_groups.push_back({key, {}});
      group = std::prev(m_groups.end());
    }
    group->second.push_back(index);
  }

  const Groups&
  groups() const
  {
    return m_groups;
  }

private:
  // What the current round holds for one container: the operations of
  // container-wide entries, of all entries, and per object.
  struct Seen
  {
    std::set<Operation> whole;
    std::set<Operation> any;
    std::map<std::string, std::set<Operation>> objects;
  };

  static bool
  other_than(const std::set<Operation>& operations, Operation operation)
  {
    return operations.size() > 1 || (operations.size() == 1 && *operations.begin() != operation);
  }

  bool
  conflicts(const queue::Entry& entry) const
  {
    const auto it = m_seen.find({entry.target.account, entry.target.container});
    if (it == m_seen.end()) {
      return false;
    }
    const Seen& seen = it->second;
    if (entry.target.object.empty()) {
      return other_than(seen.any, entry.operation);
    }
    if (other_than(seen.whole, entry.operation)) {
      return true;
    }
    const auto object = seen.objects.find(entry.target.object);
    return object != seen.objects.end() && other_than(object->second, entry.operation);
  }

  void
  remember(const queue::Entry& entry)
  {
    Seen& seen = m_seen[{entry.target.account, entry.target.container}];
    seen.any.insert(entry.operation);
    if (entry.target.object.empty()) {
      seen.whole.insert(entry.operation);
    } else {
      seen.objects[entry.target.object].insert(entry.operation);
    }
  }

  Schedule m_schedule;
  Groups m_groups;
  std::size_t m_round_start = 0;
  std::map<std::pair<std::string, std::string>, Seen> m_seen;
};

} // namespace

std::chrono::seconds
retry_delay_after(const config::HlmConf& conf, int failed_attempts)
{
  auto delay = std::min(conf.retry_delay, conf.retry_delay_max);
  for (int n = 1; n < failed_attempts && delay < conf.retry_delay_max; ++n) {
    delay = std::min(delay * 2, conf.retry_delay_max);
  }
  return delay;
}

DispatchReport
dispatch_once(const config::HlmConf& conf,
              swift::HttpClient& http,
              const Fanout& fanout,
              const DispatchOptions& options,
              const Progress& progress)
{
  queue::RequestQueue requests(http, conf.swift_dir);
  const ring::SwiftConf& swift_conf = requests.swift_conf(); // read once, by the queue
  const ring::HashSecret& secret = requests.secret();
  const ring::Ring& container_ring = requests.container_ring();
  DispatchReport report;
  // (account, container, object, operation) → the latest submission that
  // completed in this run; failed entries for it submitted no later are
  // cleared at the end with one listing of the failed queue.
  std::map<std::tuple<std::string, std::string, std::string, Operation>, std::string>
    completed;

  // A snapshot of the entries this process owns; entries queued meanwhile
  // wait for the next run.
  std::vector<queue::ListedEntry> pending;
  requests.for_each(queue::Which::pending, [&](const queue::ListedEntry& listed) {
    if (queue::owned_by(listed.row.name, options.processes, options.process)) {
      pending.push_back(listed);
    }
    return true;
  });
  // Arrival order across both name forms: a listing is in byte order, so
  // SwiftHLM's older "<time>--..." entries come after every "/<time>/..."
  // one, whatever their time. Undecodable rows have none and go first
  // (they are only parked).
  std::stable_sort(pending.begin(), pending.end(), [](const auto& a, const auto& b) {
    return (a.entry ? std::string_view(a.entry->submitted) : std::string_view())
           < (b.entry ? std::string_view(b.entry->submitted) : std::string_view());
  });
  report.entries = pending.size();
  fault_point("listed");

  // A next attempt due later than retry_delay_max from now was set under a
  // larger setting, by a clock running ahead, or by hand: not waited for.
  const std::int64_t now = unix_now();
  const auto due = [&](const queue::RetryState& retry) {
    return !retry.retry_after || *retry.retry_after <= now
           || *retry.retry_after > now + conf.retry_delay_max.count();
  };

  std::vector<EntryState> states(pending.size());
  Grouping grouping(options.schedule);
  Held held;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (!pending[i].entry) {
      requests.park_undecodable(pending[i].row, pending[i].decode_error);
      ++report.undecodable;
      if (progress) {
        progress(fmt::format("parked undecodable entry: {}", pending[i].decode_error));
      }
      continue;
    }
    if (!due(pending[i].retry) || held.blocks(i, *pending[i].entry)) {
      held.add(i, *pending[i].entry);
      ++report.deferred;
      continue;
    }
    grouping.add(i, *pending[i].entry);
  }
  if (report.deferred > 0 && progress) {
    progress(fmt::format("{} for a later run (next attempt not due yet)",
                         report.deferred == 1 ? std::string("1 entry waits")
                                              : fmt::format("{} entries wait", report.deferred)));
  }
  if (options.on_counts) {
    options.on_counts(report);
  }
  const auto& groups = grouping.groups();

  // A failed attempt: pending again with the reason and when to try next,
  // or, the last one, to the failed queue.
  const auto settle_failure = [&](std::size_t i, const std::string& reason) {
    const auto& listed = pending[i];
    const int attempts = listed.retry.attempts + 1;
    if (attempts < conf.max_attempts) {
      // From now, not from the start of the run, which may be hours ago.
      requests.retry_later(
        listed, {attempts, unix_now() + retry_delay_after(conf, attempts).count(), reason});
      fault_point("retry-put");
      held.add(i, *listed.entry);
      ++report.retrying;
      return;
    }
    // Failed row first: a crash in between leaves the entry in both
    // queues, to be tried again, rather than in neither.
    requests.record_failure(
      listed.row, attempts > 1 ? fmt::format("after {} attempts: {}", attempts, reason) : reason);
    fault_point("failed-put");
    requests.complete(listed.row);
    ++report.failed;
  };

  // Each policy's object ring, or why it cannot be used; loaded once even
  // when FIFO makes a group per entry.
  std::map<int, std::pair<std::optional<ring::Ring>, std::string>> rings;
  for (const auto& [key, all_members] : groups) {
    const auto [operation, policy] = key;
    // An entry behind one that failed earlier in this run and will be
    // retried waits for it (groups run in order, conflicting entries in
    // later groups).
    std::vector<std::size_t> members;
    for (const std::size_t i : all_members) {
      if (held.blocks(i, *pending[i].entry)) {
        held.add(i, *pending[i].entry);
        ++report.deferred;
      } else {
        members.push_back(i);
      }
    }
    if (members.empty()) {
      continue;
    }
    auto known = rings.find(policy);
    if (known == rings.end()) {
      known = rings.emplace(policy, std::pair<std::optional<ring::Ring>, std::string>()).first;
      try {
        if (!swift_conf.policy_by_index(policy)) {
          throw ConfigError(fmt::format("storage policy {} is not in {}", policy,
                                        swift_conf.path.string()));
        }
        known->second.first = ring::Ring::load(ring::object_ring_path(conf.swift_dir, policy));
      } catch (const ConfigError& e) {
        known->second.second = e.what();
      }
    }
    const std::optional<ring::Ring>& object_ring = known->second.first;
    const std::string& ring_error = known->second.second;

    if (object_ring) {
      // The entry each object of the current round came from.
      std::vector<std::size_t> owners;
      std::size_t group_sent = 0; // this operation and policy's, not the run's
      FanoutRounds round(
        fanout, conf.batch_size, operation, policy, *object_ring, secret,
        [&, operation = operation, policy = policy](const std::vector<std::string>& paths,
                                                    const std::vector<ReplicaOutcome>& outcomes) {
          for (const auto& outcome : outcomes) {
            EntryState& state = states[owners[outcome.object]];
            ++state.replicas;
            if (outcome.error) {
              state.add_failure(*outcome.error, paths[outcome.object]);
            }
          }
          owners.clear();
          report.objects += paths.size();
          group_sent += paths.size();
          fault_point("sent");
          if (options.on_counts) {
            options.on_counts(report);
          }
          if (progress) {
            progress(fmt::format("{} (policy {}): {} sent to nodes", to_string(operation),
                                 policy, counted(group_sent, "object", "objects")));
          }
        });
      const auto add = [&](std::size_t entry, std::string path) {
        owners.push_back(entry);
        round.add(std::move(path));
      };
      for (const std::size_t i : members) {
        const auto& target = pending[i].entry->target;
        const std::string base = fmt::format("/{}/{}/", target.account, target.container);
        if (!target.object.empty()) {
          add(i, base + target.object);
          continue;
        }
        try {
          queue::DirectContainerClient lister(http, container_ring, secret, target.account);
          lister.list_rows(target.container, {}, [&](const queue::Row& row) {
            add(i, base + row.name);
            return true;
          });
        } catch (const Error& e) {
          states[i].add_failure(fmt::format("cannot list {}: {}", base, e.what()));
        }
      }
      round.flush();
    }

    for (const std::size_t i : members) {
      EntryState& state = states[i];
      const auto& listed = pending[i];
      if (!ring_error.empty()) {
        state.add_failure(ring_error);
      }
      if (state.failed_replicas == 0) {
        requests.complete(listed.row);
        fault_point("completed");
        const auto& target = listed.entry->target;
        auto& latest = completed[{target.account, target.container, target.object, operation}];
        latest = std::max(latest, listed.entry->submitted);
        ++report.completed;
      } else {
        settle_failure(i, state.summary());
      }
      if (options.on_counts) {
        options.on_counts(report);
      }
    }
  }
  if (!completed.empty()) {
    // "No later", not "before": the request that completed may itself be
    // in the failed queue, from a run that stopped between moving it there
    // and removing it from pending.
    requests.clear_failed([&](const queue::Entry& failed) {
      const auto& t = failed.target;
      const auto it = completed.find({t.account, t.container, t.object, failed.operation});
      return it != completed.end() && failed.submitted <= it->second;
    });
  }
  return report;
}

} // namespace hlm::dispatch
