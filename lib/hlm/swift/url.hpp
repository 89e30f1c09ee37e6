#pragma once

#include <string>
#include <string_view>

namespace hlm::swift {

// `url` made fit for messages and logs: a password in the user-info is
// replaced by "********" ("http://u:********@host/..."). Tokens travel only
// in headers, so the rest of the URL is kept.
std::string redact_url(std::string_view url);

// A storage URL ("http://proxy:8080/v1/AUTH_test") split at its last path
// segment, the account.
struct StorageUrl
{
  std::string root;    // "http://proxy:8080/v1", no trailing '/'
  std::string account; // "AUTH_test", decoded
};

// Throws hlm::ConfigError when `storage_url` is not an http(s) URL with an
// account segment.
StorageUrl split_storage_url(std::string_view storage_url);

// "<root>/<account>[/<container>[/<object>]]", each name percent-encoded
// with encode_path. An empty container or object means "not given".
// Throws hlm::InputError when the account is empty, when the account or
// container contains '/', or when an object is given without a container.
std::string resource_url(std::string_view root,
                         std::string_view account,
                         std::string_view container = {},
                         std::string_view object = {});

} // namespace hlm::swift
