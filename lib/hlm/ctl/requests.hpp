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
};

// The pending, then the failed, entries that concern `target` (an object
// query matches its container's requests too, as in the seed). Returns how
// many were reported.
std::size_t requests_for(queue::RequestQueue& requests,
                         const queue::Target& target,
                         const std::function<void(const RequestLine&)>& on_request);

} // namespace hlm::ctl
