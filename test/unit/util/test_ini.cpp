#include "../support/temp_dir.hpp"

#include <hlm/util/error.hpp>
#include <hlm/util/ini.hpp>

#include <catch2/catch.hpp>

using namespace hlm;

TEST_CASE("IniFile reads Swift-style files", "[util]")
{
  const auto ini = IniFile::parse(
    "[DEFAULT]\n"
    "devices = /srv/node\n"
    "Mount_Check = false\n"
    "# comment\n"
    "; other comment\n"
    "[app:object-server]\n"
    "use = egg:swift#object\n"
    "[hlm]\n"
    "set log_level = DEBUG\n"
    "connector: dummy\n"
    "connector = tapesim\n"
    "[app:object-server]\n"
    "devices = /srv/other\n",
    "test.conf");
  CHECK(ini.source() == "test.conf");
  CHECK(ini.get("DEFAULT", "mount_check") == "false");
  CHECK(ini.get("app:object-server", "use") == "egg:swift#object");
  CHECK(ini.get("hlm", "set log_level") == "DEBUG");
  CHECK(ini.get("hlm", "connector") == "tapesim"); // the later line wins
  CHECK(ini.get_with_default("app:object-server", "devices") == "/srv/other");
  CHECK(ini.get_with_default("app:object-server", "mount_check") == "false");
  CHECK_FALSE(ini.get("hlm", "missing"));
  CHECK_FALSE(ini.get("nosuch", "key"));
  CHECK(ini.section_names() == std::vector<std::string>{"DEFAULT", "app:object-server", "hlm"});
}

TEST_CASE("IniFile errors name the file and line", "[util]")
{
  CHECK_THROWS_AS(IniFile::parse("[ok]\nthis line has no equals sign\n", "bad.conf"), ConfigError);
  CHECK_THROWS_WITH(IniFile::parse("[ok]\na = 1\nnot a pair\n", "bad.conf"),
                    Catch::Contains("bad.conf") && Catch::Contains("line 3"));
  CHECK_THROWS_WITH(IniFile::load("/nonexistent/dir/x.conf"), Catch::Contains("x.conf"));
}
