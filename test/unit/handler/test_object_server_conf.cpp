#include <hlm/handler/object_server_conf.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using namespace hlm::handler;

namespace {

ObjectServerConf
parse(const std::string& text)
{
  return parse_object_server_conf(IniFile::parse(text, "object-server.conf"));
}

} // namespace

TEST_CASE("object-server.conf: Swift's values and defaults", "[handler]")
{
  const auto defaults = parse("[app:object-server]\nuse = egg:swift#object\n");
  CHECK(defaults.devices == "/srv/node");
  CHECK(defaults.mount_check);
  CHECK(defaults.swift_dir == "/etc/swift");
  CHECK(defaults.connector == "dummy");
  CHECK_FALSE(defaults.bind_port);

  const auto conf = parse("[DEFAULT]\ndevices = /srv/1/node\nmount_check = false\n"
                          "bind_port = 6210\nswift_dir = /tmp/etc\n"
                          "[app:object-server]\ndevices = /srv/2/node\n"
                          "[hlm]\nset log_level = DEBUG\nconnector = dummy\n"
                          "[hlm:dummy]\ndb_path = /var/x.sqlite\n");
  CHECK(conf.devices == "/srv/2/node");
  CHECK_FALSE(conf.mount_check);
  CHECK(conf.bind_port == 6210);
  CHECK(conf.swift_dir == "/tmp/etc");
  CHECK(conf.log_level == "DEBUG");
  auto settings = conf.connector_settings;
  CHECK(settings.take("db_path") == "/var/x.sqlite");
  CHECK(settings.origin() == "[hlm:dummy] in object-server.conf");
}

TEST_CASE("object-server.conf: the seed's connector module names", "[handler]")
{
  CHECK(parse("[hlm]\nswifthlm_connector_module = swifthlm.dummy_connector\n").connector == "dummy");
  CHECK(parse("[hlm]\nswifthlm_connector_module = swifthlm.ltfsdm_connector\n").connector == "ltfsdm");
  CHECK_THROWS_WITH(parse("[hlm]\nswifthlm_connector_module = mine.connector\n"),
                    Catch::Contains("Python connector modules are not supported"));
  CHECK_THROWS_WITH(parse("[hlm]\nconnector = dummy\nswifthlm_connector_module = swifthlm.dummy_connector\n"),
                    Catch::Contains("both"));
}

TEST_CASE("object-server.conf: unknown [hlm] keys and bad ports are errors", "[handler]")
{
  CHECK_THROWS_WITH(parse("[hlm]\nconector = dummy\n"),
                    Catch::Contains("unknown key \"conector\" in [hlm]")
                      && Catch::Contains("did you mean \"connector\""));
  CHECK_THROWS_WITH(parse("[DEFAULT]\nbind_port = http\n"), Catch::Contains("bind_port"));
}
