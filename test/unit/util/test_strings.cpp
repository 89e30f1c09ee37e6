#include <hlm/util/strings.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace hlm;

TEST_CASE("is_valid_utf8", "[util]")
{
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xbc"));
  CHECK_FALSE(is_valid_utf8("\xc3"));             // truncated
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));         // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));     // surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // above U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xff"));
}

TEST_CASE("parse_int accepts whole integers only", "[util]")
{
  CHECK(parse_int("42") == 42);
  CHECK(parse_int("-7") == -7);
  CHECK_FALSE(parse_int(""));
  CHECK_FALSE(parse_int("4x"));
  CHECK_FALSE(parse_int(" 4"));
  CHECK_FALSE(parse_int("99999999999999999999999"));
}

TEST_CASE("config_true_value follows Swift", "[util]")
{
  for (const char* yes : {"true", "TRUE", "1", "yes", "on", "t", "y", " True "}) {
    CHECK(config_true_value(yes));
  }
  for (const char* no : {"false", "0", "no", "off", "", "maybe"}) {
    CHECK_FALSE(config_true_value(no));
  }
}

TEST_CASE("closest_match suggests only likely typos", "[util]")
{
  const std::vector<std::string> names = {"dummy", "tapesim", "ltfsdm"};
  CHECK(closest_match("dumy", names) == "dummy");
  CHECK(closest_match("tapesimm", names) == "tapesim");
  CHECK_FALSE(closest_match("completely-different", names));
  CHECK_FALSE(closest_match("x", std::vector<std::string>{}));
}

TEST_CASE("did_you_mean words closest_match's hint", "[util]")
{
  const std::vector<std::string> names = {"dummy", "tapesim", "ltfsdm"};
  CHECK(did_you_mean("dumy", names) == ", did you mean \"dummy\"?");
  CHECK(did_you_mean("completely-different", names).empty());
}

TEST_CASE("split_list splits at commas and drops empty items", "[util]")
{
  CHECK(split_list("a, b ,,c ,") == std::vector<std::string>{"a", "b", "c"});
  CHECK(split_list(" one ") == std::vector<std::string>{"one"});
  CHECK(split_list("a b, c") == std::vector<std::string>{"a b", "c"});
  CHECK(split_list("").empty());
  CHECK(split_list(" , ,").empty());
}

TEST_CASE("printable escapes what could forge terminal output", "[util]")
{
  CHECK(printable("a\nb") == "a\\nb");
  CHECK(printable("\x1b[31m") == "\\x1b[31m");
  CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(printable("\xff") == "\\xff");
  CHECK(printable("back\\slash") == "back\\\\slash");
}

TEST_CASE("counted puts the noun in the right number", "[util]")
{
  CHECK(counted(0, "object", "objects") == "0 objects");
  CHECK(counted(1, "object", "objects") == "1 object");
  CHECK(counted(2, "entry", "entries") == "2 entries");
}
