#include "../support/ring_writer.hpp"
#include "../support/temp_dir.hpp"

#include <hlm/util/error.hpp>
#include <hlm/util/gzip.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace hlm;

TEST_CASE("read_gzip_file round-trips", "[util]")
{
  test::TempDir dir;
  std::string data(300'000, 'x');
  data += "end";
  test::write_gzip(dir.path() / "a.gz", data);
  CHECK(read_gzip_file(dir.path() / "a.gz", 1 << 20) == data);
}

TEST_CASE("read_gzip_file names what is wrong", "[util]")
{
  test::TempDir dir;
  test::write_gzip(dir.path() / "a.gz", std::string(100'000, 'y'));

  SECTION("missing file")
  {
    CHECK_THROWS_WITH(read_gzip_file(dir.path() / "none.gz", 1 << 20),
                      Catch::Contains("none.gz") && Catch::Contains("No such file"));
  }
  SECTION("not gzip")
  {
    const auto plain = dir.write("plain", "R1NG not compressed");
    CHECK_THROWS_WITH(read_gzip_file(plain, 1 << 20), Catch::Contains("not gzip-compressed"));
  }
  SECTION("truncated")
  {
    std::ifstream in(dir.path() / "a.gz", std::ios::binary);
    std::stringstream whole;
    whole << in.rdbuf();
    const std::string bytes = whole.str();
    const auto cut = dir.write("cut.gz", bytes.substr(0, bytes.size() / 2));
    CHECK_THROWS_WITH(read_gzip_file(cut, 1 << 20), Catch::Contains("cut.gz"));
  }
  SECTION("too large")
  {
    CHECK_THROWS_WITH(read_gzip_file(dir.path() / "a.gz", 1000),
                      Catch::Contains("more than 1000 bytes"));
  }
}
