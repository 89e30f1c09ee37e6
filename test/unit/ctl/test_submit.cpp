#include "queue_fixture.hpp"
#include "routed_http.hpp"

#include <hlm/ctl/submit.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/percent.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::QueueFixture;
using hlm::test::RoutedHttp;

namespace {

std::string
swift_error(const std::function<void()>& call, int* status = nullptr)
{
  try {
    call();
  } catch (const SwiftError& e) {
    if (status != nullptr) {
      *status = e.http_status();
    }
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("submit: parse_target reads the swift client's names", "[ctl]")
{
  CHECK(parse_target("c") == queue::Target{"", "c", ""});
  CHECK(parse_target("AUTH_a/c") == queue::Target{"AUTH_a", "c", ""});
  CHECK(parse_target("/AUTH_a/c/dir/o") == queue::Target{"AUTH_a", "c", "dir/o"});
  for (const char* bad : {"", "/", "a//o", "a/c/", "a/\xff"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_target(bad), InputError);
  }
  CHECK(to_string(queue::Target{"AUTH_a", "c", ""}) == "AUTH_a/c");
  CHECK(to_string(queue::Target{"AUTH_a", "c", "dir/o"}) == "AUTH_a/c/dir/o");
}

TEST_CASE("submit: the container's policy and existence, as the caller sees them", "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/silver", 204, {{"X-Storage-Policy", "silver"}});
  http.answer("HEAD /v1/AUTH_test/plain", 204);
  http.answer("HEAD /v1/AUTH_test/secret", 403);
  CHECK(container_policy(client, q.swift_conf, {"AUTH_test", "silver", ""}).index == 1);
  CHECK(container_policy(client, q.swift_conf, {"AUTH_test", "plain", "o"}).index == 0);

  int status = 0;
  CHECK(swift_error(
          [&] {
            require_container(client, {"AUTH_test", "gone", ""});
          },
          &status)
        == "container AUTH_test/gone does not exist");
  CHECK(status == 404);
  swift_error(
    [&] {
      container_policy(client, q.swift_conf, {"AUTH_test", "secret", ""});
    },
    &status);
  CHECK(status == 403);

  http.answer("HEAD /v1/AUTH_test/plain/o", 200);
  http.sent.clear();
  require_object(client, {"AUTH_test", "plain", ""}); // a container: nothing to ask
  require_object(client, {"AUTH_test", "plain", "o"});
  CHECK(http.sent_routes() == std::vector<std::string>{"HEAD /v1/AUTH_test/plain/o"});
  CHECK(swift_error(
          [&] {
            require_object(client, {"AUTH_test", "plain", "p"});
          },
          &status)
        == "object AUTH_test/plain/p does not exist");
  CHECK(status == 404);
}

TEST_CASE("submit: Submitter queues one pending entry per request", "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/silver", 204, {{"X-Storage-Policy", "silver"}});
  http.answer("HEAD /v1/AUTH_test/silver/o", 200);
  Submitter submitter(client, *q.queue, q.swift_conf);

  const auto first = submitter.submit(Operation::migrate, {"AUTH_test", "silver", "o"});
  const auto second = submitter.submit(Operation::recall, {"AUTH_test", "silver", ""});
  CHECK(first.entry.operation == Operation::migrate);
  CHECK(first.entry.target == queue::Target{"AUTH_test", "silver", "o"});
  CHECK(first.entry.policy_index == 1);
  CHECK(first.entry.submitted.size() == 18);
  CHECK(first.id == queue::encode_entry(first.entry));
  CHECK(second.entry.policy_index == 1);
  CHECK(q.names(queue::Which::pending) == std::vector<std::string>{first.id, second.id});
  // The container's policy is asked once.
  CHECK(http.sent_routes()
        == std::vector<std::string>{"HEAD /v1/AUTH_test/silver", "HEAD /v1/AUTH_test/silver/o"});
}

TEST_CASE("submit: nothing is queued for what the caller cannot see", "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/c", 204);
  Submitter submitter(client, *q.queue, q.swift_conf);
  CHECK_THROWS_AS(submitter.submit(Operation::migrate, {"AUTH_test", "c", "missing"}), SwiftError);
  CHECK_THROWS_AS(submitter.submit(Operation::migrate, {"AUTH_test", "gone", ""}), SwiftError);
  CHECK_THROWS_AS(submitter.submit(Operation::status, {"AUTH_test", "c", ""}), InputError);
  CHECK(q.names(queue::Which::pending).empty());
}

