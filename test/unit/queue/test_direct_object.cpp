#include "../support/ring_writer.hpp"
#include "../support/temp_dir.hpp"
#include "fake_object_servers.hpp"

#include <hlm/queue/direct_object.hpp>
#include <hlm/ring/hash_path.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::queue;
using hlm::test::FakeObjectServers;

namespace {

// Object servers of policy 0 on 6110..6140 (three replicas), of policy 1 on
// 6210..6240 (two).
struct Fixture
{
  test::TempDir dir;
  ring::HashSecret secret{"p", "s"};
  FakeObjectServers http;
  std::unique_ptr<DirectObjectClient> client;

  Fixture()
  {
    test::write_gzip(dir.path() / "object.ring.gz", test::serialize(test::simple_ring(4, 3, 6110)));
    test::write_gzip(dir.path() / "object-1.ring.gz",
                     test::serialize(test::simple_ring(4, 2, 6210)));
    client = std::make_unique<DirectObjectClient>(http, dir.path(), secret);
  }

  // (host, device, partition) of each primary of a/c/o in `policy`.
  struct Primary
  {
    std::string host;
    std::string device;
    std::uint32_t partition;
  };

  std::vector<Primary>
  primaries(int policy, std::string_view container, std::string_view name)
  {
    const auto& ring = client->object_ring(policy);
    const auto partition = ring.partition(ring::hash_path(secret, ".swifthlm", container, name));
    std::vector<Primary> out;
    for (const auto* node : ring.primary_nodes(partition)) {
      out.push_back({node->ip + ":" + std::to_string(node->port), node->device, partition});
    }
    return out;
  }

  // An object stored as of `timestamp` on every primary.
  void
  store(int policy,
        std::string_view container,
        std::string_view name,
        const SwiftTimestamp& timestamp)
  {
    for (const auto& p : primaries(policy, container, name)) {
      http.put(p.host,
               p.device,
               p.partition,
               "/.swifthlm/" + std::string(container) + "/" + std::string(name),
               timestamp);
    }
  }

  std::size_t
  left(int policy, std::string_view container, std::string_view name)
  {
    std::size_t count = 0;
    for (const auto& p : primaries(policy, container, name)) {
      const auto* object = http.find(p.host,
                                     p.device,
                                     p.partition,
                                     "/.swifthlm/" + std::string(container) + "/"
                                       + std::string(name));
      count += object && !object->deleted ? 1 : 0;
    }
    return count;
  }
};

const SwiftTimestamp k_stored(170000000000000);
const SwiftTimestamp k_later(179533204673390);
const std::string k_name = "/20170303034043.566/migrate/AUTH_test/c\xc3\xa9/0/a/./b";

} // namespace

TEST_CASE("direct object: a DELETE on every primary of the policy's ring", "[queue]")
{
  Fixture f;
  for (const int policy : {0, 1}) {
    INFO("policy " << policy);
    f.http.requests.clear();
    f.store(policy, "failed-hlm-requests", k_name, k_stored);
    REQUIRE(f.left(policy, "failed-hlm-requests", k_name) == (policy == 0 ? 3 : 2));

    CHECK(f.client->delete_object(".swifthlm", "failed-hlm-requests", k_name, k_later, policy)
          == (policy == 0 ? 3 : 2));
    CHECK(f.left(policy, "failed-hlm-requests", k_name) == 0);
    REQUIRE(f.http.requests.size() == (policy == 0 ? 3u : 2u));
    const auto primaries = f.primaries(policy, "failed-hlm-requests", k_name);
    for (std::size_t i = 0; i < primaries.size(); ++i) {
      const auto& request = f.http.requests[i];
      CHECK(request.method == swift::Method::del);
      // "<container>//<name>" and the "." segment kept as %2E.
      CHECK(request.url
            == "http://" + primaries[i].host + "/" + primaries[i].device + "/"
                 + std::to_string(primaries[i].partition)
                 + "/.swifthlm/failed-hlm-requests//20170303034043.566/migrate/AUTH_test/"
                   "c%C3%A9/0/a/%2E/b");
      CHECK(swift::find_header(request.headers, "X-Timestamp") == k_later.internal());
      CHECK(swift::find_header(request.headers, "X-Backend-Storage-Policy-Index")
            == std::to_string(policy));
    }
  }
  // The object servers were not asked to update any container.
  CHECK(f.http.container_updates == 0);
}

