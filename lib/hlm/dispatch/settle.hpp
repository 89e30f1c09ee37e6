#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/core/failure.hpp>
#include <hlm/dispatch/report.hpp>
#include <hlm/queue/list_manifest.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/util/clock.hpp>
#include <hlm/util/temp_file.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
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
  // The failed objects of a container entry beyond those kept in memory.
  class Spill;

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
  // (keep_object), up to `most` objects in memory; beyond that every
  // failed object (those kept so far first) goes to a Spill instead, its
  // name, whether its failures are all permanent and their summary, in a
  // temporary file, so that memory stays bounded however many fail.
  void keep_objects(std::size_t most);
  bool
  keeps_objects() const
  {
    return m_keeping;
  }
  // One object's outcome (`failures`, its own); the entry's own counts are
  // add()-ed apart. A spill that cannot be written (the temporary file)
  // keeps nothing more: the entry is then settled whole.
  void keep_object(std::string object, EntryFailures failures);
  // Whether the entry can be settled object by object (Settler::settle):
  // objects are kept, some failed, no more than the most, and nothing
  // failed for the entry as a whole (its listing, its ring).
  bool by_object() const;
  // The failed objects kept, in the order they were kept (none once they
  // spilled).
  const std::vector<FailedObject>& failed_objects() const;
  // Whether the entry can be settled through its spill (Settler::settle):
  // more failed objects than the most, every one of them in the spill,
  // and nothing failed for the entry as a whole.
  bool spilled() const;
  // The spill, when the failed objects went there; shared by copies.
  const std::shared_ptr<Spill>&
  spill() const
  {
    return m_spill;
  }

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
  bool m_keeping = false; // keep_objects() was called
  std::size_t m_keep_most = 0;
  bool m_kept_all = true; // no failed object was left out
  std::vector<FailedObject> m_objects;
  std::shared_ptr<Spill> m_spill;
};

struct EntryFailures::FailedObject
{
  std::string object; // the name in its container
  EntryFailures failures;
};

// Failed objects in an unlinked temporary file, read back in the order
// they were added, as often as asked (entries that ride on another share
// its spill). Constant memory.
class EntryFailures::Spill
{
public:
  struct Object
  {
    std::string name;
    bool permanent = false; // every failure of it is permanent
    std::string reason;     // its failures' summary
  };

  // Throws hlm::Error when no temporary file can be made.
  Spill();
  // Throws hlm::Error when the file cannot be written (disk full).
  void add(const Object& object);
  std::uint64_t
  size() const
  {
    return m_count;
  }
  // Each object, in order. Throws hlm::Error when the file cannot be read.
  void for_each(const std::function<void(const Object&)>& on_object) const;

private:
  TemporaryFile m_file; // unlinked: nothing is left behind
  std::uint64_t m_count = 0;
  mutable bool m_read = false; // the position is not at the end
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

// The id of the row of its own that a container or list request `request`
// leaves for one of its failed objects: `request`'s submission time,
// operation, account, container and policy, with `object` as the object.
std::string object_row_name(const queue::Entry& request, std::string object);

// Decides an attempt of an entry that had failed `attempts_before` times,
// at `now` (Unix seconds): complete without failures; retry, `retry_delay_after`
// from now, while attempts remain and some failure is transient; otherwise
// fail, with the summary, preceded by "after N attempts: " when there were
// several. An entry whose failures are all permanent fails at once.
Settlement decide(const EntryFailures& failures,
                  int attempts_before,
                  const config::HlmConf& conf,
                  std::int64_t now);

// Writes failed objects to be retried as list requests
// (queue/list_manifest.hpp) of `entry`'s operation, account, container and
// policy, submitted as `entry` was, in pieces: a manifest is held in memory
// up to queue::k_max_manifest_bytes, then queued, and the next one started.
// Each list's row carries the copies, priority and days of
// `row_content_type` (the row the objects come from) and `retry` (the
// retry state of a failed attempt), so that it waits for its next attempt
// as a retried entry does. Neither copied nor moved (the manifest's sink
// is this object).
class ListSpiller
{
public:
  ListSpiller(queue::RequestQueue& requests,
              queue::Entry entry,
              std::string row_content_type,
              queue::RetryState retry);
  ListSpiller(const ListSpiller&) = delete;
  ListSpiller& operator=(const ListSpiller&) = delete;

  // Adds an object's name; another list is started when the manifest would
  // grow past its most, or when the name is not after the one before (a
  // manifest is sorted). Returns the id of the list queued to make room,
  // if one was. hlm::InputError (nothing added) for a name no manifest
  // can hold; hlm::Error when a list cannot be queued.
  std::string add(const std::string& name);
  // Queues the list being written, if it holds a name; returns its id
  // (empty when none was queued). hlm::Error when it cannot be queued
  // (what submit_list and a row write throw); its names are then lost to
  // this spiller, and the caller must keep its source.
  std::string flush();

  // Names added, in all lists.
  std::uint64_t
  objects() const
  {
    return m_objects;
  }
  // Lists queued.
  std::size_t
  lists() const
  {
    return m_lists;
  }
  // The ids of the first lists queued (up to Settler::k_hook_objects).
  const std::vector<std::string>&
  ids() const
  {
    return m_ids;
  }

private:
  queue::RequestQueue& m_requests;
  queue::Entry m_entry;
  std::string m_row_content_type;
  queue::RetryState m_retry;
  queue::ListHeader m_header;
  std::unique_ptr<queue::ManifestWriter> m_writer;
  std::string m_manifest;
  std::string m_last;
  std::uint64_t m_objects = 0;
  std::size_t m_lists = 0;
  std::vector<std::string> m_ids;
};

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
  // again as a request of its own; a container whose failed objects
  // spilled: "failed_objects" names only the first k_hook_objects, each
  // object bound for a list with the id of its list request, and
  // "failed_objects_count" says how many failed in all, "lists" the ids of
  // the list requests written, also at most k_hook_objects).
  static constexpr std::size_t k_hook_objects = 100;
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
  //
  // A container entry whose failures.spilled() (more failed objects than
  // max_failed_objects) is settled through its spill instead, streamed:
  // the objects whose failures are final (all permanent, or the entry's
  // attempts used up, as decide() says) get their own failed rows as
  // above; the others go, in their order, into manifests of list requests
  // (queue/list_manifest.hpp) of the entry's operation, container and
  // policy, submitted as the entry was, each at most
  // queue::k_max_manifest_bytes (another list is started beyond, or when
  // a name is not after the one before), whose rows carry the entry's
  // copies, priority and days and its retry state as a failed attempt
  // (attempts counted, retry_after, the entry's summary as reason), so
  // that they wait for their turn as a retried entry does. Manifest, then
  // list row, then the next; the entry is removed last, so that a crash
  // in between leaves it pending, to be worked again whole (the lists
  // written stay: their objects are worked twice, which changes nothing).
  // A row or list that cannot be written, or an entry with a release
  // parameter (see settle.cpp), is settled whole.
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
  // The same for an entry whose failed objects spilled.
  bool settle_spilled(const queue::ListedEntry& listed,
                      const EntryFailures& failures,
                      Verdict& verdict);
  // `every_object`: a container entry all of whose objects succeeded.
  void completed(const queue::Entry& entry, bool every_object);
  Verdict settled_by_object(const queue::ListedEntry& listed,
                            const std::string& where,
                            std::uint64_t failed,
                            std::uint64_t to_retry,
                            std::uint64_t to_failed,
                            nlohmann::json hook);

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
