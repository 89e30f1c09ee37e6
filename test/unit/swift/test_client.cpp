#include "fake_swift.hpp"

#include <hlm/swift/client.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

using namespace hlm::swift;
using hlm::test::FakeSwift;
using namespace std::chrono_literals;

namespace {

struct Fixture
{
  FakeSwift swift;
  std::vector<std::chrono::milliseconds> waits;

  AuthOptions
  credentials(const std::string& user = "test:tester", const std::string& key = "testing") const
  {
    AuthOptions options;
    options.auth_url = swift.auth_url();
    options.user = user;
    options.key = key;
    return options;
  }

  ClientOptions
  options()
  {
    ClientOptions options;
    options.timeout = 10s;
    options.retry.sleep = [this](std::chrono::milliseconds d) { waits.push_back(d); };
    return options;
  }

  Client
  client(const std::string& user = "test:tester", const std::string& key = "testing")
  {
    return Client(make_curl_client(), credentials(user, key), options());
  }

  std::vector<hlm::test::FakeRequest>
  storage_requests()
  {
    std::vector<hlm::test::FakeRequest> result;
    for (auto& request : swift.server().requests()) {
      if (request.path.starts_with("/v1/")) {
        result.push_back(std::move(request));
      }
    }
    return result;
  }
};

std::string
error_text(const std::function<void()>& action)
{
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

} // namespace

TEST_CASE_METHOD(Fixture, "client authenticates lazily and knows its account", "[swift]")
{
  auto swift_client = client();
  CHECK(swift.auth_requests() == 0);
  CHECK(swift_client.account() == "AUTH_test");
  CHECK(swift_client.storage_url() == swift.url() + "/v1/AUTH_test");
  CHECK(swift.auth_requests() == 1);
}

TEST_CASE_METHOD(Fixture, "client: containers with a storage policy", "[swift]")
{
  auto c = client();
  CHECK_FALSE(c.head_container("AUTH_test", "cont"));
  c.put_container("AUTH_test", "cont", {{"X-Storage-Policy", "silver"}});
  c.put_container("AUTH_test", "cont"); // 202: exists
  const auto info = c.head_container("AUTH_test", "cont");
  REQUIRE(info);
  CHECK(info->storage_policy == "silver");
  CHECK(info->object_count == 0);

  c.put_object("AUTH_test", "cont", "a", "12345");
  const auto after = c.head_container("AUTH_test", "cont");
  CHECK(after->object_count == 1);
  CHECK(after->bytes_used == 5);
  CHECK(find_header(after->headers, "x-storage-policy") == "silver");

  try {
    c.put_container("AUTH_test", "cont", {{"X-Storage-Policy", "gold"}});
    FAIL("no exception");
  } catch (const hlm::SwiftError& e) {
    CHECK(e.http_status() == 409);
  }
  try {
    c.delete_container("AUTH_test", "cont");
    FAIL("no exception");
  } catch (const hlm::SwiftError& e) {
    CHECK(e.http_status() == 409);
  }
  CHECK(c.delete_object("AUTH_test", "cont", "a"));
  CHECK(c.delete_container("AUTH_test", "cont"));
  CHECK_FALSE(c.delete_container("AUTH_test", "cont"));
}

TEST_CASE_METHOD(Fixture, "client: objects with hostile names round-trip", "[swift]")
{
  auto c = client();
  c.put_container("AUTH_test", "c \xc3\xa9%");
  const std::vector<std::string> names = {
    "plain",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xbc",
    "dir/sub/file",
    "/leading and trailing/",
    "percent %25 %zz %",
    "question?mark=1&x",
    "hash#fragment",
    "new\nline\r\ttab",
    "../dots/./here/..",
    "+plus+",
  };
  for (const auto& name : names) {
    INFO(name);
    const std::string body = "body of " + name;
    const auto etag =
      c.put_object("AUTH_test", "c \xc3\xa9%", name, body, {{"Content-Type", "text/plain"}});
    const auto info = c.head_object("AUTH_test", "c \xc3\xa9%", name);
    REQUIRE(info);
    CHECK(info->etag == etag);
    CHECK(info->content_length == body.size());
    CHECK(info->content_type == "text/plain");
    CHECK(c.get_object("AUTH_test", "c \xc3\xa9%", name) == body);
  }
  std::vector<std::string> listed;
  c.list_objects("AUTH_test", "c \xc3\xa9%", {}, [&](const ObjectEntry& entry) {
    listed.push_back(entry.name);
    return true;
  });
  auto sorted = names;
  std::sort(sorted.begin(), sorted.end());
  CHECK(listed == sorted);
  for (const auto& name : names) {
    CHECK(c.delete_object("AUTH_test", "c \xc3\xa9%", name));
    CHECK_FALSE(c.head_object("AUTH_test", "c \xc3\xa9%", name));
    CHECK_FALSE(c.get_object("AUTH_test", "c \xc3\xa9%", name));
    CHECK_FALSE(c.delete_object("AUTH_test", "c \xc3\xa9%", name));
  }
}

TEST_CASE_METHOD(Fixture, "client: a zero-length object", "[swift]")
{
  auto c = client();
  c.put_container("AUTH_test", "c");
  CHECK(c.put_object("AUTH_test", "c", "empty", "") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(c.head_object("AUTH_test", "c", "empty")->content_length == 0);
  CHECK(c.get_object("AUTH_test", "c", "empty") == "");
}

TEST_CASE_METHOD(Fixture,
                 "client: missing things are nullopt, forbidden ones SwiftError",
                 "[swift]")
{
  auto c = client();
  CHECK_FALSE(c.head_container("AUTH_test", "nope"));
  CHECK_FALSE(c.head_object("AUTH_test", "nope", "o"));
  CHECK_FALSE(c.get_object("AUTH_test", "nope", "o"));
  CHECK(c.head_account("AUTH_test"));
  for (const auto& action : std::vector<std::function<void()>>{
         [&] { c.head_account("AUTH_test2"); },
         [&] { c.head_container("AUTH_test2", "c"); },
         [&] { c.head_object("AUTH_test2", "c", "o"); },
         [&] { c.list_objects("AUTH_test2", "c", {}, [](const ObjectEntry&) { return true; }); },
       }) {
    try {
      action();
      FAIL("no exception");
    } catch (const hlm::SwiftError& e) {
      CHECK(e.http_status() == 403);
      CHECK_THAT(std::string(e.what()),
                 Catch::Contains("/v1/AUTH_test2") && Catch::EndsWith(": HTTP 403 Forbidden"));
    }
  }
  // 4xx answers are never retried.
  CHECK(waits.empty());
  CHECK(storage_requests().size() == 8);
}

TEST_CASE_METHOD(Fixture,
                 "client: another account is addressed through the same storage URL",
                 "[swift]")
{
  auto c = client("test2:tester2", "testing2");
  CHECK(c.account() == "AUTH_test2");
  c.put_container("AUTH_test2", "mine");
  CHECK(c.head_container("AUTH_test2", "mine"));
  CHECK_THROWS_AS(c.head_container("AUTH_test", "mine"), hlm::SwiftError);
  const auto requests = storage_requests();
  CHECK(requests.back().target == "/v1/AUTH_test/mine");
}

TEST_CASE_METHOD(Fixture, "client: bad names are refused before any request", "[swift]")
{
  auto c = client();
  CHECK_THROWS_AS(c.head_container("AUTH_test", "a/b"), hlm::InputError);
  CHECK_THROWS_AS(c.head_container("AUTH/test", "c"), hlm::InputError);
  CHECK_THROWS_AS(c.head_container("", "c"), hlm::InputError);
  CHECK_THROWS_AS(c.put_container("AUTH_test", ""), hlm::InputError);
  CHECK_THROWS_AS(c.head_object("AUTH_test", "c", ""), hlm::InputError);
  CHECK_THROWS_AS(c.put_object("AUTH_test", "", "o", "x"), hlm::InputError);
  CHECK_THROWS_AS(c.list_objects("AUTH_test",
                                 "c",
                                 ListOptions{"", "", "", 0},
                                 [](const ObjectEntry&) { return true; }),
                  hlm::InputError);
  CHECK(swift.server().requests().empty()); // not even authentication
}

TEST_CASE_METHOD(Fixture, "client: retries 503 then succeeds, with backoff", "[swift]")
{
  auto c = client();
  c.put_container("AUTH_test", "c");
  swift.inject({503, 503});
  CHECK(c.head_container("AUTH_test", "c"));
  CHECK(waits == std::vector<std::chrono::milliseconds>{500ms, 1000ms});

  waits.clear();
  swift.inject({500, 502, 503, 504});
  try {
    c.head_container("AUTH_test", "c");
    FAIL("no exception");
  } catch (const hlm::SwiftError& e) {
    CHECK(e.http_status() == 504);
  }
  CHECK(waits == std::vector<std::chrono::milliseconds>{500ms, 1000ms, 2000ms});
}

TEST_CASE_METHOD(Fixture, "client: no retry on 404 or 403", "[swift]")
{
  auto c = client();
  swift.inject({404});
  CHECK_FALSE(c.head_container("AUTH_test", "c"));
  swift.inject({403});
  CHECK_THROWS_AS(c.head_container("AUTH_test", "c"), hlm::SwiftError);
  CHECK(waits.empty());
  CHECK(storage_requests().size() == 2);
}

TEST_CASE_METHOD(Fixture,
                 "client: an unreachable proxy is a TransportError after the retries",
                 "[swift]")
{
  AuthOptions auth;
  auth.token = "AUTH_tkverysecret";
  auth.storage_url = "http://127.0.0.1:" + std::to_string(hlm::test::closed_port())
                     + "/v1/AUTH_test";
  Client c(make_curl_client(), auth, options());
  try {
    c.head_container("AUTH_test", "c");
    FAIL("no exception");
  } catch (const hlm::TransportError& e) {
    CHECK(e.transient());
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("cannot connect") && Catch::Contains("/v1/AUTH_test/c\""));
    CHECK_THAT(what, Catch::EndsWith("(gave up after 4 attempts)"));
    CHECK_THAT(what, !Catch::Contains("verysecret"));
  }
  CHECK(waits.size() == 3);
}

TEST_CASE_METHOD(Fixture, "client: re-authenticates once on 401", "[swift]")
{
  auto c = client();
  c.put_container("AUTH_test", "c");
  CHECK(swift.auth_requests() == 1);
  swift.expire_tokens();
  CHECK(c.head_container("AUTH_test", "c"));
  CHECK(swift.auth_requests() == 2);

  swift.refuse_all_tokens(true);
  try {
    c.head_container("AUTH_test", "c");
    FAIL("no exception");
  } catch (const hlm::SwiftError& e) {
    CHECK(e.http_status() == 401);
  }
  CHECK(swift.auth_requests() == 3);
}

TEST_CASE_METHOD(Fixture, "client: a given token is not renewed", "[swift]")
{
  AuthOptions auth;
  auth.token = "AUTH_tkexpired";
  auth.storage_url = swift.url() + "/v1/AUTH_test";
  Client c(make_curl_client(), auth, options());
  CHECK_THROWS_AS(c.head_container("AUTH_test", "c"), hlm::SwiftError);
  CHECK(swift.auth_requests() == 0);
}

TEST_CASE_METHOD(Fixture, "client: wrong credentials say so", "[swift]")
{
  auto c = client("test:tester", "wrong");
  try {
    c.head_container("AUTH_test", "c");
    FAIL("no exception");
  } catch (const hlm::SwiftError& e) {
    CHECK(e.http_status() == 401);
    CHECK_THAT(std::string(e.what()),
               Catch::StartsWith("authentication failed for user \"test:tester\""));
  }
}

TEST_CASE_METHOD(Fixture, "client: the token never appears in error text", "[swift]")
{
  auto c = client();
  c.put_container("AUTH_test", "c");
  const auto token = swift.server().requests().back().header("X-Auth-Token").value();
  REQUIRE(token.find("secret") != std::string::npos);

  swift.inject({500, 500, 500, 500});
  const auto server_error = error_text([&] { c.head_container("AUTH_test", "c"); });
  swift.inject({403});
  const auto forbidden = error_text([&] { c.get_object("AUTH_test", "c", "o"); });
  swift.refuse_all_tokens(true);
  const auto unauthorized = error_text([&] { c.head_object("AUTH_test", "c", "o"); });
  for (const auto& text : {server_error, forbidden, unauthorized}) {
    INFO(text);
    CHECK_THAT(text, Catch::StartsWith("HEAD \"http://") || Catch::StartsWith("GET \"http://"));
    CHECK_THAT(text, !Catch::Contains(token) && !Catch::Contains("secret"));
  }
}

TEST_CASE_METHOD(Fixture, "client: requests share one connection", "[swift]")
{
  auto c = client();
  c.put_container("AUTH_test", "c");
  c.put_object("AUTH_test", "c", "o", "data");
  c.head_object("AUTH_test", "c", "o");
  c.get_object("AUTH_test", "c", "o");
  c.list_objects("AUTH_test", "c", {}, [](const ObjectEntry&) { return true; });
  c.delete_object("AUTH_test", "c", "o");
  CHECK(swift.server().requests().size() == 7); // auth included
  CHECK(swift.server().connections() == 1);
}

TEST_CASE_METHOD(Fixture, "client: listing walks pages by marker", "[swift]")
{
  std::vector<std::string> names;
  for (int i = 0; i < 25; ++i) {
    // Two-byte and four-byte UTF-8 sequences sort after ASCII, by bytes.
    names.push_back(
      fmt::format("{}-{:02}-\xc3\xa9/\xf0\x9f\x93\xbc?#%", i % 2 ? "\xc3\xa9" : "a", i));
    swift.add_object("AUTH_test",
                     "big",
                     names.back(),
                     std::string(static_cast<std::size_t>(i), 'x'));
  }
  std::sort(names.begin(), names.end());
  auto c = client();
  ListOptions options;
  options.limit = 10;

  SECTION("all pages")
  {
    std::vector<ObjectEntry> seen;
    c.list_objects("AUTH_test", "big", options, [&](const ObjectEntry& entry) {
      seen.push_back(entry);
      return true;
    });
    REQUIRE(seen.size() == 25);
    for (std::size_t i = 0; i < seen.size(); ++i) {
      CHECK(seen[i].name == names[i]);
    }
    CHECK(seen[0].hash.size() == 32);
    CHECK(seen[0].content_type == "application/octet-stream");
    CHECK(seen[0].last_modified == "2024-05-01T12:00:00.000000");
    const auto requests = storage_requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[0].param("marker").empty());
    CHECK(requests[1].param("marker") == names[9]);
    CHECK(requests[2].param("marker") == names[19]);
    for (const auto& request : requests) {
      CHECK(request.param("format") == "json");
      CHECK(request.param("limit") == "10");
    }
  }
  SECTION("early stop from the callback")
  {
    int count = 0;
    c.list_objects("AUTH_test", "big", options, [&](const ObjectEntry&) { return ++count < 12; });
    CHECK(count == 12);
    CHECK(storage_requests().size() == 2);
  }
  SECTION("an exact multiple of the limit ends with an empty page")
  {
    options.limit = 5;
    int count = 0;
    c.list_objects("AUTH_test", "big", options, [&](const ObjectEntry&) { return ++count > 0; });
    CHECK(count == 25);
    CHECK(storage_requests().size() == 6);
  }
  SECTION("prefix, marker and end_marker")
  {
    options.prefix = "a-";
    options.marker = names[2];
    options.end_marker = names[10];
    std::vector<std::string> seen;
    c.list_objects("AUTH_test", "big", options, [&](const ObjectEntry& entry) {
      seen.push_back(entry.name);
      return true;
    });
    const std::vector<std::string> expected(names.begin() + 3, names.begin() + 10);
    CHECK(seen == expected);
    CHECK(storage_requests().at(0).param("prefix") == "a-");
  }
  SECTION("a missing container is a 404 SwiftError")
  {
    try {
      c.list_objects("AUTH_test", "nope", options, [](const ObjectEntry&) { return true; });
      FAIL("no exception");
    } catch (const hlm::SwiftError& e) {
      CHECK(e.http_status() == 404);
    }
  }
}

