#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/dispatch/fanout.hpp>
#include <hlm/dispatch/plan.hpp>
#include <hlm/dispatch/report.hpp>
#include <hlm/dispatch/settle.hpp>
#include <hlm/swift/http.hpp>
#include <hlm/util/clock.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::dispatch {

struct DispatchOptions
{
  Schedule schedule = Schedule::batched;
  // Called with the counts so far after every round and every entry
  // settled (for a progress display; not a log line).
  std::function<void(const DispatchReport&)> on_counts;
  // Several dispatchers split the queue by a stable hash of the entry name
  // (as Swift's object expirer does): this one takes entries whose hash mod
  // `processes` is `process`.
  int processes = 1;
  int process = 0;
  // What time it is, for which retries are due and when the next ones are.
  UnixClock clock = unix_seconds_now;
};

using Progress = std::function<void(std::string_view)>;

// The pending entries and list requests (as entries, ListedEntry::list
// set) this process owns, in arrival order: a snapshot; entries queued
// meanwhile wait for the next run.
std::vector<queue::ListedEntry> list_owned(queue::RequestQueue& requests,
                                           const DispatchOptions& options);

// The size of an object request's object (as its container row lists
// it), or nullopt when the container servers do not say.
using ObjectBytes = std::function<std::optional<std::uint64_t>(const queue::ListedEntry&)>;

// ObjectBytes by a direct listing of the object's container (its account's,
// through the queue's container ring and hash secret).
ObjectBytes object_bytes_from(swift::HttpClient& http, const queue::RequestQueue& requests);

// Why `group` (its ready `members`, indices into `pending`) waits for a
// bigger batch (the operation's BatchThreshold in hlm.conf), or nothing
// when it goes now: enough objects, or enough bytes (object requests
// sized by `object_bytes`, asked only when the objects are too few; list
// requests' objects unsized), its oldest request waited long enough, a
// member queued at --priority high or above, or a container request (its
// objects not counted before its listing: a batch of its own).
std::optional<std::string> held_for_batch(const Group& group,
                                          const std::vector<std::size_t>& members,
                                          const std::vector<queue::ListedEntry>& pending,
                                          const config::HlmConf& conf,
                                          std::int64_t now,
                                          const ObjectBytes& object_bytes);

// Drains the pending queue once: takes the pending entries (in arrival
// order), expands container entries into their objects (streamed from the
// container servers), and sends all objects of the same operation and
// policy to their nodes together, `conf.batch_size` objects per round,
// through `fanout` (with Schedule::fifo, each entry in its own rounds, in
// arrival order). An entry whose every replica succeeded is removed (with
// failed entries for the same target and operation submitted no later).
// Any failure (a replica, a node, the listing of its container, its ring)
// is one failed attempt: before `conf.max_attempts` of them, and while some
// failure is transient, the entry stays pending under the same id with the
// attempts so far, the reason and when to try again (retry_delay_after);
// the last one, or one whose failures are all permanent, moves it to the
// failed queue with the reason (which node, which objects, what the backend
// said). Entries whose next attempt is not due yet are left alone
// (deferred), and so is an entry of the other operation queued after one
// of those for an overlapping target, so that requests still take effect
// in arrival order. An entry that does not decode is parked in the failed
// queue; nothing stops the run but an unusable configuration or an
// unreachable queue. List requests (pending-hlm-lists) are worked with
// the entries, each as a unit with per-object outcomes (list_work.hpp).
// After the run, process 0 deletes list manifests no list names that are
// a day old. See plan.hpp, send.hpp and settle.hpp for the three parts.
DispatchReport dispatch_once(const config::HlmConf& conf,
                             swift::HttpClient& http,
                             const Fanout& fanout,
                             const DispatchOptions& options,
                             const Progress& progress);

} // namespace hlm::dispatch
