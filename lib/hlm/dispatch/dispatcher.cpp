#include <hlm/dispatch/completion_hook.hpp>
#include <hlm/dispatch/dispatcher.hpp>
#include <hlm/dispatch/fault_point.hpp>
#include <hlm/dispatch/list_work.hpp>
#include <hlm/dispatch/restore_expiry.hpp>
#include <hlm/dispatch/run_marker.hpp>
#include <hlm/dispatch/send.hpp>
#include <hlm/queue/direct_container.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace hlm::dispatch {

std::vector<queue::ListedEntry>
list_owned(queue::RequestQueue& requests, const DispatchOptions& options)
{
  std::vector<queue::ListedEntry> pending;
  requests.for_each(queue::Which::pending, [&](const queue::ListedEntry& listed) {
    if (queue::owned_by(listed.row.name, options.processes, options.process)) {
      pending.push_back(listed);
    }
    return true;
  });
  // List requests join them as entries (ListedEntry::list set), with the
  // retry state a list holds when a container request's failed objects
  // spilled into it (Settler::settle): deferred until it is due.
  requests.for_each_list([&](const queue::ListedList& list) {
    if (queue::owned_by(list.row.name, options.processes, options.process)) {
      pending.push_back(queue::as_listed_entry(list));
      pending.back().retry = queue::retry_state_of(list.row.content_type);
    }
    return true;
  });
  sort_by_arrival(pending);
  return pending;
}

std::optional<std::string>
held_for_batch(const Group& group,
               const std::vector<std::size_t>& members,
               const std::vector<queue::ListedEntry>& pending,
               const config::HlmConf& conf,
               std::int64_t now,
               const ObjectBytes& object_bytes)
{
  const auto& threshold = group.operation == Operation::recall ? conf.recall_batch
                                                               : conf.migrate_batch;
  if (threshold.min_objects == 0 && threshold.min_bytes == 0) {
    return std::nullopt;
  }
  std::uint64_t objects = 0;
  std::int64_t oldest = now;
  for (const std::size_t i : members) {
    const auto& listed = pending[i];
    if (queue::priority_of(listed.row.content_type).value_or(0) >= queue::k_priority_high) {
      return std::nullopt;
    }
    if (listed.list) {
      objects += listed.list->count > listed.list->done ? listed.list->count - listed.list->done
                                                        : 1;
    } else if (listed.entry->target.object.empty()) {
      return std::nullopt;
    } else {
      ++objects;
    }
    oldest = std::min(oldest, submitted_seconds(listed.entry->submitted).value_or(now));
  }
  const auto waited = now - oldest;
  if (waited >= threshold.max_wait.count()
      || (threshold.min_objects > 0 && objects >= threshold.min_objects)) {
    return std::nullopt;
  }
  const std::string_view name = to_string(group.operation);
  std::string below;
  if (threshold.min_objects > 0) {
    below = fmt::format("{} below {}_min_objects {}",
                        counted(objects, "object", "objects"),
                        name,
                        threshold.min_objects);
  }
  if (threshold.min_bytes > 0) {
    // The object requests' sizes as their container rows list them; a
    // list request's objects are not sized.
    std::uint64_t bytes = 0;
    for (const std::size_t i : members) {
      if (!pending[i].list && object_bytes) {
        bytes += object_bytes(pending[i]).value_or(0);
      }
    }
    if (bytes >= threshold.min_bytes) {
      return std::nullopt;
    }
    below += fmt::format("{}{} bytes below {}_min_bytes {}",
                         below.empty() ? "" : " and ",
                         bytes,
                         name,
                         threshold.min_bytes);
  }
  return fmt::format("held {} (policy {}): {}, the oldest waited {} s of {}_max_wait {} s",
                     name,
                     group.policy,
                     below,
                     waited,
                     name,
                     threshold.max_wait.count());
}

