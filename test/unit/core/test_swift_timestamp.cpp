#include <hlm/core/swift_timestamp.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace hlm;

// Expected values from swift.common.utils.Timestamp (Swift 2.30).
TEST_CASE("swift timestamp: formats like Swift", "[core]")
{
  using namespace std::chrono;
  const system_clock::time_point t{microseconds{1795332046733900}};
  const auto ts = SwiftTimestamp::from_time(t);
  CHECK(ts.normal() == "1795332046.73390");
  CHECK(ts.internal() == "1795332046.73390");
  CHECK(ts.plus_offset(1).internal() == "1795332046.73390_0000000000000001");
  CHECK(ts.plus_offset(1).normal() == "1795332046.73390");
  CHECK(ts.last_modified() == "2026-11-22T07:20:46.733900");
  CHECK(ts.time() == t);
  CHECK(SwiftTimestamp(0).internal() == "0000000000.00000");
  CHECK(SwiftTimestamp(150000).internal() == "0000000001.50000");
  // Timestamp(1795332046.733905).internal rounds to 10 µs.
  CHECK(
    SwiftTimestamp::from_time(system_clock::time_point{microseconds{1795332046733905}}).internal()
    == "1795332046.73391");
  CHECK(
    SwiftTimestamp::from_time(system_clock::time_point{microseconds{1795332046733904}}).internal()
    == "1795332046.73390");
  CHECK(SwiftTimestamp(SwiftTimestamp::k_max_ticks - 1).last_modified()
        == "2286-11-20T17:46:39.999990");
}

TEST_CASE("swift timestamp: parses internal and listing forms", "[core]")
{
  CHECK(SwiftTimestamp::parse("1795332046.73390").ticks() == 179533204673390);
  CHECK(SwiftTimestamp::parse("1795332046.73390_00000000000000ff").offset() == 0xff);
  CHECK(SwiftTimestamp::parse("1795332046.73390_00000000000000ff").internal()
        == "1795332046.73390_00000000000000ff");
  CHECK(SwiftTimestamp::parse("1795332046.733905").internal() == "1795332046.73391");
  CHECK(SwiftTimestamp::parse("1795332046.733904").internal() == "1795332046.73390");
  CHECK(SwiftTimestamp::parse("5").internal() == "0000000005.00000");
  CHECK(SwiftTimestamp::parse("5.1").internal() == "0000000005.10000");
  for (const char* bad : {"",
                          ".5",
                          "x",
                          "1.5x",
                          "1_",
                          "1_xyz",
                          "1_00000000000000000",
                          "10000000000",
                          "-1",
                          " 1",
                          "1e9"}) {
    INFO(bad);
    CHECK_THROWS_AS(SwiftTimestamp::parse(bad), InputError);
  }

  // Swift reads float() and prints "%016.05f": leading zeros and a bare
  // '.' are the same time, and 0.015625 (exactly half way) rounds to even.
  CHECK(SwiftTimestamp::parse("00000000001.5").internal() == "0000000001.50000");
  CHECK(SwiftTimestamp::parse("1.").internal() == "0000000001.00000");
  CHECK(SwiftTimestamp::parse("0.015625").internal() == "0000000000.01562");
  CHECK(SwiftTimestamp::parse("1.5_0000000000000000") == SwiftTimestamp::parse("1.50000"));
  CHECK(SwiftTimestamp::parse("1.5_00000000000000FF").offset() == 0xff);
  // Below 10^10 s, but "%.5f" prints 10^10.
  CHECK_THROWS_AS(SwiftTimestamp::parse("9999999999.999996"), InputError);
  CHECK(SwiftTimestamp::parse("9999999999.99999").ticks() == SwiftTimestamp::k_max_ticks - 1);
  CHECK_THROWS_WITH(SwiftTimestamp::parse("1_xyz"),
                    "invalid Swift timestamp \"1_xyz\": the offset must be hexadecimal");
  CHECK(SwiftTimestamp::try_parse("1.5") == SwiftTimestamp(150000));
  CHECK_FALSE(SwiftTimestamp::try_parse("1.5x"));
  CHECK_FALSE(SwiftTimestamp::try_parse("12345678901.00000"));

  // Timestamp.from_isoformat("2026-11-22T08:12:34.567890") == "1795335154.56789"
  CHECK(SwiftTimestamp::from_last_modified("2026-11-22T08:12:34.567890").internal()
        == "1795335154.56789");
  CHECK(SwiftTimestamp::from_last_modified("1970-01-01T00:00:00.000000").ticks() == 0);
  CHECK(SwiftTimestamp::from_last_modified("2026-11-22T08:12:34").internal() == "1795335154.00000");
  CHECK(SwiftTimestamp::from_last_modified("2024-02-29T23:59:59.999999").internal()
        == "1709251200.00000");
  for (const char* bad : {"",
                          "2026-11-22",
                          "2026-11-22 08:12:34.567890",
                          "2026-13-22T08:12:34",
                          "2026-02-30T08:12:34",
                          "2026-11-22T24:00:00",
                          "2026-11-22T08:12:34.",
                          "2026-11-22T08:12:34.1234567",
                          "2026-11-22T08:12:34.56789x",
                          "1969-12-31T23:59:59.000000"}) {
    INFO(bad);
    CHECK_THROWS_AS(SwiftTimestamp::from_last_modified(bad), InputError);
  }
  // What last_modified() prints reads back.
  const auto now = SwiftTimestamp::now();
  CHECK(SwiftTimestamp::from_last_modified(now.last_modified()) == now);
}

TEST_CASE("swift timestamp: orders by time, then offset", "[core]")
{
  const SwiftTimestamp t(179533204673390);
  CHECK(t < t.plus_offset(1));
  CHECK(t.plus_offset(1) < t.plus_offset(2));
  CHECK(t.plus_offset(1000) < SwiftTimestamp(179533204673391));
  CHECK(t.plus_offset(2) == t.plus_offset(1).plus_offset(1));
  // The internal strings sort the same way (Swift relies on that).
  CHECK(t.internal() < t.plus_offset(1).internal());
  CHECK(t.plus_offset(0xffff).internal() < SwiftTimestamp(179533204673391).internal());
  CHECK_THROWS_AS(SwiftTimestamp(-1), InputError);
  CHECK_THROWS_AS(SwiftTimestamp(SwiftTimestamp::k_max_ticks), InputError);
}

TEST_CASE("swift timestamp: now() never repeats, across threads", "[core]")
{
  std::vector<std::vector<std::string>> seen(4);
  std::vector<std::thread> threads;
  for (auto& out : seen) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 5000; ++i) {
        out.push_back(SwiftTimestamp::now().internal());
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::set<std::string> all;
  for (const auto& out : seen) {
    for (std::size_t i = 1; i < out.size(); ++i) {
      REQUIRE(out[i - 1] < out[i]);
    }
    all.insert(out.begin(), out.end());
  }
  CHECK(all.size() == 20000);
  // Close to the wall clock.
  const auto drift = SwiftTimestamp::now().time() - std::chrono::system_clock::now();
  CHECK(std::chrono::abs(drift) < std::chrono::seconds(1));
}
