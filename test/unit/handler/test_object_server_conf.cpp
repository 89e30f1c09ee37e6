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
  CHECK(parse("[hlm]\nswifthlm_connector_module = swifthlm.dummy_connector\n").connector
        == "dummy");
  CHECK(parse("[hlm]\nswifthlm_connector_module = swifthlm.ltfsdm_connector\n").connector
        == "ltfsdm");
  CHECK_THROWS_WITH(parse("[hlm]\nswifthlm_connector_module = mine.connector\n"),
                    Catch::Contains("Python connector modules are not supported"));
  CHECK_THROWS_WITH(
    parse("[hlm]\nconnector = dummy\nswifthlm_connector_module = swifthlm.dummy_connector\n"),
    Catch::Contains("both"));
}

TEST_CASE("object-server.conf: unknown [hlm] keys and bad ports are errors", "[handler]")
{
  CHECK_THROWS_WITH(parse("[hlm]\nconector = dummy\n"),
                    Catch::Contains("unknown key \"conector\" in [hlm]")
                      && Catch::Contains("did you mean \"connector\""));
  CHECK_THROWS_WITH(parse("[DEFAULT]\nbind_port = http\n"), Catch::Contains("bind_port"));
}

TEST_CASE("object-server.conf: hlm_swift's guard in the pipeline", "[handler]")
{
  const std::string app = "[app:object-server]\nuse = egg:swift#object\n";
  // Debian's stock pipeline, then the lines hlm-handler(8) adds to it.
  CHECK_FALSE(parse("[pipeline:main]\npipeline = healthcheck recon object-server\n" + app
                    + "[filter:healthcheck]\nuse = egg:swift#healthcheck\n")
                .read_guard);
  CHECK(parse("[pipeline:main]\npipeline = healthcheck recon hlm_guard object-server\n" + app
              + "[filter:hlm_guard]\nuse = egg:hlm_swift#guard\n")
          .read_guard);
  // Any section name; the distribution spelled with a dash; the factory.
  CHECK(parse("[pipeline:main]\npipeline =\n  tape  object-server\n" + app
              + "[filter:tape]\nuse = egg:hlm-swift#guard\n")
          .read_guard);
  CHECK(parse("[pipeline:main]\npipeline = g object-server\n" + app
              + "[filter:g]\npaste.filter_factory = hlm_swift.guard:filter_factory\n")
          .read_guard);
  // A section that is not in the pipeline, or names after the app, do not count.
  CHECK_FALSE(parse("[pipeline:main]\npipeline = healthcheck object-server\n" + app
                    + "[filter:hlm_guard]\nuse = egg:hlm_swift#guard\n")
                .read_guard);
  CHECK_FALSE(parse("[pipeline:main]\npipeline = object-server hlm_guard\n" + app
                    + "[filter:hlm_guard]\nuse = egg:hlm_swift#guard\n")
                .read_guard);
  CHECK_FALSE(parse("[pipeline:main]\npipeline = hlm_guard object-server\n" + app
                    + "[filter:hlm_guard]\nuse = egg:swift#healthcheck\n")
                .read_guard);
  CHECK_FALSE(parse(app).read_guard);
}

TEST_CASE("guard_warnings: one sentence per missing setting", "[handler]")
{
  ObjectServerConf conf;
  conf.path = "/etc/swift/object-server.conf";
  conf.read_guard = true;
  CHECK(guard_warnings(conf, 0, "egg:hlm_swift#replication.fs", "/etc/swift/swift.conf").empty());
  const auto both = guard_warnings(conf = ObjectServerConf{}, 2, "", "/etc/swift/swift.conf");
  REQUIRE(both.size() == 2);
  CHECK_THAT(both[0], Catch::Contains("not guarded") && Catch::Contains("egg:hlm_swift#guard"));
  CHECK_THAT(both[1],
             Catch::Contains("storage policy 2 in /etc/swift/swift.conf")
               && Catch::Contains("diskfile_module = egg:hlm_swift#replication.fs"));
  CHECK(guard_warnings(conf, 0, "egg:swift#replication.fs", "/s.conf").size() == 2);
}
