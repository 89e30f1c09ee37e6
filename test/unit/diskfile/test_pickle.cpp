#include <hlm/diskfile/pickle.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using hlm::InputError;
using hlm::diskfile::MetadataMap;
using hlm::diskfile::parse_metadata_pickle;

namespace {

// Fixtures written by test/unit/data/diskfile/make_vectors.py from Swift's
// own write path (see that script).
std::string
load_vector(const std::string& name)
{
  const std::string path = std::string(HLM_TEST_DATA_DIR) + "/diskfile/" + name + ".pickle";
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    throw std::runtime_error("cannot open test vector " + path);
  }
  std::string data(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  return data;
}

const std::vector<std::string> k_valid_vectors = {
  "swift_data",
  "swift_meta",
  "swift_ts",
  "shared_values",
  "single_item",
  "many",
  "protocol1",
  "protocol4",
  "py2",
};

std::string
bytes(std::initializer_list<unsigned> values)
{
  std::string out;
  for (const unsigned v : values) {
    out += static_cast<char>(static_cast<unsigned char>(v));
  }
  return out;
}

std::string
le32(std::uint32_t v)
{
  return bytes({v & 0xffu, (v >> 8) & 0xffu, (v >> 16) & 0xffu, v >> 24});
}

// Pieces for hand-built pickles.
const std::string k_header = bytes({0x80, 0x02}) + "}";
std::string
short_bytes(const std::string& s)
{
  return "C" + bytes({static_cast<unsigned>(s.size())}) + s;
}
std::string
unicode(const std::string& s)
{
  return "X" + le32(static_cast<std::uint32_t>(s.size())) + s;
}
const std::string k_encode = "c_codecs\nencode\n";
std::string
latin1_bytes(const std::string& utf8)
{
  return k_encode + unicode(utf8) + unicode("latin1") + bytes({0x86}) + "R";
}

std::string
error_of(const std::string& pickle)
{
  try {
    parse_metadata_pickle(pickle);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST_CASE("parse_metadata_pickle: Swift object-server .data metadata")
{
  const MetadataMap expected = {
    {"X-Timestamp", "1795332046.73390"},
    {"Content-Type", "text/plain"},
    {"Content-Length", "3"},
    {"ETag", "900150983cd24fb0d6963f7d28e17f72"},
    {"X-Object-Meta-Color", "blue"},
    // Python 3 Swift stores header values as UTF-8 of the WSGI string:
    // "é☃" arrives double-encoded.
    {"X-Object-Meta-Unicode", "\xc3\x83\xc2\xa9\xc3\xa2\xc2\x98\xc2\x83"},
    {"X-Object-Meta-Empty", ""},
    // ... while the name is plain UTF-8.
    {"name", "/AUTH_test/c/\xc3\xa9t\xc3\xa9 \xe2\x98\x83"},
  };
  CHECK(parse_metadata_pickle(load_vector("swift_data")) == expected);
}

TEST_CASE("parse_metadata_pickle: Swift .meta and .ts metadata")
{
  const std::string name = "/AUTH_test/c/\xc3\xa9t\xc3\xa9 \xe2\x98\x83";
  CHECK(parse_metadata_pickle(load_vector("swift_meta"))
        == MetadataMap{{"X-Timestamp", "1795332047.00000"},
                       {"X-Object-Meta-Color", "red"},
                       {"Content-Type", "application/x-test"},
                       {"Content-Type-Timestamp", "1795332047.00000"},
                       {"name", name}});
  CHECK(parse_metadata_pickle(load_vector("swift_ts"))
        == MetadataMap{{"X-Timestamp", "1795332048.00000"}, {"name", name}});
}

TEST_CASE("parse_metadata_pickle: memo references to shared values")
{
  CHECK(parse_metadata_pickle(load_vector("shared_values"))
        == MetadataMap{{"name", "/AUTH_test/c/o"},
                       {"X-Object-Meta-A", ""},
                       {"X-Object-Meta-B", ""},
                       {"X-Object-Meta-C", "7"},
                       {"X-Object-Meta-D", "7"}});
}

TEST_CASE("parse_metadata_pickle: SETITEM, LONG_BINPUT, protocols 1 and 4")
{
  CHECK(parse_metadata_pickle(load_vector("single_item")) == MetadataMap{{"k", "v"}});

  const auto many = parse_metadata_pickle(load_vector("many"));
  REQUIRE(many.size() == 46);
  CHECK(many.at("name") == "/AUTH_test/c/many");
  CHECK(many.at("X-Object-Meta-M00") == "v00");
  CHECK(many.at("X-Object-Meta-M44") == "v44");

  CHECK(parse_metadata_pickle(load_vector("protocol1")) == MetadataMap{{"k", "v"}, {"e", ""}});

  CHECK(parse_metadata_pickle(load_vector("protocol4"))
        == MetadataMap{{"name", "/AUTH_test/c/\xc3\xa9"},
                       {"X-Object-Meta-Long", std::string(300, 'z')},
                       {"X-Object-Meta-Empty", ""},
                       {"a", ""},
                       {"b", "1"},
                       {"c", "1"}});
}

TEST_CASE("parse_metadata_pickle: Python 2 Swift metadata")
{
  CHECK(parse_metadata_pickle(load_vector("py2"))
        == MetadataMap{{"name", "/AUTH_test/c/\xc3\xa9t\xc3\xa9"},
                       {"X-Timestamp", "1402464677.04188"},
                       {"Content-Length", "0"},
                       {"ETag", "d41d8cd98f00b204e9800998ecf8427e"},
                       {"X-Object-Meta-Long", std::string(300, 'y')},
                       // A unicode value (an old writer's): its UTF-8.
                       {"X-Object-Meta-Uni", "\xc3\xa9\xe2\x98\x83"},
                       {"X-Object-Meta-Empty", ""}});
}

TEST_CASE("parse_metadata_pickle: a 70,000-byte value")
{
  const auto map = parse_metadata_pickle(load_vector("big"));
  CHECK(map
        == MetadataMap{{"name", "/AUTH_test/c/big"},
                       {"X-Timestamp", "1795332046.73390"},
                       {"X-Object-Meta-Big", std::string(70000, 'x')}});
}

TEST_CASE("parse_metadata_pickle: hand-built forms Swift may produce")
{
  SECTION("builtins.bytes spelling and a latin-1 byte above 0x7f")
  {
    const auto pickle = k_header + "(" + short_bytes("k") + "cbuiltins\nbytes\n)R"
                        + short_bytes("l") + latin1_bytes("\xc3\xbf") + "u.";
    CHECK(parse_metadata_pickle(pickle) == MetadataMap{{"k", ""}, {"l", "\xff"}});
  }
  SECTION("LONG_BINPUT / LONG_BINGET, SHORT_BINUNICODE, BINUNICODE8, "
          "BINBYTES8, TUPLE")
  {
    const auto pickle = k_header + "(" + bytes({0x8c, 1}) + "a" + "r" + le32(70000) + "j"
                        + le32(70000) + bytes({0x8d, 1, 0, 0, 0, 0, 0, 0, 0}) + "b"
                        + bytes({0x8e, 1, 0, 0, 0, 0, 0, 0, 0}) + "c" + k_encode + "("
                        + unicode("d") + unicode("latin1") + "tR" + short_bytes("e") + "u.";
    CHECK(parse_metadata_pickle(pickle) == MetadataMap{{"a", "a"}, {"b", "c"}, {"d", "e"}});
  }
  SECTION("protocol 1 DICT and a later duplicate key")
  {
    CHECK(parse_metadata_pickle("(" + short_bytes("k") + short_bytes("1") + short_bytes("k")
                                + short_bytes("2") + "d.")
          == MetadataMap{{"k", "2"}});
  }
  SECTION("an empty dict")
  {
    CHECK(parse_metadata_pickle(k_header + ".").empty());
  }
}

TEST_CASE("parse_metadata_pickle: rejects globals other than Swift's")
{
  const auto message = error_of(load_vector("os_system"));
  CHECK_THAT(message, Catch::Contains("unsupported global \"posix system\""));
  CHECK_THAT(message, Catch::Contains("at offset 50"));

  CHECK_THAT(error_of(k_header + "cbuiltins\neval\n"),
             Catch::Contains("unsupported global \"builtins eval\""));
  CHECK_THAT(error_of(k_header + "c_codecs\ndecode\n"), Catch::Contains("unsupported global"));
  CHECK_THAT(error_of(k_header + "cos\nsystem"), Catch::Contains("GLOBAL name has no newline"));
}

TEST_CASE("parse_metadata_pickle: rejects malformed input with its offset")
{
  // Each case: input, expected message fragment.
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"", "truncated: no STOP opcode at offset 0"},
    {k_header, "truncated: no STOP opcode at offset 3"},
    {k_header + "N", "unsupported opcode NONE (0x4e) at offset 3"},
    {k_header + "\xff", "unknown opcode 0xff at offset 3"},
    {k_header + "(" + short_bytes("k") + "i", "unsupported opcode INST"},
    {bytes({0x80, 0x06}) + "}.", "unsupported protocol 6"},
    {k_header + bytes({0x80, 0x02}), "PROTO after the first opcode at offset 3"},
    {k_header + "s.", "stack underflow at offset 3"},
    {bytes({0x80, 0x02}) + "s.", "stack underflow at offset 2"},
    {k_header + "(q" + bytes({0}), "stack underflow at offset 4"},
    {k_header + "h" + bytes({7}), "memo index 7 is not defined at offset 3"},
    {k_header + "j" + le32(1000000), "memo index 1000000 is not defined"},
    {k_header + "X" + le32(0xffffffff),
     "length 4294967295 is larger than the remaining 0 bytes at offset 3"},
    {k_header + bytes({0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80}) + "abc",
     "length 9223372036854775808 is larger than the remaining 3 bytes"},
    {k_header + "T" + le32(0xfffffff0), "negative BINSTRING length"},
    {k_header + bytes({0x95}) + le32(100) + le32(0) + ".",
     "frame length 100 is larger than the remaining 1 bytes"},
    {k_header + "X" + le32(2) + "\xc3\x28", "invalid UTF-8 at byte 0 of a str"},
    {k_header + "X" + le32(3) + "\xe0\x80\xaf", "invalid UTF-8"},
    {k_header + latin1_bytes("\xe2\x98\x83"), "_codecs.encode: U+2603 is not latin-1"},
    {k_header + k_encode + unicode("a") + unicode("utf8") + bytes({0x86}) + "R",
     "_codecs.encode with unsupported encoding \"utf8\""},
    {k_header + k_encode + unicode("a") + bytes({0x85}) + "R",
     "_codecs.encode needs exactly (str, str)"},
    {k_header + "c__builtin__\nbytes\n" + unicode("a") + bytes({0x85}) + "R",
     "bytes() called with arguments"},
    {k_header + unicode("a") + ")R", "type mismatch: REDUCE of a str"},
    {k_header + k_encode + unicode("a") + "R", "type mismatch: REDUCE arguments are a str"},
    {k_header + unicode("a") + bytes({0x85, 0x85}), "type mismatch: tuple item is a tuple"},
    {k_header + ")" + short_bytes("v") + "s.", "type mismatch: dict key is a tuple"},
    {k_header + "q" + bytes({0}) + short_bytes("k") + "h" + bytes({0}) + "s.",
     "type mismatch: dict value is a dict"},
    {k_header + short_bytes("k") + short_bytes("v") + short_bytes("w") + "s.",
     "type mismatch: setting items on a bytes"},
    {k_header + "(" + short_bytes("k") + "u.", "odd number of items for a dict"},
    {k_header + "u.", "no MARK to pop to"},
    {k_header + "}", "more than one dict at offset 3"},
    {unicode("a") + ".", "type mismatch: result is a str, expected a dict"},
    {k_header + ")" + ".", "STOP with 2 values on the stack, expected 1"},
    {k_header + "(.", "STOP with an open MARK"},
    {bytes({0x80, 0x02}) + ".", "STOP with 0 values on the stack"},
    {k_header + ".x", "1 trailing bytes after STOP at offset 4"},
  };
  for (const auto& [input, fragment] : cases) {
    INFO("expecting: " << fragment);
    CHECK_THAT(error_of(input), Catch::Contains(fragment));
  }
}

TEST_CASE("parse_metadata_pickle: trailing bytes after a valid pickle")
{
  const auto pickle = load_vector("swift_data");
  CHECK_THAT(error_of(pickle + "x"), Catch::Contains("1 trailing bytes after STOP at offset 531"));
}

TEST_CASE("parse_metadata_pickle: every truncation is an error")
{
  for (const auto& name : k_valid_vectors) {
    const auto pickle = load_vector(name);
    for (std::size_t length = 0; length < pickle.size(); ++length) {
      INFO(name << " truncated to " << length << " bytes");
      CHECK_THROWS_AS(parse_metadata_pickle(pickle.substr(0, length)), InputError);
    }
  }
  // The 70 KB vector: the first and last bytes, and a sample in between.
  const auto big = load_vector("big");
  for (std::size_t length = 0; length < big.size();
       length += (length < 200 || length > big.size() - 200) ? 1 : 997) {
    INFO("big truncated to " << length << " bytes");
    CHECK_THROWS_AS(parse_metadata_pickle(big.substr(0, length)), InputError);
  }
}

TEST_CASE("parse_metadata_pickle: memo references cannot amplify memory")
{
  // One 200-byte value stored under 300 keys: 60 KB from a 2 KB input.
  std::string pickle = k_header + "(" + short_bytes("first") + "B" + le32(200)
                       + std::string(200, 'v') + "q" + bytes({0});
  for (unsigned i = 0; i < 300; ++i) {
    pickle += short_bytes("k" + std::to_string(i)) + "h" + bytes({0});
  }
  pickle += "u.";
  CHECK_THAT(error_of(pickle), Catch::Contains("decoded dict is larger than the input"));

  // The same call tuple reduced again and again.
  std::string reduce = k_header + k_encode + "q" + bytes({0}) + unicode(std::string(200, 'v'))
                       + unicode("latin1") + bytes({0x86}) + "q" + bytes({1}) + "R";
  for (unsigned i = 0; i < 100; ++i) {
    reduce += "h" + bytes({0}) + "h" + bytes({1}) + "R";
  }
  CHECK_THAT(error_of(reduce), Catch::Contains("decoded strings are larger than the input"));
}

TEST_CASE("parse_metadata_pickle: random corruption never crashes")
{
  // Deterministic: the same mutations on every run.
  std::mt19937 random(20240229);
  std::size_t parsed = 0;
  std::size_t rejected = 0;
  for (const auto& name : k_valid_vectors) {
    const auto original = load_vector(name);
    std::uniform_int_distribution<std::size_t> position(0, original.size() - 1);
    std::uniform_int_distribution<int> value(0, 255);
    for (int round = 0; round < 2000; ++round) {
      auto pickle = original;
      const int flips = 1 + round % 4;
      for (int i = 0; i < flips; ++i) {
        pickle[position(random)] = static_cast<char>(value(random));
      }
      try {
        parse_metadata_pickle(pickle);
        ++parsed;
      } catch (const InputError&) {
        ++rejected;
      }
    }
  }
  CHECK(parsed + rejected == k_valid_vectors.size() * 2000);
  CHECK(rejected > 0);
}

TEST_CASE("MetadataPickleParser: one parser for many pickles agrees with parse_metadata_pickle")
{
  hlm::diskfile::MetadataPickleParser parser;
  for (int round = 0; round < 2; ++round) {
    for (const auto& name : k_valid_vectors) {
      INFO(name);
      const auto pickle = load_vector(name);
      parser.parse(pickle);
      MetadataMap map;
      for (const auto& [key, value] : parser.entries()) {
        map.insert_or_assign(std::string(key), std::string(value));
      }
      CHECK(map == parse_metadata_pickle(pickle));
      for (const auto& [key, value] : map) {
        CHECK(parser.find(key) == value);
      }
      CHECK_FALSE(parser.find("X-Not-There"));
    }
  }
}

TEST_CASE("MetadataPickleParser: views stay valid while the pickle does")
{
  // Two latin-1 values that are not ASCII: decoded into the parser, the
  // first must survive the second's decoding.
  const std::string pickle = k_header + "(" + unicode("name") + latin1_bytes("/a/c/\xc3\xa9")
                             + unicode("X-Object-Meta-B") + latin1_bytes("\xc3\xbf\xc3\xa0")
                             + unicode("X-Object-Meta-C") + short_bytes("plain") + "u.";
  hlm::diskfile::MetadataPickleParser parser;
  parser.parse(pickle);
  REQUIRE(parser.entries().size() == 3);
  CHECK(parser.find("name") == "/a/c/\xe9");
  CHECK(parser.find("X-Object-Meta-B") == "\xff\xe0");
  CHECK(parser.find("X-Object-Meta-C") == "plain");
  CHECK(parser.find("X-Object-Meta-C")->data() >= pickle.data()); // not copied
  CHECK(parser.find("X-Object-Meta-C")->data() < pickle.data() + pickle.size());
}

TEST_CASE("MetadataPickleParser: a key set twice: the later value, both entries kept")
{
  const std::string pickle = k_header + "(" + unicode("k") + short_bytes("first") + unicode("k")
                             + short_bytes("second") + "u.";
  hlm::diskfile::MetadataPickleParser parser;
  parser.parse(pickle);
  CHECK(parser.entries().size() == 2);
  CHECK(parser.find("k") == "second");
  CHECK(parse_metadata_pickle(pickle) == MetadataMap{{"k", "second"}});
}

TEST_CASE("MetadataPickleParser: an error leaves no entries, and the next parse works")
{
  hlm::diskfile::MetadataPickleParser parser;
  const auto good = load_vector("swift_data");
  parser.parse(good);
  REQUIRE_FALSE(parser.entries().empty());
  const std::string bad = k_header + "(" + unicode("k") + short_bytes("v") + "u"; // no STOP
  CHECK_THROWS_WITH(parser.parse(bad), Catch::Contains("no STOP opcode"));
  CHECK(parser.entries().empty());
  CHECK_FALSE(parser.find("k"));
  parser.parse(good);
  CHECK(parser.find("name") == parse_metadata_pickle(good).at("name"));
}

TEST_CASE("MetadataPickleParser: memo indices out of order and MEMOIZE after them")
{
  // BINPUT 5 first (not the next index), then MEMOIZE (index = memo size,
  // 1), then both read back.
  const std::string pickle = k_header + "(" + unicode("a") + "q" + bytes({5}) + short_bytes("x")
                             + bytes({0x94}) + "h" + bytes({5}) + "h" + bytes({1}) + "u.";
  hlm::diskfile::MetadataPickleParser parser;
  parser.parse(pickle);
  CHECK(parser.find("a") == "x");
  REQUIRE(parser.entries().size() == 2);
  CHECK(parser.entries()[1].first == "a");
  CHECK(parser.entries()[1].second == "x");
  CHECK(parse_metadata_pickle(pickle) == MetadataMap{{"a", "x"}});
}
