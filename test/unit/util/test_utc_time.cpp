#include <hlm/util/utc_time.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>

using namespace std::chrono;
using hlm::format_utc;

TEST_CASE("format_utc: fields, fractions and literal text", "[util]")
{
  const sys_time<microseconds> t = sys_days{year{2026} / 11 / 22} + hours{8} + minutes{5}
                                   + seconds{4} + microseconds{567890};
  CHECK(format_utc(t, "%Y-%m-%dT%H:%M:%S.%6N") == "2026-11-22T08:05:04.567890");
  CHECK(format_utc(t, "%Y%m%d%H%M%S.%3N") == "20261122080504.567");
  CHECK(format_utc(t, "%Y-%m-%d %H:%M:%S UTC (100%%)") == "2026-11-22 08:05:04 UTC (100%)");
  CHECK(format_utc(sys_time<microseconds>{}, "%Y-%m-%dT%H:%M:%S.%6N")
        == "1970-01-01T00:00:00.000000");
  // Past system_clock's nanoseconds (2262), to Swift's last time.
  CHECK(
    format_utc(sys_days{year{2286} / 11 / 20} + hours{17} + minutes{46} + microseconds{39'999'990},
               "%Y-%m-%dT%H:%M:%S.%6N")
    == "2286-11-20T17:46:39.999990");
  CHECK(format_utc(t, "").empty());
}

TEST_CASE("format_utc: fractions are truncated, never rounded up", "[util]")
{
  const sys_time<microseconds> t = sys_days{year{2024} / 12 / 31} + hours{23} + minutes{59}
                                   + seconds{59} + microseconds{999'999};
  CHECK(format_utc(t, "%Y-%m-%d %H:%M:%S.%3N") == "2024-12-31 23:59:59.999");
  CHECK(format_utc(t, "%6N") == "999999");
  // Before 1970: the day and the second are floored as well.
  CHECK(format_utc(sys_time<microseconds>{} - milliseconds{1}, "%Y-%m-%d %H:%M:%S.%3N")
        == "1969-12-31 23:59:59.999");
}

TEST_CASE("format_utc: an unknown conversion is a programming error", "[util]")
{
  for (const char* bad : {"%y", "%", "%N", "%9N", "x%"}) {
    INFO(bad);
    CHECK_THROWS_AS(format_utc(sys_time<microseconds>{}, bad), std::invalid_argument);
  }
}
