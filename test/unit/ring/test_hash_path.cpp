#include <hlm/ring/hash_path.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using namespace hlm::ring;

// Vectors checked against Swift 2.30 (shared/notes/swift-facts.md).
TEST_CASE("hash_path matches Swift's test vectors", "[ring]")
{
  const HashSecret saio{"saio-prefix", "saio-suffix"};
  const auto check = [&](std::string_view a,
                         std::string_view c,
                         std::string_view o,
                         std::string_view md5_hex,
                         std::uint32_t partition) {
    const auto digest = hash_path(saio, a, c, o);
    CHECK(to_hex(digest) == md5_hex);
    CHECK(partition_of(digest, 32 - 10) == partition);
  };
  check(".swifthlm", "pending-hlm-requests", "", "8e2384fadcc1c0a732f27cb1f5ce621c", 568);
  check(".swifthlm", "", "", "02632864549b74c69cb15bfa5ec3061c", 9);
  check("AUTH_test", "c1", "obj1", "e57f1f5d9f265938e95435bebef7b292", 917);
  check("AUTH_test", "c1silver", "sobj2", "0d9fe287bf1af59eda57b69e4e72660b", 54);
}

TEST_CASE("hash_path rejects incomplete names", "[ring]")
{
  const HashSecret secret{"p", "s"};
  CHECK_THROWS_AS(hash_path(secret, ""), InputError);
  CHECK_THROWS_AS(hash_path(secret, "a", "", "o"), InputError);
}

TEST_CASE("partition_of handles the extreme shifts", "[ring]")
{
  Md5Digest digest{};
  digest[0] = 0xff;
  digest[3] = 0x01;
  CHECK(partition_of(digest, 0) == 0xff000001u);
  CHECK(partition_of(digest, 31) == 1);
  CHECK(partition_of(digest, 32) == 0);
}