TEST_CASE("submit: a refused container is asked once for its targets in a row", "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/c", 204);
  Submitter submitter(client, *q.queue, q.swift_conf);
  for (const char* object : {"a", "b", "c"}) {
    CHECK_THROWS_WITH(submitter.submit(Operation::migrate, {"AUTH_test", "gone", object}),
                      "container AUTH_test/gone does not exist");
  }
  CHECK(http.sent_routes() == std::vector<std::string>{"HEAD /v1/AUTH_test/gone"});
}

namespace {

// RoutedHttp with a container whose listing honours marker and limit, and
// whose objects answer HEAD; `listing_status` refuses the listing.
class ListingHttp : public test::RoutedHttp
{
public:
  std::set<std::string> names;
  std::set<std::string> unlisted; // answer HEAD, not in the listing
  std::string container_path = "/v1/AUTH_test/big";
  int listing_status = 200;

  swift::HttpResponse
  send(const swift::HttpRequest& request) override
  {
    const auto host = request.url.find('/', request.url.find("//") + 2);
    const auto query = request.url.find('?');
    const auto path = request.url.substr(host, query - host);
    if (request.method == swift::Method::head && path == container_path) {
      sent.push_back(request);
      swift::HttpResponse response;
      response.status = 204;
      response.headers = {{"X-Container-Object-Count", std::to_string(names.size())}};
      return response;
    }
    if (request.method == swift::Method::head && path.rfind(container_path + "/", 0) == 0) {
      sent.push_back(request);
      swift::HttpResponse response;
      const auto name = percent_decode(path.substr(container_path.size() + 1));
      response.status = names.count(name) || unlisted.count(name) ? 200 : 404;
      return response;
    }
    if (request.method == swift::Method::get && path == container_path) {
      sent.push_back(request);
      return page(query == std::string::npos ? "" : request.url.substr(query + 1));
    }
    return RoutedHttp::send(request);
  }

  std::vector<std::string> markers; // of the listing requests, in order

private:
  swift::HttpResponse
  page(const std::string& query)
  {
    std::string marker;
    std::size_t limit = 10000;
    std::size_t start = 0;
    while (start <= query.size()) {
      auto end = query.find('&', start);
      end = end == std::string::npos ? query.size() : end;
      const auto pair = query.substr(start, end - start);
      const auto eq = pair.find('=');
      if (pair.substr(0, eq) == "marker") {
        marker = percent_decode(pair.substr(eq + 1));
      } else if (pair.substr(0, eq) == "limit") {
        limit = std::stoul(pair.substr(eq + 1));
      }
      start = end + 1;
    }
    markers.push_back(marker);
    swift::HttpResponse response;
    response.status = listing_status;
    if (listing_status != 200) {
      return response;
    }
    auto rows = nlohmann::json::array();
    for (auto it = names.upper_bound(marker); it != names.end() && rows.size() < limit; ++it) {
      rows.push_back({{"name", *it}, {"bytes", 1}});
    }
    response.body = rows.dump();
    return response;
  }
};

std::size_t
count_routes(const test::RoutedHttp& http, const std::string& prefix)
{
  const auto routes = http.sent_routes();
  return static_cast<std::size_t>(std::count_if(routes.begin(), routes.end(), [&](const auto& r) {
    return r.rfind(prefix, 0) == 0;
  }));
}

} // namespace

