#include "../support/temp_dir.hpp"

#include <hlm/util/error.hpp>
#include <hlm/util/file_lock.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <optional>
#include <utility>

using hlm::FileLock;

TEST_CASE("FileLock: one holder at a time, released with the object", "[util]")
{
  const hlm::test::TempDir dir;
  const auto path = dir.path() / "run" / "lock" / "hlm-dispatch.lock";
  {
    auto first = FileLock::try_acquire(path);
    REQUIRE(first);
    CHECK(std::filesystem::exists(path)); // and its directories
    CHECK_FALSE(FileLock::try_acquire(path));

    // Moved, the lock stays held; the moved-from object releases nothing.
    std::optional<FileLock> moved(std::move(*first));
    first.reset();
    CHECK_FALSE(FileLock::try_acquire(path));
  }
  CHECK(FileLock::try_acquire(path));
}

TEST_CASE("FileLock: a file that cannot be opened is an error naming it", "[util]")
{
  const hlm::test::TempDir dir;
  // A directory opens for reading only.
  CHECK_THROWS_WITH(FileLock::try_acquire(dir.path()),
                    Catch::StartsWith("cannot open lock file " + dir.path().string() + ":"));
}
