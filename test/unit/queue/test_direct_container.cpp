#include "../support/ring_writer.hpp"
#include "fake_container_servers.hpp"

#include <hlm/queue/direct_container.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::queue;
using hlm::test::FakeContainerServers;

namespace {

// Four container servers 127.0.0.1:6010..6040 (sdb1..sdb4), three replicas.
struct Fixture
{
  ring::Ring ring = ring::Ring::parse(test::serialize(test::simple_ring(4, 3)),
                                      "container.ring.gz");
  ring::HashSecret secret{"prefix", "suffix"};
  FakeContainerServers http;
  DirectContainerClient client{http, ring, secret};
  std::string container = std::string(k_pending_container);
  std::vector<std::string> hosts;

  Fixture()
  {
    for (const auto* node : client.nodes(container)) {
      hosts.push_back(node->ip + ":" + std::to_string(node->port));
    }
  }

  std::vector<std::string>
  list(const ListOptions& options = {})
  {
    std::vector<std::string> names;
    client.list_rows(container, options, [&](const Row& row) {
      names.push_back(row.name);
      return true;
    });
    return names;
  }

  std::string
  container_path() const
  {
    return "/.swifthlm/" + container;
  }
};

const SwiftTimestamp k_t1(179533204673390);

} // namespace

TEST_CASE("direct: rows go to every primary with the row headers", "[queue]")
{
  Fixture f;
  REQUIRE(f.client.nodes(f.container).size() == 3);
  CHECK(f.client.quorum(f.container) == 2);
  CHECK(
    f.client.put_row(f.container, "/20260101000000.000/migrate/a/c/0/o", k_t1, k_entry_content_type)
    == 3);
  REQUIRE(f.http.requests.size() == 3);
  const auto partition = f.client.partition(f.container);
  const auto nodes = f.client.nodes(f.container);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& request = f.http.requests[i];
    CHECK(request.method == swift::Method::put);
    CHECK(request.url
          == "http://" + f.hosts[i] + "/" + nodes[i]->device + "/" + std::to_string(partition)
               + "/.swifthlm/pending-hlm-requests//20260101000000.000/migrate/a/c/0/o");
    CHECK(swift::find_header(request.headers, "X-Timestamp") == "1795332046.73390");
    CHECK(swift::find_header(request.headers, "X-Size") == "0");
    CHECK(swift::find_header(request.headers, "X-Etag") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(swift::find_header(request.headers, "X-Content-Type") == "application/swifthlm-task");
    CHECK(swift::find_header(request.headers, "X-Backend-Storage-Policy-Index") == "0");
    CHECK(request.timeout == DirectContainerClient::k_request_timeout);
  }
}

TEST_CASE("direct: hostile names are percent-encoded and reach the server intact", "[queue]")
{
  Fixture f;
  const std::vector<std::string> names = {
    "/20260101000000.000/migrate/AUTH_t\xc3\xa9st/c/0/\xf0\x9f\x93\xbc 100% ?x=1#frag\nline",
    "/20260101000000.000/migrate/a/c/0/..",
    "/20260101000000.000/migrate/a/c/0/./a/../b/",
    "/20260101000000.000/migrate/a/c/0//double//slash",
    "plain",
  };
  for (const auto& name : names) {
    REQUIRE(f.client.put_row(f.container, name, k_t1, k_entry_content_type) == 3);
    const auto& url = f.http.requests.back().url;
    INFO(url);
    CHECK(url.find_first_of(" \n?#") == std::string::npos);
    CHECK(url.find("/../") == std::string::npos);
    CHECK(url.find("/./") == std::string::npos);
    CHECK(FakeContainerServers::parse(url).name == name);
  }
  CHECK_THAT(f.http.requests[0].url,
             Catch::EndsWith("//20260101000000.000/migrate/AUTH_t%C3%A9st/c/0/"
                             "%F0%9F%93%BC%20100%25%20%3Fx%3D1%23frag%0Aline"));
  CHECK_THAT(f.http.requests[3].url, Catch::EndsWith("/0/%2E%2E"));
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  CHECK(f.list() == sorted);
}

