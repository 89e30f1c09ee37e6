#include <hlm/util/error.hpp>
#include <hlm/util/temp_file.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <string>

TEST_CASE("unlinked_temporary_file: a stream on a file without a name", "[util]")
{
  const auto dir = std::filesystem::temp_directory_path() / "hlm-temp-file-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto file = hlm::unlinked_temporary_file("hlm-test", dir.string());
    REQUIRE(file);
    // Written and read back, while the directory holds nothing.
    REQUIRE(std::fputs("some bytes", file.get()) >= 0);
    REQUIRE(std::fflush(file.get()) == 0);
    std::rewind(file.get());
    char buffer[16] = {};
    CHECK(std::fgets(buffer, sizeof buffer, file.get()) != nullptr);
    CHECK(std::string(buffer) == "some bytes");
    struct stat info = {};
    REQUIRE(::fstat(fileno(file.get()), &info) == 0);
    CHECK(info.st_nlink == 0);
    CHECK(std::filesystem::is_empty(dir));
  }
  std::filesystem::remove_all(dir);
  CHECK_THROWS_WITH(hlm::unlinked_temporary_file("hlm-test", "/nonexistent-hlm-dir"),
                    Catch::StartsWith("cannot create a temporary file in /nonexistent-hlm-dir"));
}
