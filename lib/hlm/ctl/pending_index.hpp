#pragma once

#include <hlm/queue/entry.hpp>
#include <hlm/queue/queue.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hlm::ctl {

// The requests pending now, for finding one that is the same as a request
// about to be queued: same operation, target and storage policy, and for a
// recall the same copies and restore days parameters (or none), with no request of the other
// operation for an overlapping target (the object, its container, an
// object of the container) queued after it: a recall queued behind a
// migrate behind a recall is a request of its own, as arrival order wants.
// One listing of the pending queue (requests and list requests) at the
// first find(), 48 bytes kept per row (hashes and submission times), so a
// queue of millions of rows is read in bounded memory. A hash that matches
// is confirmed by one listing of the rows named as the candidate. Rows not
// in hlm's own name form (SwiftHLM's "--" entries) and list requests are
// never found as the same (a list request counts as its whole container
// for overlaps), nor is a release (hlm-dispatch's migrate at a restore
// expiry).
class PendingIndex
{
public:
  // `requests` must outlive the index.
  explicit PendingIndex(queue::RequestQueue& requests);

  // The id of the newest pending request like `entry` (its submission time
  // aside) with `copies` and `days`, if no request of the other operation
  // for an overlapping target was queued after it.
  std::optional<std::string> find(const queue::Entry& entry,
                                  std::optional<std::size_t> copies,
                                  std::optional<int> days = std::nullopt);
  // find() with the request's row as listed.
  std::optional<queue::ListedEntry> find_listed(const queue::Entry& entry,
                                                std::optional<std::size_t> copies,
                                                std::optional<int> days = std::nullopt);

private:
  void load();

  queue::RequestQueue& m_requests;
  bool m_loaded = false;
  // (hash of what makes a request the same, submission time as a number),
  // sorted.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> m_rows;
  // (hash of an operation and a target, or of an operation and "any object
  // of a container"), the latest submission time of such rows, sorted.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> m_latest;
};

} // namespace hlm::ctl
