#include <hlm/swift/auth.hpp>
#include <hlm/swift/keystone.hpp>
#include <hlm/swift/url.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <array>
#include <initializer_list>
#include <stdexcept>

namespace hlm::swift {

namespace {

// A field with the variables and the flag that set it, for reading the
// environment and for naming what is missing.
struct Field
{
  std::optional<std::string> AuthOptions::*member;
  std::array<const char*, 3> variables; // the first set one wins; unused are null
  const char* flag;
};

const Field k_fields[] = {
  {&AuthOptions::auth_url, {"ST_AUTH"}, "--auth"},
  {&AuthOptions::user, {"ST_USER"}, "--user"},
  {&AuthOptions::key, {"ST_KEY"}, "--key"},
  {&AuthOptions::os_auth_url, {"OS_AUTH_URL"}, "--os-auth-url"},
  {&AuthOptions::os_username, {"OS_USERNAME"}, "--os-username"},
  {&AuthOptions::os_password, {"OS_PASSWORD"}, "--os-password"},
  {&AuthOptions::os_project_name, {"OS_PROJECT_NAME", "OS_TENANT_NAME"}, "--os-project-name"},
  {&AuthOptions::os_user_domain_name, {"OS_USER_DOMAIN_NAME"}, "--os-user-domain-name"},
  {&AuthOptions::os_project_domain_name, {"OS_PROJECT_DOMAIN_NAME"}, "--os-project-domain-name"},
  {&AuthOptions::os_region_name, {"OS_REGION_NAME"}, "--os-region-name"},
  {&AuthOptions::os_interface, {"OS_INTERFACE", "OS_ENDPOINT_TYPE"}, "--os-interface"},
  {&AuthOptions::token, {"OS_AUTH_TOKEN"}, "--os-auth-token"},
  {&AuthOptions::storage_url, {"OS_STORAGE_URL"}, "--os-storage-url"},
  {&AuthOptions::auth_version,
   {"ST_AUTH_VERSION", "OS_AUTH_VERSION", "OS_IDENTITY_API_VERSION"},
   "--auth-version"},
};

const Field&
field(std::optional<std::string> AuthOptions::*member)
{
  for (const auto& f : k_fields) {
    if (f.member == member) {
      return f;
    }
  }
  throw std::logic_error("unknown AuthOptions field");
}

bool
given(const std::optional<std::string>& value)
{
  return value && !value->empty();
}

// "ST_KEY (--key)"
std::string
name_of(std::optional<std::string> AuthOptions::*member)
{
  const Field& f = field(member);
  return fmt::format("{} ({})", f.variables[0], f.flag);
}

void
require(const AuthOptions& options,
        std::string_view mode,
        std::initializer_list<std::optional<std::string> AuthOptions::*> members)
{
  for (const auto member : members) {
    if (!given(options.*member)) {
      throw ConfigError(fmt::format("{} authentication needs {}", mode, name_of(member)));
    }
  }
}

enum class Version { unset, v1, v3 };

Version
parse_version(const std::optional<std::string>& text)
{
  if (!given(text)) {
    return Version::unset;
  }
  const auto value = trim(*text);
  if (value == "1" || value == "1.0") {
    return Version::v1;
  }
  if (value == "3" || value == "3.0") {
    return Version::v3;
  }
  throw ConfigError(fmt::format("unsupported auth version \"{}\" in {}: use 1 or 3",
                                printable(value),
                                name_of(&AuthOptions::auth_version)));
}

bool
is_v3_url(std::string_view url)
{
  while (url.ends_with('/')) {
    url.remove_suffix(1);
  }
  return url.ends_with("/v3");
}

} // namespace

AuthOptions
auth_options_from_env(const std::function<const char*(const char*)>& getenv)
{
  AuthOptions options;
  for (const auto& f : k_fields) {
    for (const char* variable : f.variables) {
      if (!variable) {
        break;
      }
      const char* value = getenv(variable);
      if (value && *value) {
        options.*f.member = value;
        break;
      }
    }
  }
  return options;
}

AuthOptions
overlay(const AuthOptions& base, const AuthOptions& top)
{
  AuthOptions result = base;
  for (const auto& f : k_fields) {
    if (given(top.*f.member)) {
      result.*f.member = top.*f.member;
    }
  }
  return result;
}

AuthMode
auth_mode(const AuthOptions& options)
{
  if (given(options.token) && given(options.storage_url)) {
    return AuthMode::token;
  }
  const std::string_view v1 = "tempauth v1";
  const std::string_view v3 = "keystone v3";
  switch (parse_version(options.auth_version)) {
  case Version::v1:
    require(options, v1, {&AuthOptions::auth_url, &AuthOptions::user, &AuthOptions::key});
    return AuthMode::v1;
  case Version::v3:
    require(options,
            v3,
            {&AuthOptions::os_auth_url,
             &AuthOptions::os_username,
             &AuthOptions::os_password,
             &AuthOptions::os_project_name});
    return AuthMode::v3;
  case Version::unset:
    break;
  }

  const bool v3_url = given(options.os_auth_url) && is_v3_url(*options.os_auth_url);
  if (v3_url && given(options.os_password)) {
    require(options, v3, {&AuthOptions::os_username, &AuthOptions::os_project_name});
    return AuthMode::v3;
  }
  if (given(options.auth_url) && given(options.user) && given(options.key)) {
    return AuthMode::v1;
  }
  if (v3_url) {
    require(options, v3, {&AuthOptions::os_password});
  }
  if (given(options.auth_url) || given(options.user) || given(options.key)) {
    require(options, v1, {&AuthOptions::auth_url, &AuthOptions::user, &AuthOptions::key});
  }
  if (given(options.os_auth_url)) {
    throw ConfigError(fmt::format(
      "{} \"{}\" does not end in /v3: set {} to 3 for keystone v3 (v2 is not supported)",
      name_of(&AuthOptions::os_auth_url),
      printable(redact_url(*options.os_auth_url)),
      name_of(&AuthOptions::auth_version)));
  }
  if (given(options.token)) {
    throw ConfigError(
      fmt::format("{} needs {}", name_of(&AuthOptions::token), name_of(&AuthOptions::storage_url)));
  }
  throw ConfigError(
    "no Swift credentials: set ST_AUTH, ST_USER and ST_KEY (tempauth v1), or OS_AUTH_URL"
    " ending in /v3, OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME (keystone v3), or"
    " OS_AUTH_TOKEN and OS_STORAGE_URL, or the matching flags");
}

AuthResult
authenticate(HttpClient& http,
             const AuthOptions& options,
             const RetryPolicy& retry,
             std::chrono::milliseconds timeout)
{
  AuthResult result;
  switch (auth_mode(options)) {
  case AuthMode::token:
    return AuthResult{*options.storage_url, *options.token};
  case AuthMode::v1:
    result = authenticate_v1(http, options, retry, timeout);
    break;
  case AuthMode::v3:
    result = authenticate_v3(http, options, retry, timeout);
    break;
  }
  if (given(options.storage_url)) {
    result.storage_url = *options.storage_url;
  }
  return result;
}

AuthResult
authenticate_v1(HttpClient& http,
                const AuthOptions& options,
                const RetryPolicy& retry,
                std::chrono::milliseconds timeout)
{
  require(options, "tempauth v1", {&AuthOptions::auth_url, &AuthOptions::user, &AuthOptions::key});
  HttpRequest request;
  request.method = Method::get;
  request.url = *options.auth_url;
  request.headers = {{"X-Auth-User", *options.user}, {"X-Auth-Key", *options.key}};
  request.timeout = timeout;
  const HttpResponse response = send_with_retry(http, request, retry);

  const auto where = printable(redact_url(*options.auth_url));
  if (response.status == 401 || response.status == 403) {
    throw SwiftError(fmt::format("authentication failed for user \"{}\" at \"{}\": {}",
                                 printable(*options.user),
                                 where,
                                 status_text(response.status)),
                     response.status);
  }
  if (response.status < 200 || response.status > 299) {
    throw SwiftError(
      fmt::format("authentication at \"{}\" failed: {}", where, status_text(response.status)),
      response.status);
  }
  AuthResult result;
  result.storage_url = response.header("X-Storage-Url").value_or("");
  result.token =
    response.header("X-Auth-Token").value_or(response.header("X-Storage-Token").value_or(""));
  if (result.storage_url.empty() || result.token.empty()) {
    throw SwiftError(
      fmt::format("authentication at \"{}\" answered {} without X-Storage-Url and X-Auth-Token",
                  where,
                  status_text(response.status)),
      response.status);
  }
  return result;
}

} // namespace hlm::swift