ObjectBytes
object_bytes_from(swift::HttpClient& http, const queue::RequestQueue& requests)
{
  return [&http, &requests](const queue::ListedEntry& listed) -> std::optional<std::uint64_t> {
    const auto& target = listed.entry->target;
    try {
      queue::DirectContainerClient client(http,
                                          requests.container_ring(),
                                          requests.secret(),
                                          target.account);
      std::optional<std::uint64_t> bytes;
      client.list_rows(target.container, {target.object, 1}, [&](const queue::Row& row) {
        if (row.name == target.object) {
          bytes = row.bytes;
        }
        return false;
      });
      return bytes;
    } catch (const Error&) {
      return std::nullopt;
    }
  };
}

namespace {

// One run: the plan carried out group by group, each entry settled as its
// group ends.
class Run
{
public:
  Run(const config::HlmConf& conf,
      swift::HttpClient& http,
      const Fanout& fanout,
      queue::RequestQueue& requests,
      const DispatchOptions& options,
      const Progress& progress)
    : m_options(options),
      m_progress(progress),
      m_conf(conf),
      m_now(options.clock()),
      m_requests(requests),
      m_pending(list_owned(requests, options)),
      m_plan(m_pending, options.schedule, m_now, conf.retry_delay_max, conf.priority_aging),
      m_hook(make_hook(conf, sayer())),
      m_settler(requests, conf, options.clock, m_report, sayer(), notify()),
      m_sender(fanout, http, requests, conf.batch_size, conf.recall_copies),
      m_lists(requests, conf, options.clock, m_report, sayer(), notify()),
      m_rings(requests.swift_conf(), conf.swift_dir),
      m_bytes(object_bytes_from(http, requests)),
      m_failures(m_pending.size()),
      m_cancelled(m_pending.size(), false)
  {
    m_sender.set_still_pending([this](std::size_t i) { return still_pending(i); });
    m_report.entries = m_pending.size();
    // A container entry keeps its failed objects apart, to be settled
    // object by object, or beyond max_failed_objects through list
    // requests (Settler::settle).
    for (std::size_t i = 0; i < m_pending.size(); ++i) {
      const auto& listed = m_pending[i];
      if (listed.entry && !listed.list && listed.entry->target.object.empty()) {
        m_failures[i].keep_objects(conf.max_failed_objects);
      }
    }
  }

  DispatchReport
  run()
  {
    for (const std::size_t i : m_plan.undecodable()) {
      m_settler.park(m_pending[i]);
      say(fmt::format("parked undecodable entry: {}", m_pending[i].decode_error));
    }
    m_report.deferred = m_plan.deferred().size();
    if (m_report.deferred > 0) {
      say(fmt::format("{} for a later run (next attempt not due yet)",
                      m_report.deferred == 1 ? std::string("1 entry waits")
                                             : fmt::format("{} entries wait", m_report.deferred)));
    }
    count();
    for (const Group& group : m_plan.groups()) {
      run_group(group);
    }
    m_settler.clear_superseded();
    if (m_hook) {
      m_hook->finish();
    }
    return m_report;
  }

private:
  void
  run_group(const Group& group)
  {
    // Behind an entry that failed earlier in this run and will be retried:
    // deferred (conflicting entries are in later groups).
    const auto members = m_plan.ready(group);
    m_report.deferred = m_plan.deferred().size();
    if (members.empty()) {
      return;
    }
    if (const auto why = held_for_batch(group, members, m_pending, m_conf, m_now, m_bytes)) {
      for (const std::size_t i : members) {
        m_plan.defer(i);
      }
      m_report.deferred = m_plan.deferred().size();
      say(*why);
      count();
      return;
    }
    const PolicyRing& ring = m_rings.get(group.policy);
    const auto [sent_members, riders] = split_riders(members);
    HandlerWork work(group.operation);
    // Why the group is not sent: its ring, or a restore expiry not stored.
    std::optional<Failure> not_sent = ring.failure;
    if (ring.ring) {
      not_sent = prepare_restore(group, sent_members, work);
    }
    if (!not_sent) {
      std::size_t sent = 0; // this group's, not the run's
      m_sender.send(
        work,
        group.policy,
        *ring.ring,
        m_pending,
        sent_members,
        m_failures,
        [&](std::size_t objects) {
          m_report.objects += objects;
          sent += objects;
          count();
          say(fmt::format("{} (policy {}): {} sent to nodes",
                          to_string(group.operation),
                          group.policy,
                          counted(sent, "object", "objects")));
        },
        &m_lists);
    }
    for (const auto& [rider, leader] : riders) {
      m_failures[rider] = m_failures[leader];
    }
    for (const std::size_t i : members) {
      if (m_pending[i].list) {
        settle_list(i, not_sent);
        continue;
      }
      if (not_sent) {
        m_failures[i].add(*not_sent);
      }
      // Cancelled meanwhile: a failure is not written back (a success
      // removes nothing that is there).
      if (m_cancelled[i] || (m_failures[i].failed() && !still_pending(i))) {
        ++m_report.cancelled;
        say(fmt::format("{} was cancelled while this run worked it: its outcome is not recorded",
                        printable(m_pending[i].row.name)));
        count();
        continue;
      }
      if (m_settler.settle(m_pending[i], m_failures[i]) == Verdict::retry) {
        m_plan.hold(i);
      }
      count();
    }
  }

