#include "fake_server.hpp"

#include <hlm/swift/auth.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace hlm::swift;
using hlm::test::FakeRequest;
using hlm::test::FakeResponse;
using hlm::test::FakeServer;

namespace {

// getenv over a map, so that tests never read the real environment.
auto
env_of(const std::map<std::string, std::string>& variables)
{
  return [variables](const char* name) -> const char* {
    const auto it = variables.find(name);
    return it == variables.end() ? nullptr : it->second.c_str();
  };
}

RetryPolicy
no_sleep()
{
  RetryPolicy policy;
  policy.sleep = [](std::chrono::milliseconds) {};
  return policy;
}

// tempauth as Swift's middleware does it: test:tester / testing.
FakeResponse
tempauth(const FakeServer& server, const FakeRequest& request)
{
  FakeResponse response;
  if (request.path != "/auth/v1.0") {
    response.status = 404;
  } else if (request.header("X-Auth-User") == "test:tester"
             && request.header("X-Auth-Key") == "testing") {
    response.status = 200;
    response.headers = {{"X-Storage-Url", server.url() + "/v1/AUTH_test"},
                        {"X-Auth-Token", "AUTH_tk0123456789abcdef"},
                        {"X-Storage-Token", "AUTH_tk0123456789abcdef"}};
  } else {
    response.status = 401;
    response.body = "<html><h1>Unauthorized</h1></html>";
  }
  return response;
}

} // namespace

TEST_CASE("auth_options_from_env reads swiftclient's variables", "[swift]")
{
  const auto options = auth_options_from_env(env_of({
    {"ST_AUTH", "http://proxy/auth/v1.0"},
    {"ST_USER", "test:tester"},
    {"ST_KEY", "testing"},
    {"OS_AUTH_URL", "http://keystone:5000/v3"},
    {"OS_USERNAME", "demo"},
    {"OS_PASSWORD", "pw"},
    {"OS_TENANT_NAME", "old-style"},
    {"OS_USER_DOMAIN_NAME", "ud"},
    {"OS_PROJECT_DOMAIN_NAME", "pd"},
    {"OS_REGION_NAME", "RegionTwo"},
    {"OS_ENDPOINT_TYPE", "internalURL"},
    {"OS_AUTH_TOKEN", "tok"},
    {"OS_STORAGE_URL", "http://proxy/v1/AUTH_x"},
    {"OS_AUTH_VERSION", "3"},
    {"OS_IDENTITY_API_VERSION", "1"},
  }));
  CHECK(options.auth_url == "http://proxy/auth/v1.0");
  CHECK(options.user == "test:tester");
  CHECK(options.key == "testing");
  CHECK(options.os_auth_url == "http://keystone:5000/v3");
  CHECK(options.os_username == "demo");
  CHECK(options.os_password == "pw");
  CHECK(options.os_project_name == "old-style");
  CHECK(options.os_user_domain_name == "ud");
  CHECK(options.os_project_domain_name == "pd");
  CHECK(options.os_region_name == "RegionTwo");
  CHECK(options.os_interface == "internalURL");
  CHECK(options.token == "tok");
  CHECK(options.storage_url == "http://proxy/v1/AUTH_x");
  CHECK(options.auth_version == "3"); // OS_AUTH_VERSION before OS_IDENTITY_API_VERSION
}

TEST_CASE("auth_options_from_env: preferred names win, empty means unset", "[swift]")
{
  const auto options = auth_options_from_env(env_of({
    {"OS_PROJECT_NAME", "new"},
    {"OS_TENANT_NAME", "old"},
    {"OS_INTERFACE", "public"},
    {"OS_ENDPOINT_TYPE", "adminURL"},
    {"ST_AUTH_VERSION", "1.0"},
    {"OS_AUTH_VERSION", "3"},
    {"ST_KEY", ""},
  }));
  CHECK(options.os_project_name == "new");
  CHECK(options.os_interface == "public");
  CHECK(options.auth_version == "1.0");
  CHECK_FALSE(options.key);
  CHECK_FALSE(options.user);
}

