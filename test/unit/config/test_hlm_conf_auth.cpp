// hlm.conf's [auth] section: the keys, and the refusal of a file that
// holds secrets where others can read it.
#include "../support/temp_dir.hpp"

#include <hlm/config/hlm_conf.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

using namespace hlm;
using namespace hlm::config;
using std::filesystem::perms;

namespace {

constexpr const char* k_v1 =
  "[auth]\nauth_url = http://proxy:8080/auth/v1.0\nuser = test:tester\nkey = s3cr3t-k3y\n";

std::string
load_error(const std::filesystem::path& file)
{
  try {
    load_hlm_conf(file, nullptr);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "loaded";
}

} // namespace

TEST_CASE("hlm.conf [auth]: every key, empty means unset", "[config]")
{
  const auto conf = parse_hlm_conf(
    "[auth]\nauth_url = http://proxy:8080/auth/v1.0\nuser = test:tester\nkey = k\n"
    "auth_version = 3\nos_auth_url = http://keystone:5000/v3\nos_username = demo\n"
    "os_password = p\nos_project_name = demo\nos_user_domain_name = ud\n"
    "os_project_domain_name = pd\nos_region_name = r1\nos_interface = internal\n"
    "os_auth_token = t\nos_storage_url = http://proxy:8080/v1/AUTH_demo\n",
    "hlm.conf");
  const auto& auth = conf.auth;
  CHECK(auth.auth_url == "http://proxy:8080/auth/v1.0");
  CHECK(auth.user == "test:tester");
  CHECK(auth.key == "k");
  CHECK(auth.auth_version == "3");
  CHECK(auth.os_auth_url == "http://keystone:5000/v3");
  CHECK(auth.os_username == "demo");
  CHECK(auth.os_password == "p");
  CHECK(auth.os_project_name == "demo");
  CHECK(auth.os_user_domain_name == "ud");
  CHECK(auth.os_project_domain_name == "pd");
  CHECK(auth.os_region_name == "r1");
  CHECK(auth.os_interface == "internal");
  CHECK(auth.token == "t");
  CHECK(auth.storage_url == "http://proxy:8080/v1/AUTH_demo");
  CHECK(auth_secrets(auth) == std::vector<std::string>{"key", "os_password", "os_auth_token"});

  const auto sparse = parse_hlm_conf("[auth]\nuser = test:tester\nkey =\n", "hlm.conf");
  CHECK(sparse.auth.user == "test:tester");
  CHECK_FALSE(sparse.auth.key);
  CHECK(auth_secrets(sparse.auth).empty());
  CHECK_FALSE(parse_hlm_conf("", "hlm.conf").auth.auth_url);

  CHECK_THROWS_WITH(parse_hlm_conf("[auth]\nos_pasword = x\n", "c"),
                    Catch::Contains("unknown key \"os_pasword\" in [auth]")
                      && Catch::Contains("did you mean \"os_password\""));
  CHECK_THROWS_WITH(parse_hlm_conf("[auth]\npassword = x\n", "c"),
                    Catch::Contains("unknown key \"password\" in [auth]")
                      && !Catch::Contains("= x"));
}

TEST_CASE("hlm.conf [auth]: secrets in a file others can read or write are refused", "[config]")
{
  test::TempDir dir;
  const auto file = dir.write("hlm.conf", k_v1);
  const std::string name = file.string();

  std::filesystem::permissions(file,
                               perms::owner_read | perms::owner_write | perms::group_read
                                 | perms::others_read);
  CHECK(load_error(file)
        == name
             + ": [auth] holds secrets (key) but others may read the file (mode 0644); "
               "chmod o-rwx \""
             + name + "\"");
  std::filesystem::permissions(file, perms::owner_read | perms::owner_write | perms::others_write);
  CHECK(load_error(file)
        == name
             + ": [auth] holds secrets (key) but others may write the file (mode 0602); "
               "chmod o-rwx \""
             + name + "\"");
  // Found through $HLM_CONF just the same, and the secret never shows.
  std::filesystem::permissions(file, perms::owner_read | perms::others_read);
  CHECK_THROWS_WITH(load_hlm_conf(std::nullopt, file.c_str()),
                    Catch::Contains("mode 0404") && !Catch::Contains("s3cr3t"));

  // Owner and group only: fine (root:swift 0640 for a cron job as swift).
  for (const auto mode : {perms::owner_read | perms::owner_write,
                          perms::owner_read | perms::owner_write | perms::group_read,
                          perms::owner_read}) {
    std::filesystem::permissions(file, mode);
    CHECK(load_hlm_conf(file, nullptr).auth.key == "s3cr3t-k3y");
  }

  // Every secret key counts; a world-readable file without one is fine.
  for (const std::string secret : {"os_password = p\n", "os_auth_token = t\n"}) {
    const auto other = dir.write("other.conf", "[auth]\n" + secret);
    std::filesystem::permissions(other,
                                 perms::owner_read | perms::owner_write | perms::others_read);
    CHECK_THAT(load_error(other),
               Catch::Contains("holds secrets (" + secret.substr(0, secret.find(' '))));
  }
  const auto plain = dir.write("plain.conf",
                               "[auth]\nauth_url = http://proxy/auth/v1.0\nuser = u\n");
  std::filesystem::permissions(plain,
                               perms::owner_read | perms::owner_write | perms::group_read
                                 | perms::others_read);
  CHECK(load_hlm_conf(plain, nullptr).auth.user == "u");
}