TEST_CASE("direct object: nothing there is done; a newer version or a failure is not", "[queue]")
{
  Fixture f;
  const auto primaries = f.primaries(0, "failed-hlm-requests", k_name);

  SECTION("no object anywhere: 404 from every server, done")
  {
    CHECK(f.client->delete_object(".swifthlm", "failed-hlm-requests", k_name, k_later, 0) == 3);
  }

  SECTION("one server without it, one refusing: still a majority")
  {
    f.store(0, "failed-hlm-requests", k_name, k_stored);
    f.http.servers[primaries[0].host].objects.clear();
    f.http.servers[primaries[1].host].mode = FakeObjectServers::Mode::refuse;
    CHECK(f.client->delete_object(".swifthlm", "failed-hlm-requests", k_name, k_later, 0) == 2);
    CHECK(f.left(0, "failed-hlm-requests", k_name) == 1);
  }

  SECTION("below a majority: an error naming the servers that failed, not those with nothing")
  {
    f.store(0, "failed-hlm-requests", k_name, k_stored);
    f.http.servers[primaries[0].host].objects.clear();
    f.http.servers[primaries[1].host].mode = FakeObjectServers::Mode::fail;
    f.http.servers[primaries[1].host].fail_status = 507;
    f.http.servers[primaries[2].host].mode = FakeObjectServers::Mode::refuse;
    try {
      f.client->delete_object(".swifthlm", "failed-hlm-requests", k_name, k_later, 0);
      FAIL("no error");
    } catch (const TransportError& e) {
      CHECK(e.transient());
      const std::string what = e.what();
      CHECK_THAT(what, Catch::Contains("1 of 3 object servers deleted it, 2 needed"));
      CHECK_THAT(what,
                 Catch::Contains(primaries[1].host + "/" + primaries[1].device + ": HTTP 507"));
      CHECK_THAT(
        what,
        Catch::Contains(primaries[2].host + "/" + primaries[2].device + ": connection refused"));
      CHECK_THAT(what, !Catch::Contains(primaries[0].host + "/" + primaries[0].device));
      CHECK_THAT(what, Catch::Contains("c\xc3\xa9"));
    }
  }

  SECTION("a version at least as new as the DELETE stays (409)")
  {
    f.store(0, "failed-hlm-requests", k_name, k_later);
    CHECK_THROWS_AS(f.client->delete_object(".swifthlm", "failed-hlm-requests", k_name, k_later, 0),
                    TransportError);
    CHECK(f.left(0, "failed-hlm-requests", k_name) == 3);
  }
}

TEST_CASE("direct object: a missing object ring is a configuration error", "[queue]")
{
  Fixture f;
  CHECK_THROWS_AS(f.client->delete_object(".swifthlm", "c", "o", k_later, 2), ConfigError);
  CHECK(f.http.requests.empty());
}

TEST_CASE("direct object: a PUT stores the body with its ETag on every primary", "[queue]")
{
  Fixture f;
  const std::string body = "line 1\nline 2\n";
  CHECK(f.client->put_object(".swifthlm", "hlm-lists", "L1", body, "text/plain", k_stored, 1) == 2);
  for (const auto& request : f.http.requests) {
    CHECK(request.method == swift::Method::put);
    CHECK(swift::find_header(request.headers, "ETag") == "c7253b64411b3aa485924efce6494bb5");
    CHECK(swift::find_header(request.headers, "Content-Length") == std::to_string(body.size()));
    CHECK(swift::find_header(request.headers, "X-Backend-Storage-Policy-Index") == "1");
    CHECK_FALSE(swift::find_header(request.headers, "X-Container-Host"));
  }
  CHECK(f.client->get_object(".swifthlm", "hlm-lists", "L1", 1) == body);
  // Deleted: gone from every primary.
  f.client->delete_object(".swifthlm", "hlm-lists", "L1", k_later, 1);
  CHECK(f.client->get_object(".swifthlm", "hlm-lists", "L1", 1) == std::nullopt);
}

