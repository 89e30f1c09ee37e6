#include <hlm/core/swift_timestamp.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/percent.hpp>
#include <hlm/util/strings.hpp>
#include <hlm/util/utc_time.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <limits>
#include <optional>
#include <system_error>

namespace hlm {

namespace {

[[noreturn]] void
bad_timestamp(std::string_view text, std::string_view what)
{
  throw InputError(fmt::format("invalid Swift timestamp \"{}\": {}", printable(text), what));
}

bool
is_digit(char c)
{
  return c >= '0' && c <= '9';
}

// Reads exactly `count` digits at `pos`; nullopt when they are not there.
std::optional<int>
read_fixed(std::string_view text, std::size_t pos, std::size_t count)
{
  if (pos + count > text.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!is_digit(text[i])) {
      return std::nullopt;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// What parse() reads: the ticks and offset, or why there are none.
struct ReadTimestamp
{
  std::int64_t ticks = 0;
  std::uint64_t offset = 0;
  std::string_view error; // empty: read
};

bool
all_digits(std::string_view text)
{
  return std::all_of(text.begin(), text.end(), is_digit);
}

// Swift reads the seconds with float() and prints them with "%016.05f";
// its order is that of the printed form. Reading the same way (the
// correctly rounded double, then its correctly rounded 5-decimal form)
// gives the same 10 µs value, where rounding the decimal digits directly
// would differ for some inputs of more than 5 decimals.
ReadTimestamp
read_timestamp(std::string_view text)
{
  ReadTimestamp read;
  const auto underscore = text.find('_');
  const auto base = text.substr(0, underscore);
  const auto dot = base.find('.');
  const auto whole = base.substr(0, dot);
  const auto fraction = dot == std::string_view::npos ? std::string_view() : base.substr(dot + 1);
  if (whole.empty() || !is_digit(whole.front())) {
    read.error = "expected seconds since the epoch";
    return read;
  }
  if (!all_digits(whole) || !all_digits(fraction)) {
    read.error = "unexpected characters";
    return read;
  }
  // "1." is Swift's 1 too; from_chars reads the digits without the dot.
  const auto number = fraction.empty() ? whole : base;
  double seconds = 0;
  const auto parsed = std::from_chars(number.data(), number.data() + number.size(), seconds);
  if (parsed.ec != std::errc() || parsed.ptr != number.data() + number.size()
      || !(seconds < 1e10)) {
    read.error = "too large";
    return read;
  }
  std::array<char, 32> printed{};
  const auto end = std::to_chars(printed.data(),
                                 printed.data() + printed.size(),
                                 seconds,
                                 std::chars_format::fixed,
                                 5)
                     .ptr;
  for (const char* c = printed.data(); c != end; ++c) {
    if (*c != '.') {
      read.ticks = read.ticks * 10 + (*c - '0');
    }
  }
  // Below 10^10 s, "%.5f" may still round up to it.
  if (read.ticks >= SwiftTimestamp::k_max_ticks) {
    read.error = "too large";
    return read;
  }
  if (underscore != std::string_view::npos) {
    const auto hex = text.substr(underscore + 1);
    if (hex.empty() || hex.size() > 16) {
      read.error = "the offset must be 1 to 16 hexadecimal digits";
      return read;
    }
    for (const char c : hex) {
      const int value = hex_digit_value(c);
      if (value < 0) {
        read.error = "the offset must be hexadecimal";
        return read;
      }
      read.offset = read.offset * 16 + static_cast<std::uint64_t>(value);
    }
  }
  return read;
}

} // namespace

SwiftTimestamp::SwiftTimestamp(std::int64_t ticks, std::uint64_t offset)
  : m_ticks(ticks),
    m_offset(offset)
{
  if (ticks < 0 || ticks >= k_max_ticks) {
    throw InputError(fmt::format("Swift timestamp out of range: {} s", ticks / k_ticks_per_second));
  }
}

SwiftTimestamp
SwiftTimestamp::from_time(std::chrono::system_clock::time_point time)
{
  const auto us =
    std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  // Round half up to 10 µs (Swift rounds the float; ties practically never
  // occur and either neighbour is a valid Swift time).
  const std::int64_t ticks = (us >= 0 ? us + 5 : us - 4) / 10;
  return SwiftTimestamp(ticks);
}

SwiftTimestamp
SwiftTimestamp::now()
{
  static std::atomic<std::int64_t> last{0};
  const std::int64_t clock = from_time(std::chrono::system_clock::now()).ticks();
  std::int64_t previous = last.load();
  std::int64_t next = 0;
  do {
    next = clock > previous ? clock : previous + 1;
  } while (!last.compare_exchange_weak(previous, next));
  return SwiftTimestamp(next);
}

SwiftTimestamp
SwiftTimestamp::parse(std::string_view text)
{
  const auto read = read_timestamp(text);
  if (!read.error.empty()) {
    bad_timestamp(text, read.error);
  }
  return SwiftTimestamp(read.ticks, read.offset);
}

std::optional<SwiftTimestamp>
SwiftTimestamp::try_parse(std::string_view text)
{
  const auto read = read_timestamp(text);
  if (!read.error.empty()) {
    return std::nullopt;
  }
  return SwiftTimestamp(read.ticks, read.offset);
}

SwiftTimestamp
SwiftTimestamp::from_last_modified(std::string_view text)
{
  using namespace std::chrono;
  // "YYYY-MM-DDTHH:MM:SS" then optionally ".ffffff" (1 to 6 digits).
  const auto year = read_fixed(text, 0, 4);
  const auto month = read_fixed(text, 5, 2);
  const auto day = read_fixed(text, 8, 2);
  const auto hour = read_fixed(text, 11, 2);
  const auto minute = read_fixed(text, 14, 2);
  const auto second = read_fixed(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-'
      || text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    bad_timestamp(text, "expected YYYY-MM-DDTHH:MM:SS.ffffff");
  }
  const year_month_day date{std::chrono::year{*year},
                            std::chrono::month{static_cast<unsigned>(*month)},
                            std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) {
    bad_timestamp(text, "no such date or time");
  }
  std::int64_t micros = 0;
  if (text.size() > 19) {
    const auto fraction = text.substr(20);
    if (text[19] != '.' || fraction.empty() || fraction.size() > 6) {
      bad_timestamp(text, "expected YYYY-MM-DDTHH:MM:SS.ffffff");
    }
    std::int64_t scale = 1'000'000;
    for (const char c : fraction) {
      if (!is_digit(c)) {
        bad_timestamp(text, "expected YYYY-MM-DDTHH:MM:SS.ffffff");
      }
      scale /= 10;
      micros += (c - '0') * scale;
    }
  }
  const std::int64_t seconds = sys_days(date).time_since_epoch().count() * 86'400 + *hour * 3'600
                               + *minute * 60 + *second;
  if (seconds < 0) {
    bad_timestamp(text, "before 1970");
  }
  // Swift prints its 10 µs times with 6 digits; round back to 10 µs.
  return SwiftTimestamp(seconds * k_ticks_per_second + (micros + 5) / 10);
}

SwiftTimestamp
SwiftTimestamp::plus_offset(std::uint64_t delta) const
{
  if (delta > std::numeric_limits<std::uint64_t>::max() - m_offset) {
    throw InputError(fmt::format("Swift timestamp offset overflow at {}", internal()));
  }
  return SwiftTimestamp(m_ticks, m_offset + delta);
}

std::string
SwiftTimestamp::normal() const
{
  return fmt::format("{:010d}.{:05d}", m_ticks / k_ticks_per_second, m_ticks % k_ticks_per_second);
}

std::string
SwiftTimestamp::internal() const
{
  if (m_offset == 0) {
    return normal();
  }
  return fmt::format("{}_{:016x}", normal(), m_offset);
}

std::string
SwiftTimestamp::last_modified() const
{
  return format_utc(
    std::chrono::sys_time<std::chrono::microseconds>{std::chrono::microseconds{m_ticks * 10}},
    "%Y-%m-%dT%H:%M:%S.%6N");
}

std::chrono::system_clock::time_point
SwiftTimestamp::time() const
{
  return std::chrono::system_clock::time_point{
    std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::microseconds{m_ticks * 10})};
}

} // namespace hlm
