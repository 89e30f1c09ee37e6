#include <hlm/util/clock.hpp>

#include <chrono>

namespace hlm {

std::int64_t
unix_seconds_now()
{
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace hlm
