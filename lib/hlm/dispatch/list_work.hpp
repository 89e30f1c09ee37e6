#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/dispatch/fanout.hpp>
#include <hlm/dispatch/report.hpp>
#include <hlm/dispatch/settle.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/util/clock.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::dispatch {

// Works the list requests (queue/list_manifest.hpp) of a run, each as a
// unit with per-object outcomes. A list is planned like a container entry
// of its operation and policy (queue::ListedEntry::list set); the Sender
// streams its manifest's names with the group's other objects (read()),
// skipping the `done` ones its row says (a run that stopped resumes from
// its progress), and hands each object's outcome back here (object()), in
// order:
// * every replica succeeded: the object counts done;
// * otherwise the object is written at once as a per-object row sharing
//   the list row's prefix, encode_entry(Entry{the list's submitted,
//   operation, Target{account, container, object}, policy}): in
//   failed-hlm-requests with the reason when its failures are all permanent
//   or its attempts are used up (decide() with the attempts the list's row
//   counts: none for a submitted list, those of the container request
//   whose failed objects spilled into it), else in pending-hlm-requests
//   for another attempt, as a failed attempt of its own (attempts counted,
//   retry_after, reason; the list's copies kept), from where the ordinary
//   retries take over. It counts done and failed. Beyond
//   conf.max_failed_objects such pending rows for a list in one run, the
//   further objects to be retried go to list requests of their own instead
//   (ListSpiller, with the retry state a pending row would have had), as a
//   container request's do (Settler::settle), so that a list whose node
//   is still lost does not become a row per object. Such a list is queued
//   before each progress save and at the end, so that a saved progress
//   never counts an object that is in no queue; one that cannot be queued
//   stops the list as a row that cannot be written does, and no progress
//   is saved from then on (the next run works those objects again).
// After every `batch_size` objects of a list its row's progress is
// rewritten (the rows of those objects' failures written before it); at
// the end (finish()) the list is removed, row then manifest. A manifest
// ListWork cannot read (the object servers cannot say) leaves the list
// pending untouched; one refused (missing, corrupt, about another target)
// fails the list as a whole: a failed row named as the list row, with the
// reason. A failed object whose row cannot be written (no majority) stops
// the list where it is: its progress stays before that object, which the
// next run works again, and so are those after it; the run goes on with
// the rest. Memory per list is constant; the manifest (at most
// queue::k_max_manifest_bytes) is held while it is read. A list whose row
// is gone (hlmctl cancel), seen at a progress save or before a failed
// object's row is written, takes no more objects and writes nothing more;
// its manifest is removed and it counts as cancelled.
class ListWork
{
public:
  using Say = std::function<void(const std::string&)>;

  // `requests`, `conf` and `report` must outlive this object. `notify`
  // hears of each list completed (with "objects" and "objects_failed") or
  // failed as a whole (with "reason").
  ListWork(queue::RequestQueue& requests,
           const config::HlmConf& conf,
           UnixClock clock,
           DispatchReport& report,
           Say say,
           Notify notify = {});

  // Hands `add` the "/account/container/name" paths of the names of list
  // request `listed` (pending entry `index`) not done yet, in order.
  void read(std::size_t index,
            const queue::ListedEntry& listed,
            const std::function<void(std::string path)>& add);
  // The outcome of the next object of list `index`.
  void object(std::size_t index,
              const std::string& path,
              const std::vector<ReplicaOutcome>& replicas);
  // List `index` (`listed`) was not sent at all: it stays pending.
  void not_sent(std::size_t index, const queue::ListedEntry& listed, std::string why);
  // Ends list `index` after its group was sent: removes it, fails it, or
  // leaves it pending, and counts it in the report (see hlm-dispatch(8)):
  // completed when every object succeeded; failed when it was refused, or
  // some of its objects went to the failed queue (or failed in an earlier
  // run); retrying when it stays pending, or its failed objects all wait
  // for another attempt. Returns whether something of it stays
  // pending (the list, or objects of it), so that later conflicting
  // entries wait (Plan::hold).
  bool finish(std::size_t index);

private:
  struct State
  {
    queue::ListedList list;
    std::string base;                        // "/account/container/"
    queue::ListProgress saved;               // what the row says
    queue::ListProgress progress;            // objects passed on so far, `done` from saved.done
    std::uint64_t to_failed = 0;             // objects of this run moved to the failed queue
    std::uint64_t to_retry = 0;              // objects of this run left pending for another attempt
    int attempts = 0;                        // failed attempts its row counts
    std::uint64_t retry_rows = 0;            // pending per-object rows written in this run
    std::unique_ptr<ListSpiller> spill;      // objects to retry beyond max_failed_objects
    bool spill_lost = false;                 // a spilled list could not be queued
    std::optional<std::string> refused;      // the manifest was refused: why
    std::optional<std::string> left_pending; // not worked on (further): why
    // hlmctl cancel removed its row: no more objects, nothing written back.
    bool cancelled = false;
    bool checked = false; // its row was seen since the last progress saved
  };

  // Whether the list's row is still pending, asked once between two
  // progress saves before a row is written for it; false marks it
  // cancelled.
  bool still_pending(State& state);

  // Writes the row of a failed object; false when it could not be written.
  bool record_object(State& state, std::string_view object, const EntryFailures& failures);
  // Adds a failed object to be retried to the list's spill; false when a
  // spilled list could not be queued.
  bool spill_object(State& state, std::string_view object, const Settlement& settlement);
  // Queues the list the spill is writing, if any; false when it cannot be
  // (now or before: the list then stays pending, its progress unsaved).
  bool flush_spill(State& state);
  void lose_spill(State& state, const Error& error);
  void save_progress(State& state);
  bool end_list(State& state);
  bool end_worked(State& state);

  queue::RequestQueue& m_requests;
  const config::HlmConf& m_conf;
  UnixClock m_clock;
  DispatchReport& m_report;
  Say m_say;
  Notify m_notify;
  std::map<std::size_t, State> m_lists; // by pending index
};

} // namespace hlm::dispatch
