#include <hlm/util/error.hpp>

#include <connectors/builtin.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using namespace hlm::connector;

TEST_CASE("the registry builds known connectors and rejects others", "[connector]")
{
  bool has_dummy = false;
  for (const auto& info : builtin_connectors()) {
    has_dummy = has_dummy || info.name == "dummy";
  }
  CHECK(has_dummy);
  CHECK_THROWS_WITH(create_connector("dumy", Settings("[hlm:dumy]", {})),
                    Catch::Contains("unknown connector \"dumy\"")
                      && Catch::Contains("did you mean \"dummy\""));
  CHECK_THROWS_WITH(create_connector("dummy", Settings("[hlm:dummy]", {{"colour", "red"}})),
                    Catch::Contains("unknown key \"colour\""));
}
