#pragma once

#include <hlm/swift/http.hpp>
#include <hlm/swift/retry.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

namespace hlm::swift {

// Swift credentials as python-swiftclient takes them. Each field comes from
// an environment variable or a command-line flag (named in the comments);
// unset and empty both mean "not given".
struct AuthOptions
{
  // tempauth/swauth v1.
  std::optional<std::string> auth_url; // ST_AUTH, --auth
  std::optional<std::string> user;     // ST_USER, --user ("account:user")
  std::optional<std::string> key;      // ST_KEY, --key

  // Keystone v3 password authentication.
  std::optional<std::string> os_auth_url; // OS_AUTH_URL, --os-auth-url
  std::optional<std::string> os_username; // OS_USERNAME, --os-username
  std::optional<std::string> os_password; // OS_PASSWORD, --os-password
  std::optional<std::string>
    os_project_name; // OS_PROJECT_NAME (or OS_TENANT_NAME), --os-project-name
  std::optional<std::string>
    os_user_domain_name; // OS_USER_DOMAIN_NAME, --os-user-domain-name; default "Default"
  std::optional<std::string>
    os_project_domain_name; // OS_PROJECT_DOMAIN_NAME, --os-project-domain-name; default "Default"
  // Which catalog endpoint of type object-store to use.
  std::optional<std::string>
    os_region_name; // OS_REGION_NAME, --os-region-name; default: any region
  std::optional<std::string>
    os_interface; // OS_INTERFACE (or OS_ENDPOINT_TYPE), --os-interface; default "public"

  // A token obtained elsewhere. OS_STORAGE_URL alone replaces the storage
  // URL that authentication returns.
  std::optional<std::string> token;       // OS_AUTH_TOKEN, --os-auth-token
  std::optional<std::string> storage_url; // OS_STORAGE_URL, --os-storage-url

  // "1" (or "1.0") or "3" (or "3.0"); unset means: decided by the other
  // fields (see auth_mode).
  std::optional<std::string>
    auth_version; // ST_AUTH_VERSION, OS_AUTH_VERSION, OS_IDENTITY_API_VERSION, --auth-version
};

// Reads the variables named in AuthOptions through `getenv`.
AuthOptions auth_options_from_env(const std::function<const char*(const char*)>& getenv = ::getenv);

// `base` with every field that `top` gives replaced: overlay(env, flags)
// lets flags win over the environment.
AuthOptions overlay(const AuthOptions& base, const AuthOptions& top);

enum class AuthMode {
  token, // token and storage_url given: no request at all
  v1,    // GET auth_url with X-Auth-User/X-Auth-Key
  v3,    // keystone v3 password auth
};

// Picks the mode: token when both token and storage_url are given; else v3
// when auth_version is 3, or when it is unset, os_auth_url ends in "/v3"
// and a password is given; else v1. Throws hlm::ConfigError naming the
// missing variable and flag when the chosen mode lacks a piece, or when no
// credentials are given at all.
AuthMode auth_mode(const AuthOptions& options);

struct AuthResult
{
  std::string storage_url; // e.g. "http://proxy:8080/v1/AUTH_test"
  std::string token;       // secret: never print or log it
};

// Authenticates as auth_mode() says, each request retried per `retry` and
// limited by `timeout`. Throws hlm::ConfigError as auth_mode() does,
// hlm::SwiftError when the server refuses the credentials (401/403, with
// "authentication failed for user ...") or answers badly, and
// hlm::TransportError when it cannot be reached.
AuthResult authenticate(HttpClient& http,
                        const AuthOptions& options,
                        const RetryPolicy& retry = {},
                        std::chrono::milliseconds timeout = std::chrono::milliseconds{60'000});

// The v1 exchange alone (auth_url, user and key must be set).
AuthResult authenticate_v1(HttpClient& http,
                           const AuthOptions& options,
                           const RetryPolicy& retry,
                           std::chrono::milliseconds timeout);

} // namespace hlm::swift
