#include "../support/temp_dir.hpp"

#include <hlm/util/error.hpp>
#include <hlm/util/ini.hpp>

#include <catch2/catch.hpp>

using namespace hlm;

TEST_CASE("IniFile reads Swift-style files", "[util]")
{
  const auto ini = IniFile::parse("[DEFAULT]\n"
                                  "devices = /srv/node\n"
                                  "Mount_Check = false\n"
                                  "# comment\n"
                                  "; other comment\n"
                                  "[app:object-server]\n"
                                  "use = egg:swift#object\n"
                                  "path = %(devices)s/other, 100%%\n"
                                  "[hlm]\n"
                                  "set log_level = DEBUG\n"
                                  "connector: dummy  # not a comment: Swift keeps it\n"
                                  "pipeline = a\n"
                                  "  b\n",
                                  "test.conf");
  CHECK(ini.source() == "test.conf");
  CHECK(ini.get("DEFAULT", "mount_check") == "false");
  CHECK(ini.get("app:object-server", "use") == "egg:swift#object");
  CHECK(ini.get("hlm", "set log_level") == "DEBUG");
  CHECK(ini.get("hlm", "connector") == "dummy  # not a comment: Swift keeps it");
  CHECK(ini.get("hlm", "pipeline") == "a\nb");
  CHECK(ini.get("app:object-server", "path") == "/srv/node/other, 100%");
  CHECK(ini.get_with_default("app:object-server", "devices") == "/srv/node");
  CHECK(ini.get_with_default("app:object-server", "mount_check") == "false");
  CHECK_FALSE(ini.get("hlm", "missing"));
  CHECK_FALSE(ini.get("nosuch", "key"));
  CHECK(ini.section_names() == std::vector<std::string>{"DEFAULT", "app:object-server", "hlm"});
}

TEST_CASE("IniFile: a line of any length, as Debian's stock files have", "[util]")
{
  const std::string pipeline(5000, 'x');
  const auto ini = IniFile::parse("# " + std::string(300, '-')
                                    + "\n[pipeline:main]\npipeline = " + pipeline + "\n",
                                  "long.conf");
  CHECK(ini.get("pipeline:main", "pipeline") == pipeline);
}

TEST_CASE("IniFile: a key or section given twice is an error, as in Swift", "[util]")
{
  CHECK_THROWS_WITH(IniFile::parse("[hlm]\nconnector = dummy\nConnector = tapesim\n", "d.conf"),
                    Catch::Contains("d.conf") && Catch::Contains("line 3")
                      && Catch::Contains("\"connector\" appears twice in [hlm]"));
  CHECK_THROWS_WITH(IniFile::parse("[a]\nx = 1\n[b]\n[a]\n", "d.conf"),
                    Catch::Contains("line 4") && Catch::Contains("section [a] appears twice"));
  CHECK_NOTHROW(IniFile::parse("[DEFAULT]\nx = 1\n[a]\n[DEFAULT]\ny = 2\n", "d.conf"));
}

TEST_CASE("IniFile errors name the file and line", "[util]")
{
  CHECK_THROWS_AS(IniFile::parse("[ok]\nthis line has no equals sign\n", "bad.conf"), ConfigError);
  CHECK_THROWS_WITH(IniFile::parse("[ok]\na = 1\nnot a pair\n", "bad.conf"),
                    Catch::Contains("bad.conf") && Catch::Contains("line 3"));
  CHECK_THROWS_WITH(IniFile::load("/nonexistent/dir/x.conf"), Catch::Contains("x.conf"));
}