TEST_CASE("overlay: flags win over the environment", "[swift]")
{
  AuthOptions env;
  env.auth_url = "http://env/auth/v1.0";
  env.user = "env:user";
  env.key = "envkey";
  AuthOptions flags;
  flags.user = "flag:user";
  flags.key = ""; // empty: not given
  flags.os_region_name = "RegionTwo";
  const auto merged = overlay(env, flags);
  CHECK(merged.auth_url == "http://env/auth/v1.0");
  CHECK(merged.user == "flag:user");
  CHECK(merged.key == "envkey");
  CHECK(merged.os_region_name == "RegionTwo");
}

TEST_CASE("auth_mode picks token, v3 or v1", "[swift]")
{
  AuthOptions v1;
  v1.auth_url = "http://proxy/auth/v1.0";
  v1.user = "test:tester";
  v1.key = "testing";
  AuthOptions v3;
  v3.os_auth_url = "http://keystone:5000/v3/";
  v3.os_username = "demo";
  v3.os_password = "pw";
  v3.os_project_name = "demo";

  CHECK(auth_mode(v1) == AuthMode::v1);
  CHECK(auth_mode(v3) == AuthMode::v3);

  SECTION("token and storage URL together win")
  {
    auto options = overlay(v1, v3);
    options.token = "tok";
    options.storage_url = "http://proxy/v1/AUTH_test";
    CHECK(auth_mode(options) == AuthMode::token);
    options.storage_url.reset();
    CHECK(auth_mode(options) == AuthMode::v3);
  }
  SECTION("v3 beats v1 when the keystone URL ends in /v3 and a password is given")
  {
    CHECK(auth_mode(overlay(v1, v3)) == AuthMode::v3);
    auto options = overlay(v1, v3);
    options.os_password.reset();
    CHECK(auth_mode(options) == AuthMode::v1);
  }
  SECTION("an explicit version decides")
  {
    auto options = overlay(v1, v3);
    options.auth_version = "1";
    CHECK(auth_mode(options) == AuthMode::v1);
    options.auth_version = "3.0";
    options.os_auth_url = "http://keystone:5000"; // no /v3 suffix needed then
    CHECK(auth_mode(options) == AuthMode::v3);
    options.auth_version = "2.0";
    CHECK_THROWS_WITH(auth_mode(options), Catch::Contains("unsupported auth version \"2.0\""));
  }
}

TEST_CASE("auth_mode names the missing variable and flag", "[swift]")
{
  AuthOptions options;
  CHECK_THROWS_WITH(auth_mode(options), Catch::StartsWith("no Swift credentials"));

  options.auth_url = "http://proxy/auth/v1.0";
  options.user = "test:tester";
  CHECK_THROWS_AS(auth_mode(options), hlm::ConfigError);
  CHECK_THROWS_WITH(auth_mode(options), "tempauth v1 authentication needs ST_KEY (--key)");

  AuthOptions v3;
  v3.os_auth_url = "http://keystone:5000/v3";
  v3.os_password = "pw";
  v3.os_project_name = "demo";
  CHECK_THROWS_WITH(auth_mode(v3), "keystone v3 authentication needs OS_USERNAME (--os-username)");
  v3.os_username = "demo";
  v3.os_project_name.reset();
  CHECK_THROWS_WITH(auth_mode(v3),
                    "keystone v3 authentication needs OS_PROJECT_NAME (--os-project-name)");
  v3.os_project_name = "demo";
  v3.os_password.reset();
  CHECK_THROWS_WITH(auth_mode(v3), "keystone v3 authentication needs OS_PASSWORD (--os-password)");

  AuthOptions v2;
  v2.os_auth_url = "http://keystone:5000/v2.0";
  v2.os_password = "pw";
  CHECK_THROWS_WITH(auth_mode(v2), Catch::Contains("does not end in /v3"));

  AuthOptions token;
  token.token = "tok";
  CHECK_THROWS_WITH(auth_mode(token),
                    "OS_AUTH_TOKEN (--os-auth-token) needs OS_STORAGE_URL (--os-storage-url)");
}

