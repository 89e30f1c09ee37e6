#include "../support/temp_dir.hpp"

#include <hlm/config/hlm_conf.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using namespace hlm::config;

TEST_CASE("hlm.conf: defaults, node access and overrides", "[config]")
{
  const auto conf = parse_hlm_conf(
    "[hlm]\nswift_dir = /srv/swift\n"
    "[dispatch]\nbatch_size = 500\nmax_parallel_nodes = 4\ninterval = 10\n"
    "session_chunk = 300\nwindow = 9000\n"
    "lock_file = /tmp/x.lock\n"
    "[nodes]\nlocal_addresses = 10.0.0.1, 10.0.0.2\nuser = hlm\nport = 2222\n"
    "known_hosts = /etc/hlm/kh\nhandler = /opt/hlm/bin/hlm-handler\n"
    "object_server_conf = /etc/swift/object-server/\n"
    "[node:10.0.0.9]\naddress = 192.168.0.9\nport = 22\nio_timeout = 5\n"
    "[node:10.0.0.2]\ntransport = ssh\n",
    "hlm.conf");
  CHECK(conf.swift_dir == "/srv/swift");
  CHECK(conf.batch_size == 500);
  CHECK(conf.max_parallel_nodes == 4);
  CHECK(conf.session_chunk == 300);
  CHECK(conf.window == 9000);
  CHECK(conf.interval == std::chrono::seconds(10));
  CHECK(conf.lock_file == "/tmp/x.lock");

  const auto local = conf.access_for("10.0.0.1");
  CHECK(local.transport == TransportKind::local);
  CHECK(local.handler_argv()
        == std::vector<std::string>{"/opt/hlm/bin/hlm-handler",
                                    "--object-server-conf",
                                    "/etc/swift/object-server/"});

  const auto remote = conf.access_for("10.0.0.5");
  CHECK(remote.transport == TransportKind::ssh);
  CHECK(remote.user == "hlm");
  CHECK(remote.port == 2222);
  CHECK(remote.known_hosts == "/etc/hlm/kh");

  const auto overridden = conf.access_for("10.0.0.9");
  CHECK(overridden.address == "192.168.0.9");
  CHECK(overridden.port == 22);
  CHECK(overridden.user == "hlm"); // inherited from [nodes]
  CHECK(overridden.io_timeout == std::chrono::seconds(5));
  CHECK(conf.access_for("10.0.0.2").transport == TransportKind::ssh); // explicit wins
}

TEST_CASE("hlm.conf: unknown sections, keys and bad values are errors", "[config]")
{
  CHECK_THROWS_WITH(parse_hlm_conf("[dispatch]\nbatchsize = 5\n", "c"),
                    Catch::Contains("unknown key \"batchsize\" in [dispatch]")
                      && Catch::Contains("did you mean \"batch_size\""));
  CHECK_THROWS_WITH(parse_hlm_conf("[node]\nport = 1\n", "c"),
                    Catch::Contains("unknown section [node]"));
  CHECK_THROWS_WITH(parse_hlm_conf("[nodes]\ntransport = telnet\n", "c"),
                    Catch::Contains("expected \"ssh\" or \"local\""));
  CHECK_THROWS_WITH(parse_hlm_conf("[nodes]\nport = 70000\n", "c"),
                    Catch::Contains("expected a number from 1 to 65535"));
  CHECK_THROWS_WITH(parse_hlm_conf("[dispatch]\nbatch_size = 0\n", "c"),
                    Catch::Contains("batch_size"));
  CHECK_THROWS_WITH(parse_hlm_conf("[node:]\nport = 1\n", "c"), Catch::Contains("ring IP"));
}

TEST_CASE("hlm.conf: which file is read", "[config]")
{
  test::TempDir dir;
  const auto file = dir.write("hlm.conf", "[dispatch]\nbatch_size = 7\n");
  CHECK(load_hlm_conf(file, nullptr).batch_size == 7);
  CHECK(load_hlm_conf(std::nullopt, file.c_str()).batch_size == 7);
  CHECK(load_hlm_conf(file, "/nonexistent").batch_size == 7); // --config beats HLM_CONF
  CHECK_THROWS_WITH(load_hlm_conf(dir.path() / "missing.conf", nullptr),
                    Catch::Contains("missing.conf"));
  CHECK_THROWS_AS(load_hlm_conf(std::nullopt, (dir.path() / "missing.conf").c_str()), ConfigError);
}

TEST_CASE("hlm.conf: [hlmctl] list_min_objects, 100 unless given, 0 for never", "[config]")
{
  CHECK(parse_hlm_conf("", "c").list_min_objects == 100);
  CHECK(parse_hlm_conf("[hlmctl]\nlist_min_objects = 0\n", "c").list_min_objects == 0);
  CHECK(parse_hlm_conf("[hlmctl]\nlist_min_objects = 5000\n", "c").list_min_objects == 5000);
  CHECK_THROWS_WITH(parse_hlm_conf("[hlmctl]\nlist_min_objects = -1\n", "c"),
                    Catch::Contains("list_min_objects"));
  CHECK_THROWS_WITH(parse_hlm_conf("[hlmctl]\nlist_min_object = 7\n", "c"),
                    Catch::Contains("did you mean \"list_min_objects\""));
}