TEST_CASE("submit: a dense sorted list is checked against the container listing", "[ctl]")
{
  QueueFixture q;
  ListingHttp http;
  for (int i = 0; i < 25000; ++i) {
    http.names.insert(fmt::format("o{:05d}", i));
  }
  auto client = test::preauthenticated_client(http);
  Submitter submitter(client, *q.queue, q.swift_conf);
  // Every other object, and some that do not exist (beyond the end too).
  std::vector<std::string> missing;
  std::size_t queued = 0;
  for (int i = 0; i < 26000; i += 2) {
    const auto object = fmt::format("o{:05d}", i) + (i % 1000 == 500 ? "x" : "");
    try {
      submitter.submit(Operation::migrate, {"AUTH_test", "big", object});
      ++queued;
    } catch (const SwiftError& e) {
      CHECK(e.http_status() == 404);
      CHECK(std::string(e.what()) == "object AUTH_test/big/" + object + " does not exist");
      missing.push_back(object);
    }
  }
  CHECK(queued == 12500 - 25);
  CHECK(missing.size() == 25 + 500);
  // 3 pages of 10,000 cost 3 × 21 HEADs: that many HEADs, then the
  // listing (3 pages, and the HEADs of the objects it did not have).
  CHECK(http.markers.size() == 3);
  CHECK(count_routes(http, "HEAD /v1/AUTH_test/big/") == 63 + missing.size());
  CHECK(http.markers.front() == "o00124"); // the last object asked by HEAD
  CHECK(q.names(queue::Which::pending).size() == queued);
}

TEST_CASE("submit: a sparse list in a big container is checked by HEADs", "[ctl]")
{
  QueueFixture q;
  ListingHttp http;
  for (int i = 0; i < 100000; ++i) {
    http.names.insert(fmt::format("o{:06d}", i));
  }
  auto client = test::preauthenticated_client(http);
  Submitter submitter(client, *q.queue, q.swift_conf);
  for (const char* object : {"o000007", "o050000", "o099999"}) {
    submitter.submit(Operation::recall, {"AUTH_test", "big", object});
  }
  CHECK_THROWS_WITH(submitter.submit(Operation::recall, {"AUTH_test", "big", "zzz"}),
                    "object AUTH_test/big/zzz does not exist");
  CHECK(http.markers.empty());
  CHECK(count_routes(http, "HEAD /v1/AUTH_test/big/") == 4);
  CHECK(count_routes(http, "HEAD /v1/AUTH_test/big") == 5); // and the container once
}

TEST_CASE("submit: a listing the caller may not read leaves the HEADs", "[ctl]")
{
  QueueFixture q;
  ListingHttp http;
  http.listing_status = 403;
  for (int i = 0; i < 100; ++i) {
    http.names.insert(fmt::format("o{:03d}", i));
  }
  auto client = test::preauthenticated_client(http);
  Submitter submitter(client, *q.queue, q.swift_conf);
  for (int i = 0; i < 100; ++i) {
    submitter.submit(Operation::migrate, {"AUTH_test", "big", fmt::format("o{:03d}", i)});
  }
  CHECK(http.markers.size() == 1);
  CHECK(count_routes(http, "HEAD /v1/AUTH_test/big/") == 100);
  CHECK(q.names(queue::Which::pending).size() == 100);
}

TEST_CASE("submit: a new object the listing does not have yet is asked by HEAD", "[ctl]")
{
  QueueFixture q;
  ListingHttp http;
  http.names = {"a", "b", "d"};
  auto client = test::preauthenticated_client(http);
  Submitter submitter(client, *q.queue, q.swift_conf);
  submitter.submit(Operation::migrate, {"AUTH_test", "big", "a"}); // the budget: 1 HEAD
  submitter.submit(Operation::migrate, {"AUTH_test", "big", "b"}); // listed
  CHECK(http.markers == std::vector<std::string>{"a"});
  CHECK(count_routes(http, "HEAD /v1/AUTH_test/big/") == 1);
  http.unlisted = {"c"};
  submitter.submit(Operation::migrate, {"AUTH_test", "big", "c"}); // not listed: HEAD
  CHECK(count_routes(http, "HEAD /v1/AUTH_test/big/") == 2);
  submitter.submit(Operation::migrate, {"AUTH_test", "big", "d"}); // listed
  // Not in order: a new merge, from HEADs again.
  submitter.submit(Operation::migrate, {"AUTH_test", "big", "a"});
  CHECK(count_routes(http, "HEAD /v1/AUTH_test/big/") == 3);
  CHECK(http.markers.size() == 1);
}
