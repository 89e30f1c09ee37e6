#include <hlm/util/error.hpp>
#include <hlm/util/ini.hpp>
#include <hlm/util/settings.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace hlm;
using Catch::Contains;

namespace {

Settings
one(const std::string& key, const std::string& value)
{
  return Settings("[s] in f.conf", {{key, value}});
}

// The message a getter's refusal carries.
template<typename Read>
std::string
refusal(const std::string& key, const std::string& value, Read read)
{
  auto settings = one(key, value);
  try {
    read(settings);
  } catch (const SettingError& e) {
    return e.what();
  }
  return "accepted";
}

enum class Colour { red, green, blue };

} // namespace

TEST_CASE("Settings: taken keys pass, leftovers are errors", "[util][settings]")
{
  Settings settings("[hlm:dummy] in test.conf", {{"db_path", "/x.sqlite"}, {"db_pth", "typo"}});
  CHECK(settings.take("db_path") == "/x.sqlite");
  CHECK(settings.take_or("missing", "fallback") == "fallback");
  CHECK_THROWS_AS(settings.check_all_used(), ConfigError);
  CHECK_THROWS_WITH(settings.check_all_used(),
                    Catch::Contains("unknown key \"db_pth\" in [hlm:dummy] in test.conf")
                      && Catch::Contains("did you mean \"db_path\""));

  Settings clean("[s]", {{"a", "1"}});
  clean.take("a");
  CHECK_NOTHROW(clean.check_all_used());
}

TEST_CASE("Settings: unknown keys, with and without a suggestion", "[util][settings]")
{
  Settings close("[s] in f.conf", {{"colour", "red"}});
  close.take("color");
  CHECK_THROWS_WITH(close.check_all_used(),
                    "unknown key \"colour\" in [s] in f.conf, did you mean \"color\"?");

  Settings far("[s] in f.conf", {{"flavour", "mint"}});
  far.take("db_path");
  CHECK_THROWS_WITH(far.check_all_used(), "unknown key \"flavour\" in [s] in f.conf");

  Settings hostile("[s]", {{"a\nb", "x"}});
  CHECK_THROWS_WITH(hostile.check_all_used(), "unknown key \"a\\nb\" in [s]");
}

TEST_CASE("Settings: a section of an INI file names the file first", "[util][settings]")
{
  const auto ini = IniFile::parse("[dispatch]\nbatchsize = 5\nport = x\n", "hlm.conf");
  auto settings = Settings::from_section(ini, "dispatch");
  CHECK(settings.origin() == "[dispatch]");
  CHECK_THROWS_WITH(settings.number("port", 1, 1, 9),
                    "hlm.conf: port = \"x\" in [dispatch]: expected a number from 1 to 9");
  settings.take("batch_size");
  CHECK_THROWS_WITH(
    settings.check_all_used(),
    "hlm.conf: unknown key \"batchsize\" in [dispatch], did you mean \"batch_size\"?");

  auto absent = Settings::from_section(ini, "nodes");
  CHECK(absent.take_or("user", "swift") == "swift");
  CHECK_NOTHROW(absent.check_all_used());
}

TEST_CASE("Settings: required keys and aliases", "[util][settings]")
{
  auto settings = one("command", "/bin/true");
  CHECK(settings.require("command", "the program to run") == "/bin/true");
  CHECK_THROWS_WITH(settings.require("other", "the program to run"),
                    "missing \"other\" in [s] in f.conf: the program to run");

  Settings aliases("[s]", {{"set log_level", "DEBUG"}, {"log_level", "INFO"}});
  CHECK(aliases.take_last_of({"log_level", "set log_level"}) == "INFO");
  CHECK_NOTHROW(aliases.check_all_used());
  Settings none("[s]", {});
  CHECK_FALSE(none.take_last_of({"log_level", "set log_level"}));
}

TEST_CASE("Settings: numbers and counts", "[util][settings]")
{
  const auto number = [](Settings& s) { return s.number("n", 7, -5, 10); };
  CHECK(one("n", " -5 ").number("n", 7, -5, 10) == -5);
  CHECK(one("n", "10").number("n", 7, -5, 10) == 10);
  CHECK(one("m", "1").number("n", 7, -5, 10) == 7);
  CHECK(refusal("n", "11", number)
        == "n = \"11\" in [s] in f.conf: expected a number from -5 to 10");
  for (const auto* bad : {"", "1.5", "1e3", "ten", "3 4", "99999999999999999999"}) {
    CHECK(refusal("n", bad, number) != "accepted");
  }

  const auto count = [](Settings& s) { return s.count("c", 3, 100); };
  CHECK(one("c", "100").count("c", 3, 100) == 100);
  CHECK(one("x", "1").count("c", 3, 100) == 3);
  CHECK(refusal("c", "0", count)
        == "c = \"0\" in [s] in f.conf: expected a whole number from 1 to 100");
  for (const auto* bad : {"-1", "101", "1h", "1.0", "+", ""}) {
    CHECK(refusal("c", bad, count) != "accepted");
  }
}

