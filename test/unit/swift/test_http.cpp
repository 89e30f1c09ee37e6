#include <hlm/swift/http.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace hlm::swift;

TEST_CASE("encode_path keeps unreserved characters and '/'", "[swift]")
{
  CHECK(encode_path("") == "");
  CHECK(encode_path("AZaz09-._~") == "AZaz09-._~");
  CHECK(encode_path("/v1/AUTH_test/c/o") == "/v1/AUTH_test/c/o");
  CHECK(encode_path("a/b//c/") == "a/b//c/");
}

TEST_CASE("encode_path escapes everything else byte by byte", "[swift]")
{
  CHECK(encode_path("%") == "%25");
  CHECK(encode_path("%25") == "%2525");
  CHECK(encode_path("?") == "%3F");
  CHECK(encode_path("#") == "%23");
  CHECK(encode_path(" ") == "%20");
  CHECK(encode_path("+") == "%2B");
  CHECK(encode_path("\n") == "%0A");
  CHECK(encode_path("\r\t") == "%0D%09");
  CHECK(encode_path(std::string("a\0b", 3)) == "a%00b");
  CHECK(encode_path("&=;:@,'\"<>\\") == "%26%3D%3B%3A%40%2C%27%22%3C%3E%5C");
  // UTF-8 "caf\u00e9 \u20ac \U0001F4FC": every byte of a sequence escaped, upper-case hex.
  CHECK(encode_path("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xbc")
        == "caf%C3%A9%20%E2%82%AC%20%F0%9F%93%BC");
  CHECK(encode_path("dir/sub dir/\xc3\xa9?x=1#frag") == "dir/sub%20dir/%C3%A9%3Fx%3D1%23frag");
  CHECK(encode_path("../a/./b") == "../a/./b");
}

TEST_CASE("encode_query_value escapes '/' too", "[swift]")
{
  CHECK(encode_query_value("a/b") == "a%2Fb");
  CHECK(encode_query_value("x y&z=1") == "x%20y%26z%3D1");
  CHECK(encode_query_value("\xc3\xa9") == "%C3%A9");
  CHECK(encode_query_value("safe-._~") == "safe-._~");
}

TEST_CASE("find_header ignores case and keeps the first match", "[swift]")
{
  const Headers headers = {{"Content-Type", "text/plain"},
                           {"X-Trans-Id", "tx1"},
                           {"x-trans-id", "tx2"}};
  CHECK(find_header(headers, "content-type") == "text/plain");
  CHECK(find_header(headers, "X-TRANS-ID") == "tx1");
  CHECK_FALSE(find_header(headers, "ETag"));
  HttpResponse response;
  response.headers = headers;
  CHECK(response.header("CONTENT-TYPE") == "text/plain");
}

TEST_CASE("methods and statuses have their HTTP names", "[swift]")
{
  CHECK(to_string(Method::get) == "GET");
  CHECK(to_string(Method::head) == "HEAD");
  CHECK(to_string(Method::put) == "PUT");
  CHECK(to_string(Method::post) == "POST");
  CHECK(to_string(Method::del) == "DELETE");
  CHECK(status_text(404) == "HTTP 404 Not Found");
  CHECK(status_text(503) == "HTTP 503 Service Unavailable");
  CHECK(status_text(599) == "HTTP 599");
  CHECK(reason_phrase(599).empty());
}