TEST_CASE_METHOD(Fixture, "client: listing containers", "[swift]")
{
  auto c = client();
  for (const auto* name : {"c3", "c1", "\xc3\xa9", "c2"}) {
    c.put_container("AUTH_test", name);
  }
  c.put_object("AUTH_test", "c2", "o", "x");
  std::vector<ContainerEntry> seen;
  ListOptions options;
  options.limit = 2;
  c.list_containers("AUTH_test", options, [&](const ContainerEntry& entry) {
    seen.push_back(entry);
    return true;
  });
  REQUIRE(seen.size() == 4);
  CHECK(seen[0].name == "c1");
  CHECK(seen[1].name == "c2");
  CHECK(seen[1].object_count == 1);
  CHECK(seen[3].name == "\xc3\xa9");
}

TEST_CASE_METHOD(Fixture, "client: a bad listing is a SwiftError", "[swift]")
{
  auto c = client();
  c.put_container("AUTH_test", "c");
  swift.server().set_handler([](const hlm::test::FakeRequest& request) {
    hlm::test::FakeResponse response;
    if (request.path == "/auth/v1.0") {
      response.status = 401;
    } else {
      response.body = "not json";
    }
    return response;
  });
  CHECK_THROWS_WITH(c.list_objects("AUTH_test", "c", {}, [](const ObjectEntry&) { return true; }),
                    Catch::Contains("bad listing: listing is not a JSON array"));
}
