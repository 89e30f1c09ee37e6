#include <hlm/swift/url.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

using namespace hlm::swift;

TEST_CASE("redact_url hides the password of the user-info only", "[swift]")
{
  CHECK(redact_url("http://127.0.0.1:8080/v1/AUTH_test") == "http://127.0.0.1:8080/v1/AUTH_test");
  CHECK(redact_url("https://alice:s3cret@proxy:443/v1/AUTH_a?x=1")
        == "https://alice:********@proxy:443/v1/AUTH_a?x=1");
  CHECK(redact_url("http://alice:p@ss:word@proxy/auth") == "http://alice:********@proxy/auth");
  CHECK(redact_url("http://alice@proxy/auth") == "http://alice@proxy/auth");
  CHECK(redact_url("http://proxy/a@b") == "http://proxy/a@b");
  CHECK(redact_url("not a url") == "not a url");
}

TEST_CASE("split_storage_url separates the account segment", "[swift]")
{
  auto split = split_storage_url("http://127.0.0.1:8080/v1/AUTH_test");
  CHECK(split.root == "http://127.0.0.1:8080/v1");
  CHECK(split.account == "AUTH_test");
  split = split_storage_url("https://swift.example.com/v1/AUTH_0a1b%20c/");
  CHECK(split.root == "https://swift.example.com/v1");
  CHECK(split.account == "AUTH_0a1b c");
  CHECK_THROWS_AS(split_storage_url("http://proxy:8080"), hlm::ConfigError);
  CHECK_THROWS_AS(split_storage_url("http://proxy:8080/"), hlm::ConfigError);
  CHECK_THROWS_AS(split_storage_url("ftp://proxy/v1/AUTH_x"), hlm::ConfigError);
  CHECK_THROWS_AS(split_storage_url("http://proxy/v1/AUTH_x?q"), hlm::ConfigError);
  CHECK_THROWS_WITH(split_storage_url("http://u:pw@proxy"),
                    Catch::Contains("u:********@") && !Catch::Contains("pw"));
}

TEST_CASE("resource_url encodes each name and refuses '/' in account and container", "[swift]")
{
  const std::string root = "http://h:1/v1";
  CHECK(resource_url(root, "AUTH_test") == "http://h:1/v1/AUTH_test");
  CHECK(resource_url(root, "AUTH_test", "c 1") == "http://h:1/v1/AUTH_test/c%201");
  CHECK(resource_url(root, "AUTH_test", "c", "a/b%25?#\n")
        == "http://h:1/v1/AUTH_test/c/a/b%2525%3F%23%0A");
  CHECK_THROWS_AS(resource_url(root, ""), hlm::InputError);
  CHECK_THROWS_AS(resource_url(root, "AUTH_a/b"), hlm::InputError);
  CHECK_THROWS_AS(resource_url(root, "AUTH_a", "c/d"), hlm::InputError);
  CHECK_THROWS_AS(resource_url(root, "AUTH_a", "", "o"), hlm::InputError);
}
