#pragma once

#include <hlm/queue/queue.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hlm::ctl {

struct WaitOptions
{
  std::optional<std::chrono::milliseconds> timeout; // none: wait for ever
  std::chrono::milliseconds interval{2'000};        // between queue listings
};

// Where the requests waited for stand after one look at the queue.
struct WaitProgress
{
  std::size_t total = 0;
  std::size_t pending = 0;
  std::size_t retrying = 0; // of the pending: an attempt failed, another will come
  std::size_t failed = 0;
  std::chrono::milliseconds elapsed{0};
  // Of the pending list requests: their objects, and those worked so far.
  std::uint64_t list_objects = 0;
  std::uint64_t list_objects_done = 0;
};

struct WaitResult
{
  std::size_t done = 0;                                    // left the pending queue and not failed
  std::vector<std::pair<std::string, std::string>> failed; // id, reason
  std::vector<std::string> pending;                        // still pending at the timeout
  bool timed_out = false;
  bool interrupted = false;
};

// Where one request stands in one look at the queue.
struct QueuedRequest
{
  std::string id;
  queue::Which which = queue::Which::pending;
  std::string reason;      // failed: why
  queue::RetryState retry; // pending: failed attempts so far
  // A pending list request: how far it came (nullopt otherwise, or unreadable).
  std::optional<queue::ListProgress> list = std::nullopt;
};

// One look: those of `ids` that are pending, and those of the rest that are
// failed (a request a crashed run left in both is pending). An id in
// neither left the queue done.
using LookUp = std::function<std::vector<QueuedRequest>(const std::set<std::string>& ids)>;

// The look at `requests` itself.
std::vector<QueuedRequest> look_up(queue::RequestQueue& requests, const std::set<std::string>& ids);

// Polls the queue until none of `ids` (request ids as submit returns them)
// is pending, the timeout passes, or `interrupted` returns true. A request
// that left the pending queue either completed or failed; failed ones are
// found in the failed queue with their reason. A request whose attempt
// failed but that hlm-dispatch will try again is still pending, and waited
// for (even when a crashed run left it in the failed queue too). `progress`
// is called after every look. Throws what the queue throws when it cannot
// be listed.
WaitResult wait_for(const LookUp& look,
                    const std::vector<std::string>& ids,
                    const WaitOptions& options,
                    const std::function<void(const WaitProgress&)>& progress,
                    const std::function<bool()>& interrupted);

// The ids of the pending requests that concern `target` now (an object's
// container requests included, and its container's list requests, as
// hlmctl requests shows them).
std::vector<std::string> pending_for(queue::RequestQueue& requests, const queue::Target& target);

} // namespace hlm::ctl
