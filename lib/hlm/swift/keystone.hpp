#pragma once

#include <hlm/swift/auth.hpp>
#include <hlm/swift/http.hpp>
#include <hlm/swift/retry.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace hlm::swift {

// The JSON body of POST /v3/auth/tokens: password method, user by name
// and domain name, scoped to the project by name and domain name (domains
// default to "Default").
std::string keystone_v3_request_body(const AuthOptions& options);

// The URL of the object-store endpoint in a keystone v3 token document
// ({"token": {"catalog": [...]}}) with the given interface ("public",
// "internal", "admin"; the v2 spellings "publicURL" etc. are accepted) and,
// when given, region (name or id). Throws hlm::ConfigError listing the
// endpoints there are when none matches.
std::string find_object_store_endpoint(const nlohmann::json& token_document,
                                       std::string_view interface,
                                       const std::optional<std::string>& region);

// The v3 exchange alone: POST {os_auth_url}/auth/tokens ("/v3" is added
// to a URL without it), the token from X-Subject-Token, the storage URL
// from the catalog. Throws as authenticate() does.
AuthResult authenticate_v3(HttpClient& http,
                           const AuthOptions& options,
                           const RetryPolicy& retry,
                           std::chrono::milliseconds timeout);

} // namespace hlm::swift
