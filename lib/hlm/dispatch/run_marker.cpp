#include <hlm/core/swift_timestamp.hpp>
#include <hlm/dispatch/run_marker.hpp>
#include <hlm/queue/content_type.hpp>
#include <hlm/util/clock.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <array>
#include <string>

namespace hlm::dispatch {

namespace {

constexpr std::string_view k_type = "application/x-hlm-dispatch-run";

// The host name, cut to what a content-type parameter carries as is.
std::string
host_name()
{
  std::array<char, 256> buffer{};
  if (::gethostname(buffer.data(), buffer.size() - 1) != 0) {
    return "unknown";
  }
  std::string name;
  for (const char* c = buffer.data(); *c != '\0' && name.size() < 64; ++c) {
    const bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
                       || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.';
    name += plain ? *c : '_';
  }
  return name.empty() ? std::string("unknown") : name;
}

} // namespace

RunMark::RunMark(queue::RequestQueue& requests, int process, int processes)
  : m_requests(requests),
    m_name(fmt::format("{}-of-{}", process, processes < 1 ? 1 : processes))
{
  try {
    m_requests.direct().put_row_quorum(
      k_runs_container,
      m_name,
      SwiftTimestamp::now(),
      fmt::format("{}; started={}; host={}", k_type, unix_seconds_now(), host_name()));
    m_written = true;
  } catch (const Error&) {
  }
}

RunMark::~RunMark()
{
  if (!m_written) {
    return;
  }
  try {
    m_requests.direct().delete_row(k_runs_container, m_name, SwiftTimestamp::now());
  } catch (...) { // NOLINT(bugprone-empty-catch): a destructor; the marker only informs
  }
}

std::vector<RunMarker>
running(queue::RequestQueue& requests)
{
  std::vector<RunMarker> runs;
  requests.direct().list_rows(k_runs_container, {}, [&](const queue::Row& row) {
    const auto started = queue::number_parameter(row.content_type, "started=", k_max_unix_seconds);
    const auto host = queue::parameter_of(row.content_type, "host=");
    runs.push_back(
      {row.name, started.value_or(0), host ? std::string(*host) : std::string("unknown")});
    return true;
  });
  return runs;
}

} // namespace hlm::dispatch