TEST_CASE("direct: quorum is a majority of the primaries", "[queue]")
{
  Fixture f;
  const std::string name = "/20260101000000.000/migrate/a/c/0/o";
  SECTION("2 of 3 accept")
  {
    f.http.servers[f.hosts[1]].mode = FakeContainerServers::Mode::refuse;
    CHECK(f.client.put_row_quorum(f.container, name, k_t1, k_entry_content_type) == 2);
    CHECK(f.client.delete_row(f.container, name, k_t1.plus_offset(1)) == 2);
  }
  SECTION("1 of 3 accepts: the error names the failing nodes")
  {
    f.http.servers[f.hosts[0]].mode = FakeContainerServers::Mode::refuse;
    f.http.servers[f.hosts[2]].mode = FakeContainerServers::Mode::fail;
    f.http.servers[f.hosts[2]].fail_status = 507;
    const auto nodes = f.client.nodes(f.container);
    try {
      f.client.put_row_quorum(f.container, name, k_t1, k_entry_content_type);
      FAIL("no exception");
    } catch (const TransportError& e) {
      const std::string what = e.what();
      INFO(what);
      CHECK(e.transient());
      CHECK_THAT(what, Catch::Contains("1 of 3 container servers accepted, 2 needed"));
      CHECK_THAT(what, Catch::Contains(node_label(*nodes[0]) + ": connection refused"));
      CHECK_THAT(what, Catch::Contains(node_label(*nodes[2]) + ": HTTP 507"));
      CHECK_THAT(what, !Catch::Contains(node_label(*nodes[1])));
      CHECK_THAT(what, Catch::Contains(name));
    }
    CHECK_THROWS_AS(f.client.delete_row(f.container, name, k_t1), TransportError);
    // put_row itself only counts.
    CHECK(f.client.put_row(f.container, name, k_t1, k_entry_content_type) == 1);
  }
}

TEST_CASE("direct: deletes carry their timestamp; newer rows survive", "[queue]")
{
  Fixture f;
  const std::string name = "/20260101000000.000/migrate/a/c/0/o";
  f.client.put_row_quorum(f.container, name, k_t1, k_entry_content_type);
  f.client.delete_row(f.container, name, k_t1.plus_offset(1));
  const auto& request = f.http.requests.back();
  CHECK(request.method == swift::Method::del);
  CHECK(swift::find_header(request.headers, "X-Timestamp") == "1795332046.73390_0000000000000001");
  CHECK(f.list().empty());

  // Re-submitted later; the old dequeue arriving late does not remove it.
  const SwiftTimestamp t2(k_t1.ticks() + 1);
  f.client.put_row_quorum(f.container, name, t2, k_entry_content_type);
  f.client.delete_row(f.container, name, k_t1.plus_offset(1));
  CHECK(f.list() == std::vector<std::string>{name});
  f.client.delete_row(f.container, name, t2.plus_offset(1));
  CHECK(f.list().empty());
}

