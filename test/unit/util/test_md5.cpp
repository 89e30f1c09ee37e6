#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

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

TEST_CASE("Md5State: a copy forks the computation", "[util]")
{
  Md5State prefix;
  prefix.update("The quick brown fox jumps over the lazy ");
  Md5State dog = prefix;
  Md5State cat = prefix;
  CHECK(to_hex(dog.update("dog").finish()) == "9e107d9d372bb6826bd81d3542a419d6");
  CHECK(to_hex(cat.update("cat").finish()) == "71bd588d5ad9b6abe87b831b45f8fa95");
  // The original is untouched by its copies' updates.
  CHECK(to_hex(prefix.update("dog").finish()) == "9e107d9d372bb6826bd81d3542a419d6");
}

TEST_CASE("Md5State: input across many 64-byte blocks, in uneven pieces", "[util]")
{
  const std::string thousand(1000, 'a');
  CHECK(to_hex(md5(thousand)) == "cabe45dcc9ae5b66ba86600cca6b8ba8");
  Md5State state;
  for (std::size_t at = 0, step = 1; at < thousand.size(); at += step, step = step * 3 % 101) {
    state.update(std::string_view(thousand).substr(at, step));
  }
  CHECK(to_hex(state.finish()) == "cabe45dcc9ae5b66ba86600cca6b8ba8");
}
