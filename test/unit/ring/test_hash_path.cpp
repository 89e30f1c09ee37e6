#include <hlm/ring/hash_path.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <random>
#include <string>

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
    CHECK(to_hex(PathHasher(saio)(a, c, o)) == md5_hex);
  };
  check(".swifthlm", "pending-hlm-requests", "", "8e2384fadcc1c0a732f27cb1f5ce621c", 568);
  check(".swifthlm", "", "", "02632864549b74c69cb15bfa5ec3061c", 9);
  check("AUTH_test", "c1", "obj1", "e57f1f5d9f265938e95435bebef7b292", 917);
  check("AUTH_test", "c1silver", "sobj2", "0d9fe287bf1af59eda57b69e4e72660b", 54);
}

// Computed with Swift 2.30's swift.common.utils.hash_path after setting
// HASH_PATH_PREFIX and HASH_PATH_SUFFIX: secrets and names longer than an
// MD5 block (64 bytes), and a prefix of exactly one block.
TEST_CASE("hash_path and PathHasher match Swift past 64-byte blocks", "[ring]")
{
  const std::string long_prefix = std::string(70, 'p') + "-prefix";                     // 77 bytes
  const std::string long_object = "dir/" + std::string(100, 'x') + "/\u00e9\u4e2d.bin"; // 114
  const auto check = [](const HashSecret& secret,
                        std::string_view a,
                        std::string_view c,
                        std::string_view o,
                        std::string_view md5_hex) {
    CHECK(to_hex(hash_path(secret, a, c, o)) == md5_hex);
    CHECK(to_hex(PathHasher(secret)(a, c, o)) == md5_hex);
  };
  check({long_prefix, "saio-suffix"},
        "AUTH_test",
        "c1",
        "obj1",
        "d5a8dcfee11e78eafc400b1e1ea12ef6");
  check({"saio-prefix", "saio-suffix"},
        "AUTH_test",
        "c1",
        long_object,
        "78875086a7e4d8606f7900a6a72c587e");
  check({"", std::string(80, 's')}, "AUTH_test", "", "", "0341caedb75038c39a63ce836b946076");
  check({std::string(64, 'q'), ""}, "AUTH_a", "c", "", "7bcbc3c4b674390bba3458183dbb8dbc");
}

namespace {

// hash_path as it was first written: the whole key joined in a string,
// then one MD5.
Md5Digest
joined_hash_path(const HashSecret& secret,
                 const std::string& a,
                 const std::string& c,
                 const std::string& o)
{
  std::string key = secret.prefix + "/" + a;
  if (!c.empty()) {
    key += "/" + c;
  }
  if (!o.empty()) {
    key += "/" + o;
  }
  return md5(key + secret.suffix);
}

// `length` bytes drawn from ASCII letters, '/', and UTF-8 for é, 中 and 😀
// (whole characters, so the length may run over by up to 3), or from any
// byte value when `raw`.
std::string
random_name(std::mt19937& rng, std::size_t length, bool raw)
{
  static const std::array<std::string_view, 6> pieces{"a",
                                                      "Z",
                                                      "/",
                                                      "\u00e9",
                                                      "\u4e2d",
                                                      "\U0001F600"};
  std::string name;
  while (name.size() < length) {
    if (raw) {
      name.push_back(static_cast<char>(rng() % 256));
    } else {
      name += pieces[rng() % pieces.size()];
    }
  }
  return name;
}

} // namespace

TEST_CASE("PathHasher gives hash_path's digest for random names and secrets", "[ring]")
{
  std::mt19937 rng(14);
  // Secrets around the 64-byte block size; names up to beyond the
  // 384-byte buffer PathHasher joins into, so both of its paths run.
  const std::array<std::size_t, 8> secret_lengths{0, 1, 11, 63, 64, 65, 128, 200};
  const std::array<std::size_t, 9> name_lengths{1, 7, 15, 16, 50, 64, 120, 300, 600};
  int compared = 0;
  for (const auto prefix_length : secret_lengths) {
    for (const auto suffix_length : secret_lengths) {
      const HashSecret secret{random_name(rng, prefix_length, prefix_length % 2 == 1),
                              random_name(rng, suffix_length, false)};
      const PathHasher hasher(secret);
      for (int i = 0; i < 12; ++i) {
        const bool raw = i % 3 == 0;
        const auto a = random_name(rng, name_lengths[rng() % name_lengths.size()], raw);
        const auto c = i % 4 == 1 ? "" : random_name(rng, name_lengths[rng() % 6], raw);
        const auto o = c.empty() || i % 5 == 2 ? ""
                                               : random_name(rng, name_lengths[rng() % 9], raw);
        const auto expected = joined_hash_path(secret, a, c, o);
        CHECK(hasher(a, c, o) == expected);
        CHECK(hash_path(secret, a, c, o) == expected);
        ++compared;
      }
    }
  }
  CHECK(compared == 8 * 8 * 12);
}

TEST_CASE("PathHasher can be called again and again", "[ring]")
{
  const PathHasher hasher({"saio-prefix", "saio-suffix"});
  for (int i = 0; i < 3; ++i) {
    CHECK(to_hex(hasher("AUTH_test", "c1", "obj1")) == "e57f1f5d9f265938e95435bebef7b292");
    CHECK(to_hex(hasher(".swifthlm")) == "02632864549b74c69cb15bfa5ec3061c");
  }
}

TEST_CASE("hash_path rejects incomplete names", "[ring]")
{
  const HashSecret secret{"p", "s"};
  CHECK_THROWS_AS(hash_path(secret, ""), InputError);
  CHECK_THROWS_AS(hash_path(secret, "a", "", "o"), InputError);
  const PathHasher hasher(secret);
  CHECK_THROWS_AS(hasher(""), InputError);
  CHECK_THROWS_AS(hasher("", "c", "o"), InputError);
  CHECK_THROWS_AS(hasher("a", "", "o"), InputError);
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
