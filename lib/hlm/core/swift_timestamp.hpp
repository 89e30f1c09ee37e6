#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hlm {

// Swift's Timestamp (swift.common.utils): a time with 10 µs resolution plus
// an offset that orders versions written at the "same" time. Values order
// by time, then offset, as Swift orders them. The one timestamp of hlm: the
// queue's X-Timestamps and listings, and the names of the object servers'
// files (diskfile).
class SwiftTimestamp
{
public:
  // Ticks are 10 µs units since the epoch; Swift bounds the time to
  // [0, 10^10) seconds.
  static constexpr std::int64_t k_ticks_per_second = 100'000;
  static constexpr std::int64_t k_max_ticks = 10'000'000'000 * k_ticks_per_second;

  SwiftTimestamp() = default;
  // Throws hlm::InputError outside Swift's bounds.
  SwiftTimestamp(std::int64_t ticks, std::uint64_t offset = 0);

  // Rounded to the nearest 10 µs, as Timestamp(time.time()) does.
  static SwiftTimestamp from_time(std::chrono::system_clock::time_point time);
  // The current time, but always later than any value this function
  // returned before in this process (thread-safe), so that two writes from
  // one process never carry the same X-Timestamp.
  static SwiftTimestamp now();
  // Reads "<seconds>[.<fraction>][_<offset>]" ("1795332046.73390",
  // "1795332046.73390_0000000000000001"): digits, optionally a '.' and more
  // digits, optionally '_' and 1 to 16 hexadecimal digits. The time is
  // what Swift's Timestamp(text) makes of it: float() of the seconds
  // printed with "%.5f", so "1.5" and "1.50000" are one time and
  // "1795332046.733905" is "1795332046.73391". Forms Swift's float() would
  // also take but Swift never writes ("1e9", " 1", "-1") are refused.
  // Throws hlm::InputError saying what is wrong, and for times of 10^10 s
  // or more.
  static SwiftTimestamp parse(std::string_view text);
  // parse() for names that may be anything (the files of an object
  // directory): nullopt where parse() throws.
  static std::optional<SwiftTimestamp> try_parse(std::string_view text);
  // Reads a container listing's "last_modified" ("2026-11-22T08:12:34.567890",
  // UTC). Listings show the time only: the offset is lost. Throws
  // hlm::InputError.
  static SwiftTimestamp from_last_modified(std::string_view text);

  std::int64_t
  ticks() const
  {
    return m_ticks;
  }

  std::uint64_t
  offset() const
  {
    return m_offset;
  }

  // The same time with `delta` added to the offset (Swift's
  // Timestamp(ts, offset=delta)): later than this value, earlier than any
  // value with a later time.
  SwiftTimestamp plus_offset(std::uint64_t delta = 1) const;

  // "%016.05f" of the time, e.g. "1795332046.73390".
  std::string normal() const;
  // normal() plus "_%016x" of the offset when the offset is not zero: what
  // X-Timestamp carries.
  std::string internal() const;
  // "2026-11-22T08:12:34.567890", as listings show it.
  std::string last_modified() const;
  std::chrono::system_clock::time_point time() const;

  auto operator<=>(const SwiftTimestamp&) const = default;

private:
  std::int64_t m_ticks = 0;
  std::uint64_t m_offset = 0;
};

} // namespace hlm