  // The handler's fields for a recall with --days (the members' expiry,
  // their releases stored first: restore_expiry.hpp) or a release; a
  // failure when the releases cannot be stored (the group is not sent).
  std::optional<Failure>
  prepare_restore(const Group& group, const std::vector<std::size_t>& members, HandlerWork& work)
  {
    if (group.release) {
      work.release_before = group.release;
      return std::nullopt;
    }
    if (!group.days) {
      return std::nullopt;
    }
    const int days = allowed_days(*group.days, m_conf);
    const std::int64_t expiry = restore_expiry(m_now, days);
    std::set<std::string> scheduled;
    try {
      for (const std::size_t i : members) {
        const queue::Entry covered = covered_by(m_pending[i]);
        if (scheduled.insert(release_name(covered, expiry)).second) {
          schedule_release(m_requests, covered, expiry);
        }
      }
    } catch (const Error& e) {
      return make_failure(FailureKind::unreachable,
                          fmt::format("cannot store the restore expiry: {}", e.what()));
    }
    work.restore_until = expiry;
    say(fmt::format("recall (policy {}): copies stay on disk until {} (--days {})",
                    group.policy,
                    expiry_text(expiry),
                    days));
    return std::nullopt;
  }

  // The same request queued twice (identical submits that raced): the
  // first is sent, the others ride on it and are settled with its outcome.
  // Returns the members to send, and (rider, the one it rides on).
  std::pair<std::vector<std::size_t>, std::vector<std::pair<std::size_t, std::size_t>>>
  split_riders(const std::vector<std::size_t>& members) const
  {
    std::vector<std::size_t> sent_members;
    std::vector<std::pair<std::size_t, std::size_t>> riders;
    std::map<std::tuple<std::string, std::string, std::string, std::optional<std::size_t>>,
             std::size_t>
      first;
    for (const std::size_t i : members) {
      const auto& listed = m_pending[i];
      if (listed.list) {
        sent_members.push_back(i);
        continue;
      }
      const auto& target = listed.entry->target;
      const auto [it, inserted] = first.try_emplace({target.account,
                                                     target.container,
                                                     target.object,
                                                     queue::copies_of(listed.row.content_type)},
                                                    i);
      if (inserted) {
        sent_members.push_back(i);
      } else {
        riders.emplace_back(i, it->second);
      }
    }
    return {std::move(sent_members), std::move(riders)};
  }

  void
  settle_list(std::size_t i, const std::optional<Failure>& ring_failure)
  {
    if (ring_failure) {
      m_lists.not_sent(i, m_pending[i], ring_failure->message);
    }
    if (m_lists.finish(i)) {
      m_plan.hold(i);
    }
    count();
  }

  // Whether pending entry i's row is still there (hlmctl cancel removes
  // it); false is remembered. A queue that cannot say counts as "yes".
  bool
  still_pending(std::size_t i)
  {
    if (m_cancelled[i]) {
      return false;
    }
    bool found = false;
    try {
      found = m_requests.find(queue::Which::pending, m_pending[i].row.name).has_value();
    } catch (const Error&) {
      return true;
    }
    m_cancelled[i] = !found;
    return found;
  }

