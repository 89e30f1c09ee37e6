#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/dispatch/fanout.hpp>
#include <hlm/swift/http.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>

namespace hlm::dispatch {

// How pending entries reach the nodes.
enum class Schedule {
  // All entries of one operation and policy together, `batch_size` objects
  // per round: a backend sees many requests as one list and can order it
  // (by cartridge and position on tape).
  batched,
  // One entry at a time, in arrival order: the seed's behaviour, kept so
  // the difference can be measured.
  fifo,
};

struct DispatchReport;

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
};

struct DispatchReport
{
  std::size_t entries = 0;     // pending entries this process owned
  std::size_t completed = 0;   // removed from pending: every replica succeeded
  std::size_t failed = 0;      // moved to the failed queue with a reason (last attempt)
  std::size_t undecodable = 0; // parked in the failed queue
  std::size_t retrying = 0;    // this attempt failed; left pending for a later one
  std::size_t deferred = 0;    // left alone: next attempt not due yet, or behind one
  std::size_t objects = 0;     // objects sent to nodes

  // Entries this run is done with, whatever became of them.
  std::size_t
  settled() const
  {
    return completed + failed + undecodable + retrying + deferred;
  }
};

using Progress = std::function<void(std::string_view)>;

// Drains the pending queue once: takes the pending entries (in name order,
// which is submission order), expands container entries into their objects
// (streamed from the container servers), and sends all objects of the same
// operation and policy to their nodes together, `conf.batch_size` objects
// per round, through `fanout` (with Schedule::fifo, each entry in its own
// rounds, in arrival order). An entry whose every replica succeeded is
// removed (with failed entries for the same target and operation submitted
// no later). Any failure (a replica, a node, the listing of its container,
// its ring) is one failed attempt: before `conf.max_attempts` of them, the
// entry stays pending under the same id with the attempts so far, the
// reason and when to try again (retry_delay_after); the last one moves it to
// the failed queue with the reason (which node, which objects, what the
// backend said). Entries whose next attempt is not due yet are left alone
// (deferred), and so is an entry of the other operation queued after one
// of those for an overlapping target, so that requests still take effect
// in arrival order. An entry that does not decode is parked in the failed
// queue; nothing stops the run but an unusable configuration or an
// unreachable queue.
DispatchReport dispatch_once(const config::HlmConf& conf,
                             swift::HttpClient& http,
                             const Fanout& fanout,
                             const DispatchOptions& options,
                             const Progress& progress);

// How long the attempt after `failed_attempts` (1 or more) failed ones
// waits: conf.retry_delay, doubled for each further attempt, at most
// conf.retry_delay_max.
std::chrono::seconds retry_delay_after(const config::HlmConf& conf, int failed_attempts);

} // namespace hlm::dispatch