TEST_CASE("direct object: a PUT below a majority fails; a GET reads past failing primaries",
          "[queue]")
{
  Fixture f;
  const auto primaries = f.primaries(0, "hlm-lists", "L2");
  REQUIRE(primaries.size() == 3);
  f.http.servers[primaries[0].host].mode = FakeObjectServers::Mode::refuse;
  CHECK(f.client->put_object(".swifthlm", "hlm-lists", "L2", "abc", "text/plain", k_stored, 0)
        == 2);
  // The first primary refuses, the second answers: the body comes from it.
  CHECK(f.client->get_object(".swifthlm", "hlm-lists", "L2", 0) == "abc");
  // The second fails too: the third still has it.
  f.http.servers[primaries[1].host].mode = FakeObjectServers::Mode::fail;
  CHECK(f.client->get_object(".swifthlm", "hlm-lists", "L2", 0) == "abc");
  // Two of L3's three primaries fail.
  for (auto& [host, server] : f.http.servers) {
    server.mode = FakeObjectServers::Mode::normal;
  }
  const auto l3 = f.primaries(0, "hlm-lists", "L3");
  f.http.servers[l3[0].host].mode = FakeObjectServers::Mode::refuse;
  f.http.servers[l3[2].host].mode = FakeObjectServers::Mode::fail;
  CHECK_THROWS_WITH(
    f.client->put_object(".swifthlm", "hlm-lists", "L3", "abc", "text/plain", k_stored, 0),
    Catch::Contains("1 of 3 object servers stored it, 2 needed"));
  // What the one primary stored stays (as after a proxy PUT short of
  // quorum), and can be read.
  CHECK(f.client->get_object(".swifthlm", "hlm-lists", "L3", 0) == "abc");
  // Nobody has L4, and two of three could not say: not "missing".
  for (auto& [host, server] : f.http.servers) {
    server.mode = FakeObjectServers::Mode::normal;
  }
  const auto l4 = f.primaries(0, "hlm-lists", "L4");
  f.http.servers[l4[0].host].mode = FakeObjectServers::Mode::refuse;
  f.http.servers[l4[2].host].mode = FakeObjectServers::Mode::fail;
  CHECK_THROWS_WITH(f.client->get_object(".swifthlm", "hlm-lists", "L4", 0),
                    Catch::Contains("cannot read object \".swifthlm/hlm-lists/L4\" (policy 0)"));
  f.http.servers[l4[0].host].mode = FakeObjectServers::Mode::normal;
  f.http.servers[l4[2].host].mode = FakeObjectServers::Mode::normal;
  CHECK(f.client->get_object(".swifthlm", "hlm-lists", "L4", 0) == std::nullopt);
}

TEST_CASE("direct object: a body that does not match its ETag is not taken", "[queue]")
{
  Fixture f;
  f.client->put_object(".swifthlm", "hlm-lists", "L5", "good", "text/plain", k_stored, 0);
  const auto primaries = f.primaries(0, "hlm-lists", "L5");
  // The first primary's copy rots.
  for (auto& [key, object] : f.http.servers[primaries[0].host].objects) {
    object.body = "evil";
  }
  CHECK(f.client->get_object(".swifthlm", "hlm-lists", "L5", 0) == "good");
  for (const auto& p : primaries) {
    for (auto& [key, object] : f.http.servers[p.host].objects) {
      object.body = "evil";
    }
  }
  CHECK_THROWS_WITH(f.client->get_object(".swifthlm", "hlm-lists", "L5", 0),
                    Catch::Contains("does not match its ETag"));
}
