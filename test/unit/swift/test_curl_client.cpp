#include "fake_server.hpp"

#include <hlm/swift/http.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace hlm::swift;
using hlm::test::FakeRequest;
using hlm::test::FakeResponse;
using hlm::test::FakeServer;
using namespace std::chrono_literals;

namespace {

HttpRequest
make_request(Method method, std::string url, std::string body = {})
{
  HttpRequest request;
  request.method = method;
  request.url = std::move(url);
  request.body = std::move(body);
  request.timeout = 10s;
  return request;
}

FakeResponse
echo(const FakeRequest& request)
{
  FakeResponse response;
  response.status = 200;
  response.headers = {{"X-Method", request.method},
                      {"X-Padded", "  spaced value  "},
                      {"X-Body-Size", std::to_string(request.body.size())}};
  response.body = request.method == "HEAD" ? "" : "body of " + request.target;
  if (request.method == "HEAD") {
    response.headers.emplace_back("Content-Length", "1234");
  }
  return response;
}

} // namespace

TEST_CASE("curl client: GET returns status, trimmed headers and body", "[swift]")
{
  FakeServer server([](const FakeRequest& request) {
    auto response = echo(request);
    response.status = 203;
    return response;
  });
  auto http = make_curl_client();
  auto request = make_request(Method::get, server.url() + "/v1/AUTH_test");
  request.headers = {{"X-Custom", "one"}, {"X-Empty", ""}};
  const auto response = http->send(request);
  CHECK(response.status == 203);
  CHECK(response.body == "body of /v1/AUTH_test");
  CHECK(response.header("x-padded") == "spaced value");
  CHECK(response.header("X-Method") == "GET");

  const auto seen = server.requests().at(0);
  CHECK(seen.header("X-Custom") == "one");
  CHECK(seen.header("X-Empty") == "");
  CHECK(seen.header("User-Agent") == "hlm");
}

TEST_CASE("curl client: HEAD reads headers only", "[swift]")
{
  FakeServer server(echo);
  auto http = make_curl_client();
  const auto response = http->send(make_request(Method::head, server.url() + "/x"));
  CHECK(response.status == 200);
  CHECK(response.header("Content-Length") == "1234");
  CHECK(response.body.empty());
  CHECK(server.requests().at(0).method == "HEAD");
}

TEST_CASE("curl client: PUT sends a body of known length, zero included", "[swift]")
{
  FakeServer server(echo);
  auto http = make_curl_client();
  const std::string big(300'000, 'x');
  for (const std::string& body : {std::string("hello"), std::string(), big}) {
    const auto response = http->send(make_request(Method::put, server.url() + "/o", body));
    CHECK(response.status == 200);
    CHECK(response.header("X-Body-Size") == std::to_string(body.size()));
  }
  const auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].method == "PUT");
  CHECK(seen[0].body == "hello");
  CHECK(seen[1].header("Content-Length") == "0");
  CHECK(seen[1].body.empty());
  CHECK(seen[2].body == big);
  CHECK_FALSE(seen[2].header("Expect"));
  CHECK_FALSE(seen[2].header("Transfer-Encoding"));
}

TEST_CASE("curl client: POST and DELETE", "[swift]")
{
  FakeServer server(echo);
  auto http = make_curl_client();
  auto post = make_request(Method::post, server.url() + "/auth/tokens", R"({"a":1})");
  post.headers = {{"Content-Type", "application/json"}};
  CHECK(http->send(post).status == 200);
  CHECK(http->send(make_request(Method::del, server.url() + "/o")).status == 200);
  const auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].body == R"({"a":1})");
  CHECK(seen[0].header("Content-Type") == "application/json");
  CHECK(seen[1].method == "DELETE");
  CHECK(seen[1].body.empty());
}

TEST_CASE("curl client: requests reuse one kept-alive connection", "[swift]")
{
  FakeServer server(echo);
  auto http = make_curl_client();
  http->send(make_request(Method::get, server.url() + "/a"));
  http->send(make_request(Method::head, server.url() + "/b"));
  http->send(make_request(Method::put, server.url() + "/c", "data"));
  http->send(make_request(Method::put, server.url() + "/d", ""));
  http->send(make_request(Method::del, server.url() + "/e"));
  const auto last = http->send(make_request(Method::get, server.url() + "/f"));
  CHECK(last.body == "body of /f");
  CHECK(server.requests().size() == 6);
  CHECK(server.connections() == 1);
}