TEST_CASE("v1 auth returns the storage URL and token", "[swift]")
{
  FakeServer* self = nullptr;
  FakeServer server([&self](const FakeRequest& request) { return tempauth(*self, request); });
  self = &server;
  auto http = make_curl_client();
  AuthOptions options;
  options.auth_url = server.url() + "/auth/v1.0";
  options.user = "test:tester";
  options.key = "testing";
  const auto result = authenticate(*http, options, no_sleep());
  CHECK(result.storage_url == server.url() + "/v1/AUTH_test");
  CHECK(result.token == "AUTH_tk0123456789abcdef");
  const auto seen = server.requests().at(0);
  CHECK(seen.method == "GET");

  SECTION("OS_STORAGE_URL alone replaces the storage URL")
  {
    options.storage_url = "http://elsewhere:8080/v1/AUTH_other";
    CHECK(authenticate(*http, options, no_sleep()).storage_url
          == "http://elsewhere:8080/v1/AUTH_other");
  }
}

TEST_CASE("v1 auth with a wrong key is a SwiftError naming the user", "[swift]")
{
  FakeServer* self = nullptr;
  FakeServer server([&self](const FakeRequest& request) { return tempauth(*self, request); });
  self = &server;
  auto http = make_curl_client();
  AuthOptions options;
  options.auth_url = server.url() + "/auth/v1.0";
  options.user = "test:tester";
  options.key = "wrong-key";
  try {
    authenticate(*http, options, no_sleep());
    FAIL("no exception");
  } catch (const hlm::SwiftError& e) {
    CHECK(e.http_status() == 401);
    const std::string what = e.what();
    CHECK_THAT(what, Catch::StartsWith("authentication failed for user \"test:tester\" at \""));
    CHECK_THAT(what, Catch::EndsWith("\": HTTP 401 Unauthorized"));
    CHECK_THAT(what, !Catch::Contains("wrong-key"));
  }
  CHECK(server.requests().size() == 1); // 4xx: no retry
}

TEST_CASE("v1 auth retries 5xx and gives up with the status", "[swift]")
{
  int calls = 0;
  FakeServer server([&calls](const FakeRequest&) {
    ++calls;
    FakeResponse response;
    response.status = 503;
    return response;
  });
  auto http = make_curl_client();
  AuthOptions options;
  options.auth_url = server.url() + "/auth/v1.0";
  options.user = "test:tester";
  options.key = "testing";
  try {
    authenticate(*http, options, no_sleep());
    FAIL("no exception");
  } catch (const hlm::SwiftError& e) {
    CHECK(e.http_status() == 503);
    CHECK_THAT(std::string(e.what()), Catch::Contains("HTTP 503 Service Unavailable"));
  }
  CHECK(calls == 4);
}

TEST_CASE("v1 auth without the expected headers is a SwiftError", "[swift]")
{
  FakeServer server([](const FakeRequest&) { return FakeResponse{}; });
  auto http = make_curl_client();
  AuthOptions options;
  options.auth_url = server.url() + "/auth/v1.0";
  options.user = "test:tester";
  options.key = "testing";
  CHECK_THROWS_WITH(authenticate(*http, options, no_sleep()),
                    Catch::Contains("without X-Storage-Url and X-Auth-Token"));
}

TEST_CASE("token mode sends nothing", "[swift]")
{
  FakeServer server([](const FakeRequest&) { return FakeResponse{}; });
  auto http = make_curl_client();
  AuthOptions options;
  options.token = "tok";
  options.storage_url = "http://proxy:8080/v1/AUTH_test";
  options.auth_url = server.url() + "/auth/v1.0";
  options.user = "u";
  options.key = "k";
  const auto result = authenticate(*http, options);
  CHECK(result.token == "tok");
  CHECK(result.storage_url == "http://proxy:8080/v1/AUTH_test");
  CHECK(server.requests().empty());
}
