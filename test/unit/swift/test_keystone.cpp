#include "fake_server.hpp"

#include <hlm/swift/auth.hpp>
#include <hlm/swift/keystone.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using namespace hlm::swift;
using hlm::test::FakeRequest;
using hlm::test::FakeResponse;
using hlm::test::FakeServer;
using nlohmann::json;

namespace {

// A token document as devstack's keystone returns it, trimmed to what a
// client sees: identity and object-store services, three interfaces, two
// regions.
json
devstack_token(const std::string& swift)
{
  std::string text = R"({
  "token": {
    "methods": ["password"],
    "user": {"domain": {"id": "default", "name": "Default"}, "id": "5b1ee0b7a4d64a2b9d5c0f4b5c3f2a11",
             "name": "demo", "password_expires_at": null},
    "audit_ids": ["mJ8qHGsKQbuvqVyOPxD9fA"],
    "expires_at": "2030-01-01T12:00:00.000000Z",
    "issued_at": "2029-12-31T12:00:00.000000Z",
    "project": {"domain": {"id": "default", "name": "Default"}, "id": "8538a3f13f9541b28c2620eb19065e45",
                "name": "demo"},
    "is_domain": false,
    "roles": [{"id": "51cc68287d524c759f47c811e6463340", "name": "member"},
              {"id": "2a0c7e8b8f0c4b7e9b8b2f1f9c1d0e3a", "name": "reader"}],
    "catalog": [
      {"endpoints": [
         {"id": "0a1", "interface": "public", "region_id": "RegionOne", "url": "http://10.0.0.5/identity",
          "region": "RegionOne"},
         {"id": "0a2", "interface": "admin", "region_id": "RegionOne", "url": "http://10.0.0.5/identity",
          "region": "RegionOne"}],
       "id": "1f9", "type": "identity", "name": "keystone"},
      {"endpoints": [
         {"id": "1b1", "interface": "admin", "region_id": "RegionOne", "url": "http://10.0.0.5:8080",
          "region": "RegionOne"},
         {"id": "1b2", "interface": "internal", "region_id": "RegionOne",
          "url": "http://192.168.0.5:8080/v1/AUTH_8538a3f13f9541b28c2620eb19065e45", "region": "RegionOne"},
         {"id": "1b3", "interface": "public", "region_id": "RegionOne",
          "url": "SWIFT/v1/AUTH_8538a3f13f9541b28c2620eb19065e45", "region": "RegionOne"},
         {"id": "1b4", "interface": "public", "region_id": "RegionTwo",
          "url": "http://10.1.0.5:8080/v1/AUTH_8538a3f13f9541b28c2620eb19065e45", "region": "RegionTwo"}],
       "id": "2c7", "type": "object-store", "name": "swift"},
      {"endpoints": [
         {"id": "3d1", "interface": "public", "region_id": "RegionOne", "url": "http://10.0.0.5/image",
          "region": "RegionOne"}],
       "id": "4e2", "type": "image", "name": "glance"}
    ]
  }
})";
  text.replace(text.find("SWIFT"), 5, swift);
  return json::parse(text);
}

AuthOptions
demo_options(const std::string& keystone)
{
  AuthOptions options;
  options.os_auth_url = keystone + "/identity/v3";
  options.os_username = "demo";
  options.os_password = "secret-password";
  options.os_project_name = "demo";
  options.os_user_domain_name = "Default";
  options.os_project_domain_name = "Default";
  return options;
}

// Keystone's POST /v3/auth/tokens: checks the body like keystone would.
FakeResponse
keystone(const std::string& swift, const FakeRequest& request)
{
  FakeResponse response;
  if (request.method != "POST" || request.path != "/identity/v3/auth/tokens") {
    response.status = 404;
    return response;
  }
  const auto body = json::parse(request.body);
  const auto& password = body["auth"]["identity"]["password"]["user"];
  if (password["name"] != "demo" || password["password"] != "secret-password"
      || password["domain"]["name"] != "Default") {
    response.status = 401;
    response.headers = {{"Content-Type", "application/json"}};
    response.body = R"({"error": {"code": 401, "title": "Unauthorized",
      "message": "The request you have made requires authentication."}})";
    return response;
  }
  response.status = 201;
  response.headers = {{"X-Subject-Token", "gAAAAABkeystonetoken"},
                      {"Content-Type", "application/json"}};
  response.body = devstack_token(swift).dump();
  return response;
}

RetryPolicy
no_sleep()
{
  RetryPolicy policy;
  policy.sleep = [](std::chrono::milliseconds) {};
  return policy;
}

} // namespace

TEST_CASE("keystone v3 request body is the standard password document", "[swift]")
{
  AuthOptions options;
  options.os_username = "demo";
  options.os_password = "pw\"with quote";
  options.os_project_name = "proj";
  options.os_user_domain_name = "users";
  const auto body = json::parse(keystone_v3_request_body(options));
  const json expected = json::parse(R"({"auth": {
    "identity": {"methods": ["password"],
                 "password": {"user": {"name": "demo", "domain": {"name": "users"},
                                       "password": "pw\"with quote"}}},
    "scope": {"project": {"name": "proj", "domain": {"name": "Default"}}}}})");
  CHECK(body == expected);
}