TEST_CASE("direct: listings merge all replicas page by page", "[queue]")
{
  Fixture f;
  const auto put_on = [&](std::size_t replica,
                          const std::string& name,
                          const SwiftTimestamp& ts,
                          const std::string& type) {
    const auto nodes = f.client.nodes(f.container);
    REQUIRE(f.client.put_row_on(*nodes[replica], f.container, name, ts, type).ok());
  };
  const SwiftTimestamp old_ts(k_t1);
  const SwiftTimestamp new_ts(k_t1.ticks() + 100);
  // Replica 0: a b c d e; replica 1: b d f (d newer); replica 2: a g,
  // plus a name with a high byte that must sort last.
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    put_on(0, name, old_ts, "type/0");
  }
  put_on(1, "b", old_ts, "type/1");
  put_on(1, "d", new_ts, "type/1-new");
  put_on(1, "f", old_ts, "type/1");
  put_on(2, "a", old_ts, "type/2");
  put_on(2, "g", old_ts, "type/2");
  put_on(2, "\xc3\xa9", old_ts, "type/2");
  f.http.requests.clear();

  std::vector<Row> rows;
  f.client.list_rows(f.container, ListOptions{{}, 2}, [&](const Row& row) {
    rows.push_back(row);
    return true;
  });
  std::vector<std::string> names;
  for (const auto& row : rows) {
    names.push_back(row.name);
  }
  CHECK(names == std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g", "\xc3\xa9"});
  CHECK(rows[3].content_type == "type/1-new");
  CHECK(rows[3].timestamp == new_ts);
  CHECK(rows[2].timestamp == old_ts);

  // Paged with limit=2 and the marker of each replica's last row.
  std::vector<std::string> urls;
  for (const auto& request : f.http.requests) {
    CHECK(request.method == swift::Method::get);
    urls.push_back(request.url);
  }
  CHECK(std::count_if(urls.begin(),
                      urls.end(),
                      [](const std::string& url) {
                        return url.find("?format=json&limit=2&marker=d") != std::string::npos;
                      })
        == 2);
  // Replica 0: 3 pages (a b, c d, e); replica 1: 2 (b d, f); replica 2: 2.
  CHECK(urls.size() == 7);

  SECTION("prefix")
  {
    put_on(0, "prefix/x", old_ts, "t");
    put_on(2, "prefix/y", old_ts, "t");
    CHECK(f.list(ListOptions{"prefix/", 1}) == std::vector<std::string>{"prefix/x", "prefix/y"});
    CHECK_THAT(f.http.requests.back().url, Catch::Contains("&prefix=prefix%2F"));
  }
  SECTION("early stop")
  {
    f.http.requests.clear();
    int calls = 0;
    f.client.list_rows(f.container, ListOptions{{}, 2}, [&](const Row&) { return ++calls < 2; });
    CHECK(calls == 2);
    CHECK(f.http.requests.size() == 3); // the first page of each replica only
  }
  SECTION("a replica without the container DB contributes nothing")
  {
    f.http.servers[f.hosts[0]].mode = FakeContainerServers::Mode::no_db;
    CHECK(f.list(ListOptions{{}, 2})
          == std::vector<std::string>{"a", "b", "d", "f", "g", "\xc3\xa9"});
  }
  SECTION("a failing replica is skipped")
  {
    f.http.servers[f.hosts[1]].mode = FakeContainerServers::Mode::refuse;
    CHECK(f.list(ListOptions{{}, 2})
          == std::vector<std::string>{"a", "b", "c", "d", "e", "g", "\xc3\xa9"});
    f.http.servers[f.hosts[1]].mode = FakeContainerServers::Mode::fail;
    f.http.servers[f.hosts[0]].mode = FakeContainerServers::Mode::fail_pages;
    CHECK(f.list(ListOptions{{}, 2}) == std::vector<std::string>{"a", "b", "g", "\xc3\xa9"});
  }
  SECTION("all replicas down")
  {
    for (const auto& host : f.hosts) {
      f.http.servers[host].mode = FakeContainerServers::Mode::refuse;
    }
    f.http.servers[f.hosts[2]].mode = FakeContainerServers::Mode::fail;
    CHECK_THROWS_MATCHES(f.list(),
                         TransportError,
                         Catch::Matchers::Predicate<TransportError>([&](const TransportError& e) {
                           const std::string what = e.what();
                           return what.find("no container server answered") != std::string::npos
                                  && what.find("connection refused") != std::string::npos
                                  && what.find("HTTP 503") != std::string::npos;
                         }));
  }
  SECTION("all replicas fail part way: the listing is incomplete")
  {
    for (const auto& host : f.hosts) {
      f.http.servers[host].mode = FakeContainerServers::Mode::fail_pages;
    }
    std::vector<std::string> seen;
    CHECK_THROWS_AS(f.client.list_rows(f.container,
                                       ListOptions{{}, 2},
                                       [&](const Row& row) {
                                         seen.push_back(row.name);
                                         return true;
                                       }),
                    TransportError);
    // What the replicas' first pages held came out before the failures.
    CHECK(seen == std::vector<std::string>{"a", "b", "d", "g"});
  }
  SECTION("every replica without a DB is an empty listing")
  {
    for (const auto& host : f.hosts) {
      f.http.servers[host].mode = FakeContainerServers::Mode::no_db;
    }
    CHECK(f.list().empty());
  }
}

TEST_CASE("direct: a replica that lists out of order is left out", "[queue]")
{
  struct Unsorted : swift::HttpClient
  {
    std::string bad_host;
    FakeContainerServers inner;
    swift::HttpResponse
    send(const swift::HttpRequest& request) override
    {
      if (request.url.find(bad_host) != std::string::npos) {
        return {200,
                {},
                R"([{"name":"b","content_type":"t","last_modified":"2026-01-01T00:00:00.000000"},)"
                R"({"name":"a","content_type":"t","last_modified":"2026-01-01T00:00:00.000000"}])"};
      }
      return inner.send(request);
    }
  };
  Fixture f;
  Unsorted http;
  http.bad_host = f.hosts[0];
  DirectContainerClient client(http, f.ring, f.secret);
  client.put_row(f.container, "z", k_t1, "t");
  std::vector<std::string> names;
  client.list_rows(f.container, {}, [&](const Row& row) {
    names.push_back(row.name);
    return true;
  });
  CHECK(names == std::vector<std::string>{"z"});
}

