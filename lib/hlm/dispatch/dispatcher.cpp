#include <hlm/dispatch/dispatcher.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

namespace hlm::dispatch {

namespace {

constexpr std::size_t k_reasons_kept = 3;

constexpr std::size_t k_objects_named = 5;

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
  using Key = std::pair<connector::Operation, int>;
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
    std::set<connector::Operation> whole;
    std::set<connector::Operation> any;
    std::map<std::string, std::set<connector::Operation>> objects;
  };

  static bool
  other_than(const std::set<connector::Operation>& operations, connector::Operation operation)
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

DispatchReport
dispatch_once(const config::HlmConf& conf,
              swift::HttpClient& http,
              const Fanout& fanout,
              const DispatchOptions& options,
              const Progress& progress)
{
  queue::RequestQueue requests(http, conf.swift_dir);
  const auto swift_conf = ring::load_swift_conf(conf.swift_dir);
  const ring::HashSecret& secret = requests.secret();
  const ring::Ring& container_ring = requests.container_ring();
  DispatchReport report;
  // (account, container, object, operation) → the latest submission that
  // completed in this run; older failed entries for it are cleared at the
  // end with one listing of the failed queue.
  std::map<std::tuple<std::string, std::string, std::string, connector::Operation>, std::string>
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
  report.entries = pending.size();

  std::vector<EntryState> states(pending.size());
  Grouping grouping(options.schedule);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (!pending[i].entry) {
      requests.park_undecodable(pending[i].row, pending[i].decode_error);
      ++report.undecodable;
      if (progress) {
        progress(fmt::format("parked undecodable entry: {}", pending[i].decode_error));
      }
      continue;
    }
    grouping.add(i, *pending[i].entry);
  }
  const auto& groups = grouping.groups();

  // Each policy's object ring, or why it cannot be used; loaded once even
  // when FIFO makes a group per entry.
  std::map<int, std::pair<std::optional<ring::Ring>, std::string>> rings;
  for (const auto& [key, members] : groups) {
    const auto [operation, policy] = key;
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
          if (options.on_counts) {
            options.on_counts(report);
          }
          if (progress) {
            progress(fmt::format("{} (policy {}): {} objects sent to nodes",
                                 connector::to_string(operation), policy, report.objects));
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
        const auto& target = listed.entry->target;
        auto& latest = completed[{target.account, target.container, target.object, operation}];
        latest = std::max(latest, listed.entry->submitted);
        ++report.completed;
      } else {
        requests.fail(listed.row, state.summary());
        ++report.failed;
      }
      if (options.on_counts) {
        options.on_counts(report);
      }
    }
  }
  if (!completed.empty()) {
    requests.clear_failed([&](const queue::Entry& failed) {
      const auto& t = failed.target;
      const auto it = completed.find({t.account, t.container, t.object, failed.operation});
      return it != completed.end() && failed.submitted < it->second;
    });
  }
  return report;
}

std::optional<DispatchLock>
DispatchLock::try_acquire(const std::filesystem::path& path)
{
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error(fmt::format("cannot open lock file {}: {}", path.string(), std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return std::nullopt;
    }
    throw Error(fmt::format("cannot lock {}: {}", path.string(), std::strerror(error)));
  }
  return DispatchLock(fd);
}

DispatchLock::DispatchLock(int fd)
  : m_fd(fd)
{
}

DispatchLock::DispatchLock(DispatchLock&& other) noexcept
  : m_fd(other.m_fd)
{
  other.m_fd = -1;
}

DispatchLock::~DispatchLock()
{
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

} // namespace hlm::dispatch