TEST_CASE("find_object_store_endpoint picks interface and region", "[swift]")
{
  const auto token = devstack_token("http://10.0.0.5:8080");
  const std::string account = "/v1/AUTH_8538a3f13f9541b28c2620eb19065e45";
  CHECK(find_object_store_endpoint(token, "public", std::nullopt)
        == "http://10.0.0.5:8080" + account);
  CHECK(find_object_store_endpoint(token, "publicURL", std::nullopt)
        == "http://10.0.0.5:8080" + account);
  CHECK(find_object_store_endpoint(token, "internal", std::nullopt)
        == "http://192.168.0.5:8080" + account);
  CHECK(find_object_store_endpoint(token, "public", std::string("RegionTwo"))
        == "http://10.1.0.5:8080" + account);
  CHECK(find_object_store_endpoint(token, "admin", std::string("RegionOne"))
        == "http://10.0.0.5:8080");
  CHECK_THROWS_AS(find_object_store_endpoint(token, "internal", std::string("RegionTwo")),
                  hlm::ConfigError);
  CHECK_THROWS_WITH(
    find_object_store_endpoint(token, "public", std::string("RegionNine")),
    "no object-store endpoint with interface \"public\" in region \"RegionNine\" in the keystone"
    " catalog (there are: admin/RegionOne, internal/RegionOne, public/RegionOne, "
    "public/RegionTwo)");
  CHECK_THROWS_WITH(
    find_object_store_endpoint(json::parse(R"({"token": {}})"), "public", std::nullopt),
    Catch::EndsWith("(there are: none)"));
}

TEST_CASE("keystone v3 auth against a fake keystone with a catalog", "[swift]")
{
  FakeServer* self = nullptr;
  FakeServer server([&self](const FakeRequest& request) { return keystone(self->url(), request); });
  self = &server;
  auto http = make_curl_client();
  auto options = demo_options(server.url());

  const auto result = authenticate(*http, options, no_sleep());
  CHECK(result.token == "gAAAAABkeystonetoken");
  CHECK(result.storage_url == server.url() + "/v1/AUTH_8538a3f13f9541b28c2620eb19065e45");
  const auto seen = server.requests().at(0);
  CHECK(seen.header("Content-Type") == "application/json");
  CHECK(json::parse(seen.body)["auth"]["scope"]["project"]["name"] == "demo");

  options.os_interface = "internal";
  CHECK(authenticate(*http, options, no_sleep()).storage_url
        == "http://192.168.0.5:8080/v1/AUTH_8538a3f13f9541b28c2620eb19065e45");
  options.os_interface.reset();
  options.os_region_name = "RegionTwo";
  CHECK(authenticate(*http, options, no_sleep()).storage_url
        == "http://10.1.0.5:8080/v1/AUTH_8538a3f13f9541b28c2620eb19065e45");

  // With the version given, the URL may lack "/v3".
  options.os_auth_url = server.url() + "/identity/";
  options.auth_version = "3";
  CHECK(authenticate(*http, options, no_sleep()).token == "gAAAAABkeystonetoken");
  CHECK(server.requests().back().target == "/identity/v3/auth/tokens");
}

TEST_CASE("keystone v3 auth failure carries keystone's message, not the password", "[swift]")
{
  FakeServer* self = nullptr;
  FakeServer server([&self](const FakeRequest& request) { return keystone(self->url(), request); });
  self = &server;
  auto http = make_curl_client();
  auto options = demo_options(server.url());
  options.os_password = "wrong-password";
  try {
    authenticate(*http, options, no_sleep());
    FAIL("no exception");
  } catch (const hlm::SwiftError& e) {
    CHECK(e.http_status() == 401);
    const std::string what = e.what();
    CHECK_THAT(what,
               Catch::StartsWith(
                 "authentication failed for user \"demo\" (domain \"Default\", project \"demo\")"));
    CHECK_THAT(
      what,
      Catch::EndsWith("HTTP 401 Unauthorized: The request you have made requires authentication."));
    CHECK_THAT(what, !Catch::Contains("wrong-password"));
  }
}

TEST_CASE("keystone v3 answer without a token or JSON is a SwiftError", "[swift]")
{
  FakeResponse answer;
  FakeServer server([&answer](const FakeRequest&) { return answer; });
  auto http = make_curl_client();
  const auto options = demo_options(server.url());
  answer.status = 201;
  CHECK_THROWS_WITH(authenticate(*http, options, no_sleep()),
                    Catch::Contains("without X-Subject-Token"));
  answer.headers = {{"X-Subject-Token", "tok"}};
  answer.body = "<html>";
  CHECK_THROWS_WITH(authenticate(*http, options, no_sleep()), Catch::Contains("not JSON"));
}
