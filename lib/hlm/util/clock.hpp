#pragma once

#include <cstdint>
#include <functional>

namespace hlm {

// The wall clock as Unix seconds, injectable: code that decides by the time
// takes a UnixClock, and tests give it one they set.
using UnixClock = std::function<std::int64_t()>;

// The system clock, in Unix seconds.
std::int64_t unix_seconds_now();

} // namespace hlm