  static std::unique_ptr<CompletionHook>
  make_hook(const config::HlmConf& conf, CompletionHook::Say say)
  {
    if (conf.on_complete.empty()) {
      return nullptr;
    }
    return std::make_unique<CompletionHook>(conf.on_complete,
                                            conf.on_complete_timeout,
                                            std::move(say));
  }

  // say() as a callback.
  std::function<void(const std::string&)>
  sayer()
  {
    return [this](const std::string& message) { say(message); };
  }

  Notify
  notify()
  {
    if (!m_hook) {
      return {};
    }
    return [this](nlohmann::json document) { m_hook->notify(std::move(document)); };
  }

  void
  say(const std::string& message) const
  {
    if (m_progress) {
      m_progress(message);
    }
  }

  void
  count() const
  {
    if (m_options.on_counts) {
      m_options.on_counts(m_report);
    }
  }

  const DispatchOptions& m_options;
  const Progress& m_progress;
  const config::HlmConf& m_conf;
  std::int64_t m_now; // when the run started (Unix seconds)
  queue::RequestQueue& m_requests;
  DispatchReport m_report;
  const std::vector<queue::ListedEntry> m_pending;
  Plan m_plan;
  std::unique_ptr<CompletionHook> m_hook;
  Settler m_settler;
  Sender m_sender;
  ListWork m_lists;
  PolicyRings m_rings;
  ObjectBytes m_bytes;
  std::vector<EntryFailures> m_failures; // per pending entry
  std::vector<bool> m_cancelled;         // per pending entry: seen removed
};

// How old a manifest no list request names must be before a run deletes
// it: a submission stores the manifest before the list's row.
constexpr std::chrono::hours k_orphan_manifest_age{24};

// One step of a run's housekeeping, in the first of split dispatchers
// only: `step` returns what to say (empty: nothing); a failure is said as
// "cannot <what>: <reason>", and the next run tries again.
void
housekeep(const DispatchOptions& options,
          const Progress& progress,
          std::string_view what,
          const std::function<std::string()>& step)
{
  if (options.process != 0) {
    return;
  }
  std::string said;
  try {
    said = step();
  } catch (const Error& e) {
    said = fmt::format("cannot {}: {}", what, e.what());
  }
  if (!said.empty() && progress) {
    progress(said);
  }
}

// Deletes orphaned list manifests (RequestQueue::sweep_manifests).
void
sweep_manifests(queue::RequestQueue& requests,
                const DispatchOptions& options,
                const Progress& progress)
{
  housekeep(options, progress, "sweep list manifests", [&] {
    const std::size_t swept = requests.sweep_manifests(k_orphan_manifest_age);
    return swept == 0 ? std::string()
                      : fmt::format("deleted {} that no list request names (older than a day)",
                                    counted(swept, "list manifest", "list manifests"));
  });
}

// Queues the releases of restore expiries due now (restore_expiry.hpp),
// before the run lists the queue, so that the run works them.
void
queue_releases(queue::RequestQueue& requests,
               const DispatchOptions& options,
               const Progress& progress)
{
  housekeep(options, progress, "queue the releases of restore expiries due now", [&] {
    const std::size_t queued = queue_due_releases(requests, options.clock());
    return queued == 0 ? std::string()
                       : fmt::format("queued {} of restore expiries due now",
                                     counted(queued, "release", "releases"));
  });
}

} // namespace

DispatchReport
dispatch_once(const config::HlmConf& conf,
              swift::HttpClient& http,
              const Fanout& fanout,
              const DispatchOptions& options,
              const Progress& progress)
{
  queue::RequestQueue requests(http, conf.swift_dir);
  queue_releases(requests, options, progress);
  // Marked before the queue is listed: a request cancelled after this may
  // be in the run's snapshot, and hlmctl cancel says so.
  const RunMark mark(requests, options.process, options.processes);
  Run run(conf, http, fanout, requests, options, progress);
  fault_point("listed");
  const DispatchReport report = run.run();
  sweep_manifests(requests, options, progress);
  return report;
}

} // namespace hlm::dispatch
