#include <hlm/connector/settings.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using hlm::connector::Settings;

TEST_CASE("Settings: taken keys pass, leftovers are errors", "[connector]")
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
