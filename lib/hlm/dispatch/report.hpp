#pragma once

#include <nlohmann/json.hpp>

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
  // Removed (hlmctl cancel) while this run worked them: nothing of their
  // outcome written back.
  std::size_t cancelled = 0;

  // Entries this run is done with, whatever became of them.
  std::size_t
  settled() const
  {
    return completed + failed + undecodable + retrying + deferred + cancelled;
  }

  bool operator==(const DispatchReport&) const = default;
};

// Whether the run needs a look: an entry failed, could not be decoded, or
// failed an attempt that will be retried (worth a look before the last).
bool needs_attention(const DispatchReport& report);

// The exit status of a run: k_exit_partial when it needs attention, else
// k_exit_success.
int exit_status_of(const DispatchReport& report);

// "N entries: C completed, F failed, U undecodable, R to retry, D
// deferred[, X cancelled]; O objects", the report line of hlm-dispatch(8).
std::string to_text(const DispatchReport& report);

// {"entries": N, "completed": C, ...}: every count under its field's name.
nlohmann::json to_json(const DispatchReport& report);

} // namespace hlm::dispatch
