#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>

#include <catch2/catch.hpp>

using namespace hlm;

TEST_CASE("md5 matches known digests", "[util]")
{
  CHECK(to_hex(md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(to_hex(md5("The quick brown fox jumps over the lazy dog"))
        == "9e107d9d372bb6826bd81d3542a419d6");
  Md5 incremental;
  incremental.update("The quick brown fox ").update("jumps over the lazy dog");
  CHECK(to_hex(incremental.finish()) == "9e107d9d372bb6826bd81d3542a419d6");
  CHECK(to_hex(incremental.finish()) == "d41d8cd98f00b204e9800998ecf8427e");
}