TEST_CASE("curl client: a server closing the kept-alive connection is survived", "[swift]")
{
  FakeServer server([](const FakeRequest& request) {
    auto response = echo(request);
    response.close = true;
    return response;
  });
  auto http = make_curl_client();
  for (int i = 0; i < 3; ++i) {
    CHECK(http->send(make_request(Method::put, server.url() + "/o", "abc")).status == 200);
  }
  CHECK(server.connections() == 3);
}

TEST_CASE("curl client: encoded hostile paths reach the server unchanged", "[swift]")
{
  FakeServer server(echo);
  auto http = make_curl_client();
  const std::string name = "../a/./b %25?#\n\xc3\xa9//end/";
  const std::string path = "/v1/AUTH_test/c/" + name;
  http->send(make_request(Method::get, server.url() + encode_path(path)));
  const auto seen = server.requests().at(0);
  CHECK(seen.target == encode_path(path));
  CHECK(seen.path == path);
}

TEST_CASE("curl client: refused connection is a transient TransportError", "[swift]")
{
  auto http = make_curl_client();
  const auto url = "http://user:secretpw@127.0.0.1:" + std::to_string(hlm::test::closed_port())
                   + "/v1";
  try {
    http->send(make_request(Method::get, url));
    FAIL("no exception");
  } catch (const hlm::TransportError& e) {
    CHECK(e.transient());
    const std::string what = e.what();
    CHECK_THAT(what, Catch::StartsWith("GET \"http://user:********@127.0.0.1:"));
    CHECK_THAT(what, Catch::Contains("cannot connect"));
    CHECK_THAT(what, !Catch::Contains("secretpw"));
  }
}

TEST_CASE("curl client: timeouts, dropped and truncated answers are transient", "[swift]")
{
  FakeResponse answer;
  FakeServer server([&answer](const FakeRequest&) { return answer; });
  auto http = make_curl_client();
  auto request = make_request(Method::get, server.url() + "/slow");
  const auto expect_transient = [&] {
    try {
      http->send(request);
      FAIL("no exception");
    } catch (const hlm::TransportError& e) {
      CHECK(e.transient());
      CHECK_THAT(std::string(e.what()), Catch::Contains("/slow"));
    }
  };

  SECTION("timeout")
  {
    answer.delay = 1500ms;
    request.timeout = 200ms;
    expect_transient();
  }
  SECTION("closed without an answer")
  {
    answer.raw = "";
    expect_transient();
  }
  SECTION("body shorter than Content-Length")
  {
    answer.raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
    expect_transient();
  }
  SECTION("closed in the middle of the headers")
  {
    answer.raw = "HTTP/1.1 200 OK\r\nContent-Len";
    expect_transient();
  }
}

TEST_CASE("curl client: unsupported schemes and garbage answers are not transient", "[swift]")
{
  auto http = make_curl_client();
  SECTION("scheme")
  {
    try {
      http->send(make_request(Method::get, "ftp://127.0.0.1/x"));
      FAIL("no exception");
    } catch (const hlm::TransportError& e) {
      CHECK_FALSE(e.transient());
    }
  }
  SECTION("HTTP/0.9")
  {
    FakeServer server([](const FakeRequest&) {
      FakeResponse response;
      response.raw = "garbage without a status line\r\n\r\n";
      return response;
    });
    try {
      http->send(make_request(Method::get, server.url() + "/x"));
      FAIL("no exception");
    } catch (const hlm::TransportError& e) {
      CHECK_FALSE(e.transient());
    }
  }
}

TEST_CASE("curl client: header values cannot forge headers", "[swift]")
{
  FakeServer server(echo);
  auto http = make_curl_client();
  auto request = make_request(Method::get, server.url() + "/x");
  request.headers = {{"X-Object-Meta-A", "v\r\nX-Injected: 1"}};
  CHECK_THROWS_AS(http->send(request), hlm::InputError);
  request.headers = {{"Bad Name", "v"}};
  CHECK_THROWS_AS(http->send(request), hlm::InputError);
  request.headers = {{"X-Ok", "v"}};
  CHECK(http->send(request).status == 200);
}

TEST_CASE("curl client: global_init is idempotent", "[swift]")
{
  global_init();
  global_init();
  CHECK(make_curl_client() != nullptr);
}
