#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace hlm {

// `time` (a system_clock time to the microsecond, which unlike
// system_clock::time_point reaches Swift's last time, 2286) in UTC, written
// as `pattern` says: %Y the year (4 digits), %m,
// %d, %H, %M, %S the month, day, hour, minute and second (2 digits), %3N
// and %6N the fraction of the second in milliseconds or microseconds
// (truncated, as GNU date writes them), %% a '%'; anything else is copied.
// Throws std::invalid_argument for any other conversion (a mistake in the
// calling code, not in input).
std::string format_utc(std::chrono::sys_time<std::chrono::microseconds> time,
                       std::string_view pattern);

} // namespace hlm
