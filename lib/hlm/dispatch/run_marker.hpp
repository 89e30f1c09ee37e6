#pragma once

#include <hlm/queue/queue.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Which hlm-dispatch runs are going on, for hlmctl cancel to say whether a
// run may be working a request it removes (hlmctl(1), cancel): each run
// marks itself with a row of the queue account's k_runs_container, named
// by its process ("<process>-of-<processes>"), saying when it started and
// on which host, and removes it when it ends. A run that dies leaves its
// row until the next run of the same process number replaces it, so a
// marker means "may be running", never less.
namespace hlm::dispatch {

inline constexpr std::string_view k_runs_container = "hlm-dispatch-runs";

struct RunMarker
{
  std::string name;
  std::int64_t started = 0; // Unix seconds (the real clock)
  std::string host;
};

// The marker of one run, written by the constructor and removed by the
// destructor. A marker that cannot be written or removed is not an error
// of the run (it only informs hlmctl cancel): the failure is ignored.
class RunMark
{
public:
  RunMark(queue::RequestQueue& requests, int process, int processes);
  ~RunMark();
  RunMark(const RunMark&) = delete;
  RunMark& operator=(const RunMark&) = delete;

private:
  queue::RequestQueue& m_requests;
  std::string m_name;
  bool m_written = false;
};

// The runs marked now. Throws hlm::TransportError when the container
// servers cannot say.
std::vector<RunMarker> running(queue::RequestQueue& requests);

} // namespace hlm::dispatch
