#pragma once

#include <cstdint>
#include <functional>

namespace hlm {

// The wall clock as Unix seconds, injectable: code that decides by the time
// takes a UnixClock, and tests give it one they set.
using UnixClock = std::function<std::int64_t()>;

// The last second of the year 9999 (Unix seconds): the latest time a queue
// row, a request document or a restore mark carries.
inline constexpr std::int64_t k_max_unix_seconds = 253'402'300'799;

// The system clock, in Unix seconds.
std::int64_t unix_seconds_now();

} // namespace hlm
