#include "../support/temp_dir.hpp"

#include <hlm/util/error.hpp>
#include <hlm/util/external_sort.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

using hlm::ExternalSorter;

namespace {

std::vector<std::string>
sorted_by(ExternalSorter& sorter, std::size_t* duplicates = nullptr)
{
  std::vector<std::string> out;
  const auto dropped = sorter.finish([&](std::string_view r) { out.emplace_back(r); });
  if (duplicates) {
    *duplicates = dropped;
  }
  return out;
}

std::size_t
entries(const std::filesystem::path& dir)
{
  return static_cast<std::size_t>(
    std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
}

} // namespace

TEST_CASE("external sort: a small list stays in memory", "[util]")
{
  hlm::test::TempDir dir;
  ExternalSorter sorter({1 << 20, dir.path().string(), {}});
  for (const char* r : {"b", "a", "c", "a"}) {
    sorter.add(r);
  }
  std::size_t duplicates = 0;
  CHECK(sorted_by(sorter, &duplicates) == std::vector<std::string>{"a", "b", "c"});
  CHECK(duplicates == 1);
  CHECK(sorter.spilled_runs() == 0);
  CHECK(entries(dir.path()) == 0);
}

TEST_CASE("external sort: many runs on disk, merged and deduplicated", "[util]")
{
  hlm::test::TempDir dir;
  // A run of about 10 records of 9 bytes (and their 16-byte index).
  ExternalSorter sorter({250, dir.path().string(), {}});
  std::vector<std::string> records;
  for (int i = 0; i < 1000; ++i) {
    records.push_back(fmt::format("obj{:06d}", (i * 7919) % 600)); // 400 duplicates
  }
  std::set<std::string> expected(records.begin(), records.end());
  for (const auto& r : records) {
    sorter.add(r);
  }
  CHECK(sorter.spilled_runs() > 50);
  // The runs' files are unlinked at once: nothing in the directory.
  CHECK(entries(dir.path()) == 0);
  std::size_t duplicates = 0;
  const auto out = sorted_by(sorter, &duplicates);
  CHECK(out == std::vector<std::string>(expected.begin(), expected.end()));
  CHECK(duplicates == 400);
  CHECK(entries(dir.path()) == 0);
  CHECK_THROWS_AS(sorter.add("late"), hlm::Error);
}

TEST_CASE("external sort: unsigned byte order, as Swift lists UTF-8 names", "[util]")
{
  // Swift's listing order is the byte order of the UTF-8 names: "Z" < "a" <
  // "é" (C3 A9) < "中" (E4 B8 AD) < "😀" (F0 9F 98 80); a prefix first.
  const std::vector<std::string> expected{"Z",
                                          "a",
                                          std::string("a\0z", 3),
                                          "a b",
                                          "ab",
                                          "\x7f",
                                          "\xc3\xa9",
                                          "\xe4\xb8\xad",
                                          "\xf0\x9f\x98\x80"};
  for (const std::size_t run_bytes : {std::size_t{1} << 20, std::size_t{40}}) {
    hlm::test::TempDir dir;
    ExternalSorter sorter({run_bytes, dir.path().string(), {}});
    auto shuffled = expected;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
    for (const auto& r : shuffled) {
      sorter.add(r);
    }
    CHECK((sorter.spilled_runs() > 1) == (run_bytes == 40));
    CHECK(sorted_by(sorter) == expected);
  }
}

TEST_CASE("external sort: duplicates by key keep the smallest record", "[util]")
{
  hlm::test::TempDir dir;
  for (const std::size_t run_bytes : {std::size_t{1} << 20, std::size_t{30}}) {
    ExternalSorter sorter({run_bytes, dir.path().string(), [](std::string_view r) {
                             return r.substr(0, r.find(':'));
                           }});
    for (const char* r : {"b:3", "a:9", "b:1", "a:2", "c:5", "b:2"}) {
      sorter.add(r);
    }
    std::size_t duplicates = 0;
    CHECK(sorted_by(sorter, &duplicates) == std::vector<std::string>{"a:2", "b:1", "c:5"});
    CHECK(duplicates == 3);
  }
}

TEST_CASE("external sort: an unwritable temporary directory is an error", "[util]")
{
  ExternalSorter sorter({16, "/nonexistent-hlm-dir", {}});
  CHECK_THROWS_WITH(sorter.add("a record longer than the run"),
                    Catch::StartsWith("cannot create a temporary file in /nonexistent-hlm-dir"));
}
