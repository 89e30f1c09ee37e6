#pragma once

#include <cstddef>
#include <string>

namespace hlm::dispatch {

// What one run did with the pending entries.
struct DispatchReport
{
  std::size_t entries = 0;     // pending entries this process owned
  std::size_t completed = 0;   // removed from pending: every replica succeeded
  std::size_t failed = 0;      // moved to the failed queue with a reason
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

  bool operator==(const DispatchReport&) const = default;
};

} // namespace hlm::dispatch