TEST_CASE("Settings: durations in whole seconds", "[util][settings]")
{
  using std::chrono::seconds;
  const auto read = [](Settings& s) {
    return s.duration("t", seconds(30), seconds(0), seconds(60));
  };
  CHECK(one("t", "0").duration("t", seconds(30), seconds(0), seconds(60)) == seconds(0));
  CHECK(one("t", "60").duration("t", seconds(30), seconds(0), seconds(60)) == seconds(60));
  CHECK(one("x", "1").duration("t", seconds(30), seconds(0), seconds(60)) == seconds(30));
  CHECK(refusal("t", "1m", read)
        == "t = \"1m\" in [s] in f.conf: expected a number of seconds from 0 to 60");
  CHECK(refusal("t", "61", read) != "accepted");
  CHECK(refusal("t", "-1", read) != "accepted");
}

TEST_CASE("Settings: decimal numbers", "[util][settings]")
{
  using Minimum = Settings::Minimum;
  CHECK(one("r", "0").real("r", 1.5, Minimum::zero) == 0);
  CHECK(one("r", " 2.5 ").real("r", 1.5, Minimum::above_zero) == 2.5);
  CHECK(one("x", "0").real("r", 1.5, Minimum::zero) == 1.5);
  const auto zero = [](Settings& s) { return s.real("r", 1, Minimum::zero); };
  const auto above = [](Settings& s) { return s.real("r", 1, Minimum::above_zero); };
  CHECK(refusal("r", "-0.5", zero) == "r = \"-0.5\" in [s] in f.conf: expected a number >= 0");
  CHECK(refusal("r", "0", above) == "r = \"0\" in [s] in f.conf: expected a positive number");
  for (const auto* bad : {"", "inf", "nan", "1e999", "1s", "0x10"}) {
    CHECK(refusal("r", bad, zero) != "accepted");
  }
}

TEST_CASE("Settings: sizes with binary suffixes", "[util][settings]")
{
  CHECK(one("s", "1073741824").size("s", 1) == 1073741824);
  CHECK(one("s", "1k").size("s", 1) == 1024);
  CHECK(one("s", "64M").size("s", 1) == 64ULL << 20);
  CHECK(one("s", "1G").size("s", 1) == 1ULL << 30);
  CHECK(one("s", "18T").size("s", 1) == 18ULL << 40);
  CHECK(one("x", "1").size("s", 5) == 5);
  const auto read = [](Settings& s) { return s.size("s", 1); };
  CHECK(refusal("s", "12Q", read)
        == "s = \"12Q\" in [s] in f.conf: expected a size in bytes such as 1073741824, 64M or 1G");
  for (const auto* bad : {"0", "-1", "M", "", "1.5G", "99999999T"}) {
    CHECK(refusal("s", bad, read) != "accepted");
  }
}

TEST_CASE("Settings: booleans", "[util][settings]")
{
  for (const auto* yes : {"true", "True", "1", "yes", "ON", "t", "y"}) {
    CHECK(one("b", yes).boolean("b", false));
  }
  for (const auto* no : {"false", "FALSE", "0", "no", "off", "f", "n"}) {
    CHECK_FALSE(one("b", no).boolean("b", true));
  }
  CHECK(one("x", "no").boolean("b", true));
  const auto read = [](Settings& s) { return s.boolean("b", false); };
  CHECK(refusal("b", "maybe", read) == "b = \"maybe\" in [s] in f.conf: expected true or false");
  CHECK(refusal("b", "", read) != "accepted");
}

TEST_CASE("Settings: choices from a table", "[util][settings]")
{
  const auto read = [](Settings& s, ChoiceNames names = ChoiceNames::plain) {
    return s.choice("c",
                    Colour::red,
                    {{"red", Colour::red}, {"green", Colour::green}, {"blue", Colour::blue}},
                    names);
  };
  auto green = one("c", " green ");
  CHECK(read(green) == Colour::green);
  auto absent = one("x", "blue");
  CHECK(read(absent) == Colour::red);
  CHECK(refusal("c", "Red", [&](Settings& s) { return read(s); })
        == "c = \"Red\" in [s] in f.conf: expected red, green or blue");
  CHECK(refusal("c", "pink", [&](Settings& s) { return read(s, ChoiceNames::quoted); })
        == "c = \"pink\" in [s] in f.conf: expected \"red\", \"green\" or \"blue\"");
  CHECK(describe_choices({"keep", "punch"}, ChoiceNames::plain) == "keep or punch");
}

TEST_CASE("Settings: comma-separated lists", "[util][settings]")
{
  CHECK(one("l", " a, b ,,c ,").list("l", {}) == std::vector<std::string>{"a", "b", "c"});
  CHECK(one("l", "").list("l", {"x"}).empty());
  CHECK(one("m", "a").list("l", {"x"}) == std::vector<std::string>{"x"});
}

TEST_CASE("Settings: refusals carry their parts", "[util][settings]")
{
  auto settings = one("drives", "0");
  try {
    settings.count("drives", 1, 10);
    FAIL("accepted");
  } catch (const SettingError& e) {
    CHECK(e.key() == "drives");
    CHECK(e.value() == "0");
    CHECK(e.expected() == "a whole number from 1 to 10");
  }
  CHECK_THROWS_WITH(settings.reject("pool", "a\tb", "a pool name"),
                    "pool = \"a\\tb\" in [s] in f.conf: expected a pool name");
}
