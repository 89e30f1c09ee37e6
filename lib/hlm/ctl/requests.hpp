#pragma once

#include <hlm/queue/queue.hpp>

#include <functional>
#include <optional>
#include <string>

namespace hlm::ctl {

struct RequestLine
{
  queue::Which which = queue::Which::pending;
  std::string id;
  queue::Entry entry;
  std::optional<std::string> reason; // failed entries
  queue::RetryState retry;           // pending entries: failed attempts so far
  // A list request (its entry's object is the list id): how far it came;
  // nullopt for other entries, and for a list row whose progress is unreadable.
  std::optional<queue::ListProgress> list = std::nullopt;
  bool is_list = false;
  // Pending requests: the priority its row asks for (queue::priority_of),
  // else its operation's default (without the aging a run adds).
  int priority = 0;
  // A recall's --days, and a release's expiry (restore expiry).
  std::optional<int> days = std::nullopt;
  std::optional<std::int64_t> release = std::nullopt;
};

// Whether list request `list` concerns `target`: as a container entry of
// its container would, and for an object query only when its manifest
// names the object (or cannot be read: it may).
bool list_concerns(queue::RequestQueue& requests,
                   const queue::ListedList& list,
                   const queue::Target& target);

// The pending entries, the pending list requests, then the failed entries
// that concern `target` (an object query matches its container's requests
// too, as in the seed; of a container's list requests, those whose
// manifest names the object, or cannot be read). Returns how many were
// reported.
std::size_t requests_for(queue::RequestQueue& requests,
                         const queue::Target& target,
                         const std::function<void(const RequestLine&)>& on_request);

} // namespace hlm::ctl
