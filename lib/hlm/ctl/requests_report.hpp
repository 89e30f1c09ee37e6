#pragma once

#include <hlm/ctl/service.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace hlm::ctl {

// When a pending request's next attempt is due: "2026-11-22 13:05:00 UTC
// (in 55 s)", or "the next run" when it has no time or the time is not
// after `now` (both unix seconds).
std::string next_attempt_text(const std::optional<std::int64_t>& retry_after, std::int64_t now);

// SwiftHLM's answer to GET /hlm/v1/requests/...: a JSON list of the
// request ids with "--pending" or "--failed" appended (the pending first),
// or the one sentence SwiftHLM gives when there are none, written as
// Python's json.dumps writes a list, without a newline.
void print_swifthlm_requests(Service& service, const queue::Target& target, std::ostream& out);

// hlmctl requests' report: per request "STATE OPERATION TARGET  submitted
// TIME", with the failure reason, or the failed attempts so far and when
// the next is due (`now` decides "in N s"); a sentence when there are
// none. With `json` the document {"pending": [...], "failed": [...]}.
// Returns how many requests were reported.
std::size_t print_requests(Service& service,
                           const queue::Target& target,
                           bool json,
                           std::ostream& out,
                           std::chrono::system_clock::time_point now);

} // namespace hlm::ctl
