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
