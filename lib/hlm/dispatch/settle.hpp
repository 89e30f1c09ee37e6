#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/core/failure.hpp>
#include <hlm/dispatch/report.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/util/clock.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace hlm::dispatch {

// What went wrong for one entry in one attempt: its failures grouped by
// kind and node, so that a node that failed a thousand objects for one
// reason says it once. A group shows the message of its first failure and
// names up to k_objects_named of its objects; up to k_reasons_kept groups
// are kept (the others are counted, not shown).
class EntryFailures
{
public:
  static constexpr std::size_t k_reasons_kept = 3;
  static constexpr std::size_t k_objects_named = 5;

  // A failed object of a container entry, with its own failures.
  struct FailedObject;

  // A replica was sent (it failed or not; a failed one is also add()-ed).
  void
  add_replica()
  {
    ++m_replicas;
  }
  // A failure of the entry: of a replica of `object`, or (no object) of the
  // entry as a whole, such as its container's listing.
  void add(const Failure& failure, const std::string& object = {});

  bool
  failed() const
  {
    return m_failed > 0;
  }
  // Whether every failure is permanent: asking again gives the same answer.
  bool
  permanent() const
  {
    return m_failed > 0 && !m_transient;
  }
  // "N of M replicas failed; <message> (objects: a, b); <message>", without
  // the counts when no replica was sent.
  std::string summary() const;

  // For a container entry: keeps the failures of each failed object
  // (keep_object), up to `most` objects; 0 keeps none.
  void keep_objects(std::size_t most);
  bool
  keeps_objects() const
  {
    return m_keep_most > 0;
  }
  // One object's outcome (`failures`, its own), kept when objects are kept
  // and fewer than the most have been; the entry's own counts are add()-ed
  // apart.
  void keep_object(std::string object, EntryFailures failures);
  // Whether the entry can be settled object by object (Settler::settle):
  // objects are kept, some failed, no more than the most, and nothing
  // failed for the entry as a whole (its listing, its ring).
  bool by_object() const;
  // The failed objects kept, in the order they were kept.
  const std::vector<FailedObject>& failed_objects() const;

private:
  struct Reason
  {
    FailureKind kind;
    std::string node;
    std::string message;
    std::vector<std::string> objects;
  };

  std::size_t m_replicas = 0;
  std::size_t m_failed = 0; // failures, of replicas or of the entry as a whole
  bool m_transient = false; // some failure was transient
  bool m_whole = false;     // a failure of the entry as a whole
  std::vector<Reason> m_reasons;
  std::size_t m_keep_most = 0;
  bool m_kept_all = true; // no failed object was left out
  std::vector<FailedObject> m_objects;
};

struct EntryFailures::FailedObject
{
  std::string object; // the name in its container
  EntryFailures failures;
};

// What the on_complete hook (completion_hook.hpp) is told of a request
// that completed or finally failed: {"id", "operation", "target"
// ("account/container[/object]"), "policy_index", "submitted",
// "outcome": "completed" or "failed"}, and "reason" for a failure.
using Notify = std::function<void(nlohmann::json document)>;
nlohmann::json completion_document(const std::string& id,
                                   const queue::Entry& entry,
                                   std::string_view outcome);

// How long the attempt after `failed_attempts` (1 or more) failed ones
// waits: conf.retry_delay, doubled for each further attempt, at most
// conf.retry_delay_max.
std::chrono::seconds retry_delay_after(const config::HlmConf& conf, int failed_attempts);

// What becomes of an entry after an attempt.
enum class Verdict {
  complete, // every replica succeeded: removed from the queue
  retry,    // failed; pending again for another attempt
  fail,     // failed for the last time: moved to the failed queue
};

struct Settlement
{
  Verdict verdict = Verdict::complete;
  std::string reason;      // fail: the failed row's reason
  queue::RetryState retry; // retry: what the pending row says now
};

// Decides an attempt of an entry that had failed `attempts_before` times,
// at `now` (Unix seconds): complete without failures; retry, `retry_delay_after`
// from now, while attempts remain and some failure is transient; otherwise
// fail, with the summary, preceded by "after N attempts: " when there were
// several. An entry whose failures are all permanent fails at once.
Settlement decide(const EntryFailures& failures,
                  int attempts_before,
                  const config::HlmConf& conf,
                  std::int64_t now);

// Carries out decisions in the queue and counts them in a report: in the
// manner of ninja's Builder finishing its commands, one entry at a time as
// its attempt ends.
class Settler
{
public:
  using Say = std::function<void(const std::string&)>;

  // `requests`, `conf` and `report` must outlive the settler. `say` hears
  // of entries settled object by object; `notify` of each request
  // completed or failed (a container settled object by object: completed,
  // with "failed_objects": [{"object", "id", "reason", "final"}], final
  // when in the failed queue, else pending for another attempt, told of
  // again as a request of its own).
  Settler(queue::RequestQueue& requests,
          const config::HlmConf& conf,
          UnixClock clock,
          DispatchReport& report,
          Say say = {},
          Notify notify = {});

  // Parks an entry whose name does not decode in the failed queue (a list
  // request: a failed row named as its row, then its row removed; a row
  // that does not decode names no manifest).
  void park(const queue::ListedEntry& listed);
  // Settles a decoded pending entry after an attempt with `failures`:
  // removes it (complete), rewrites it with its attempts (retry; the next
  // one counted from now, not from the start of the run), or moves it to
  // the failed queue, writing the failed row first, so that a crash in
  // between leaves the entry in both queues, to be tried again, rather than
  // in neither.
  //
  // A container entry whose failures.by_object() is settled object by
  // object instead: each failed object becomes a request of its own,
  // encode_entry(Entry{the entry's submitted, operation, Target{account,
  // container, object}, policy}), decided as the entry would be (its
  // attempts so far, the object's failures): pending with the attempt
  // counted and the entry's copies, or failed with the reason. Then the
  // entry is removed as complete, its other objects done. The rows come
  // first: a crash in between, or a row that cannot be written, leaves the
  // entry to be settled whole as above (its objects tried again, those
  // with a row of their own twice, which changes nothing). Returns retry
  // when some object stays pending, else fail when some failed, so that
  // conflicting later entries wait as for the entry itself.
  Verdict settle(const queue::ListedEntry& listed, const EntryFailures& failures);
  // Removes the failed entries superseded by one that completed in this
  // run: same target and operation, submitted no later (the completed
  // request itself may be in the failed queue, from a run that stopped
  // between moving it there and removing it from pending), and for a
  // container request whose every object succeeded also the failed
  // requests of its objects (those a container request settled object by
  // object left). One listing of the failed queue.
  void clear_superseded();

private:
  Verdict settle_whole(const queue::ListedEntry& listed, const EntryFailures& failures);
  // false when a row could not be written (nothing else changed).
  bool settle_objects(const queue::ListedEntry& listed,
                      const EntryFailures& failures,
                      Verdict& verdict);
  // `every_object`: a container entry all of whose objects succeeded.
  void completed(const queue::Entry& entry, bool every_object);

  queue::RequestQueue& m_requests;
  const config::HlmConf& m_conf;
  UnixClock m_clock;
  DispatchReport& m_report;
  Say m_say;
  Notify m_notify;
  // (account, container, object, operation) → the latest submission that
  // completed in this run.
  std::map<std::tuple<std::string, std::string, std::string, Operation>, std::string> m_completed;
  // (account, container, operation) → the latest container request of
  // which every object succeeded in this run.
  std::map<std::tuple<std::string, std::string, Operation>, std::string> m_containers_done;
};

} // namespace hlm::dispatch
