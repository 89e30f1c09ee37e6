#include <hlm/util/utc_time.hpp>

#include <fmt/format.h>

#include <stdexcept>

namespace hlm {

std::string
format_utc(std::chrono::sys_time<std::chrono::microseconds> time, std::string_view pattern)
{
  using namespace std::chrono;
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      out += pattern[i];
      continue;
    }
    const auto rest = pattern.substr(i + 1);
    std::size_t used = 1;
    if (rest.starts_with('Y')) {
      out += fmt::format("{:04d}", static_cast<int>(date.year()));
    } else if (rest.starts_with('m')) {
      out += fmt::format("{:02d}", static_cast<unsigned>(date.month()));
    } else if (rest.starts_with('d')) {
      out += fmt::format("{:02d}", static_cast<unsigned>(date.day()));
    } else if (rest.starts_with('H')) {
      out += fmt::format("{:02d}", clock.hours().count());
    } else if (rest.starts_with('M')) {
      out += fmt::format("{:02d}", clock.minutes().count());
    } else if (rest.starts_with('S')) {
      out += fmt::format("{:02d}", clock.seconds().count());
    } else if (rest.starts_with("3N")) {
      out += fmt::format("{:03d}", clock.subseconds().count() / 1000);
      used = 2;
    } else if (rest.starts_with("6N")) {
      out += fmt::format("{:06d}", clock.subseconds().count());
      used = 2;
    } else if (rest.starts_with('%')) {
      out += '%';
    } else {
      throw std::invalid_argument(fmt::format("format_utc: unknown conversion in \"{}\"", pattern));
    }
    i += used;
  }
  return out;
}

} // namespace hlm