TEST_CASE("direct: rows carry their container's storage policy index", "[queue]")
{
  Fixture f;
  const std::string path = "/.swifthlm/" + f.container;
  SECTION("a container SwiftHLM created through a proxy whose default policy is 1")
  {
    for (const auto& host : f.hosts) {
      f.http.servers[host].dbs[path];
      f.http.servers[host].policy[path] = 1;
    }
    CHECK(f.client.policy_index(f.container) == 1);
    REQUIRE(f.client.put_row(f.container, "a", k_t1, k_entry_content_type) == 3);
    REQUIRE(f.client.delete_row(f.container, "a", SwiftTimestamp(179533204673391)) == 3);
    CHECK(f.http.row_policies == std::vector<std::string>(6, "1"));
    CHECK(f.http.container_heads.size() == 1); // asked once, then remembered
  }
  SECTION("a container no server has yet: created by the first row, policy 0")
  {
    REQUIRE(f.client.put_row(f.container, "a", k_t1, k_entry_content_type) == 3);
    CHECK(f.http.row_policies == std::vector<std::string>(3, "0"));
    // The first server had it once the first row was written there, so the
    // index was learned and remembered within that write.
    const auto asked = f.http.container_heads.size();
    REQUIRE(f.client.put_row(f.container, "b", k_t1, k_entry_content_type) == 3);
    REQUIRE(f.client.put_row(f.container, "c", k_t1, k_entry_content_type) == 3);
    CHECK(f.http.container_heads.size() == asked);
    CHECK(f.http.row_policies == std::vector<std::string>(9, "0"));
  }
  SECTION("a policy index that is not a number is an error naming the server")
  {
    f.http.servers[f.hosts[0]].dbs[path];
    f.http.servers[f.hosts[0]].policy[path] = -1;
    CHECK_THROWS_WITH(f.client.policy_index(f.container),
                      Catch::Contains(f.hosts[0])
                        && Catch::Contains("storage policy index \"-1\""));
  }
}

TEST_CASE("direct: a replica that gave no answer in time is not asked again for a while", "[queue]")
{
  Fixture f;
  const std::string name = "/20260101000000.000/migrate/a/c/0/o";
  REQUIRE(f.client.put_row_quorum(f.container, name, k_t1, k_entry_content_type) == 3);
  auto& frozen = f.http.servers[f.hosts[1]];
  frozen.mode = FakeContainerServers::Mode::no_answer;
  frozen.delay = DirectContainerClient::k_slow_no_answer;
  const auto asked = [&] {
    return std::count_if(f.http.requests.begin(), f.http.requests.end(), [&](const auto& r) {
      return r.url.find(f.hosts[1]) != std::string::npos;
    });
  };
  SECTION("a listing")
  {
    const auto before = asked();
    CHECK(f.list() == std::vector<std::string>{name});
    CHECK(asked() == before + 1);
    // Left out of the next listing and the next write, not waited for again.
    CHECK(f.list() == std::vector<std::string>{name});
    CHECK(f.client.put_row_quorum(f.container, name, k_t1.plus_offset(1), k_entry_content_type)
          == 2);
    CHECK(asked() == before + 1);
  }
  SECTION("a row write")
  {
    const auto before = asked();
    CHECK(f.client.put_row_quorum(f.container, name, k_t1.plus_offset(1), k_entry_content_type)
          == 2);
    CHECK(asked() == before + 1);
    CHECK(f.list() == std::vector<std::string>{name});
    CHECK(asked() == before + 1);
  }
  SECTION("a quick refusal is asked again")
  {
    frozen.mode = FakeContainerServers::Mode::refuse;
    const auto before = asked();
    CHECK(f.list() == std::vector<std::string>{name});
    CHECK(f.list() == std::vector<std::string>{name});
    CHECK(asked() == before + 2);
  }
}
