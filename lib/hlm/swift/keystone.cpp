#include <hlm/swift/keystone.hpp>
#include <hlm/swift/url.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <vector>

namespace hlm::swift {

namespace {

const std::string k_default_domain = "Default";

std::string
value_or_default(const std::optional<std::string>& value)
{
  return value && !value->empty() ? *value : k_default_domain;
}

// Keystone v2 catalogs said "publicURL"; swiftclient still accepts it.
std::string
normalize_interface(std::string_view interface)
{
  std::string name = to_lower(trim(interface));
  if (name.ends_with("url")) {
    name.resize(name.size() - 3);
  }
  return name.empty() ? "public" : name;
}

std::string
string_field(const nlohmann::json& object, const char* key)
{
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Keystone's own explanation, {"error": {"message": ...}}, when there is one.
std::string
keystone_message(const std::string& body)
{
  const auto document = nlohmann::json::parse(body, nullptr, false);
  if (document.is_object() && document.contains("error") && document["error"].is_object()) {
    const auto message = string_field(document["error"], "message");
    if (!message.empty()) {
      return ": " + printable(message.substr(0, 300));
    }
  }
  return {};
}

} // namespace

std::string
keystone_v3_request_body(const AuthOptions& options)
{
  const nlohmann::json body = {
    {"auth",
     {{"identity",
       {{"methods", {"password"}},
        {"password",
         {{"user",
           {{"name", options.os_username.value_or("")},
            {"domain", {{"name", value_or_default(options.os_user_domain_name)}}},
            {"password", options.os_password.value_or("")}}}}}}},
      {"scope",
       {{"project",
         {{"name", options.os_project_name.value_or("")},
          {"domain", {{"name", value_or_default(options.os_project_domain_name)}}}}}}}}}};
  return body.dump();
}

std::string
find_object_store_endpoint(const nlohmann::json& token_document,
                           std::string_view interface,
                           const std::optional<std::string>& region)
{
  const std::string wanted = normalize_interface(interface);
  const bool any_region = !region || region->empty();
  std::vector<std::string> seen;
  const auto token = token_document.find("token");
  const bool has_catalog = token != token_document.end() && token->is_object()
                           && token->contains("catalog") && (*token)["catalog"].is_array();
  if (has_catalog) {
    for (const auto& service : (*token)["catalog"]) {
      if (!service.is_object() || string_field(service, "type") != "object-store"
          || !service.contains("endpoints") || !service["endpoints"].is_array()) {
        continue;
      }
      for (const auto& endpoint : service["endpoints"]) {
        if (!endpoint.is_object()) {
          continue;
        }
        const auto endpoint_interface = normalize_interface(string_field(endpoint, "interface"));
        const auto region_name = string_field(endpoint, "region");
        const auto region_id = string_field(endpoint, "region_id");
        const auto url = string_field(endpoint, "url");
        if (endpoint_interface == wanted && !url.empty()
            && (any_region || region_name == *region || region_id == *region)) {
          return url;
        }
        seen.push_back(
          fmt::format("{}/{}", endpoint_interface, region_name.empty() ? region_id : region_name));
      }
    }
  }
  std::string found = "none";
  if (!seen.empty()) {
    found.clear();
    for (const auto& entry : seen) {
      found += (found.empty() ? "" : ", ") + printable(entry);
    }
  }
  throw ConfigError(fmt::format(
    "no object-store endpoint with interface \"{}\"{} in the keystone catalog (there are: {})",
    printable(wanted),
    any_region ? std::string() : fmt::format(" in region \"{}\"", printable(*region)),
    found));
}

AuthResult
authenticate_v3(HttpClient& http,
                const AuthOptions& options,
                const RetryPolicy& retry,
                std::chrono::milliseconds timeout)
{
  {
    // auth_mode() names a missing piece; nothing else may win over v3 here.
    AuthOptions v3_only = options;
    v3_only.auth_version = "3";
    v3_only.token.reset();
    auth_mode(v3_only);
  }
  std::string base = *options.os_auth_url;
  while (base.ends_with('/')) {
    base.pop_back();
  }
  if (!base.ends_with("/v3")) {
    base += "/v3";
  }
  HttpRequest request;
  request.method = Method::post;
  request.url = base + "/auth/tokens";
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = keystone_v3_request_body(options);
  request.timeout = timeout;
  const HttpResponse response = send_with_retry(http, request, retry);

  const auto where = printable(redact_url(request.url));
  if (response.status == 401 || response.status == 403) {
    throw SwiftError(
      fmt::format(
        "authentication failed for user \"{}\" (domain \"{}\", project \"{}\") at \"{}\": {}{}",
        printable(*options.os_username),
        printable(value_or_default(options.os_user_domain_name)),
        printable(*options.os_project_name),
        where,
        status_text(response.status),
        keystone_message(response.body)),
      response.status);
  }
  if (response.status < 200 || response.status > 299) {
    throw SwiftError(fmt::format("authentication at \"{}\" failed: {}{}",
                                 where,
                                 status_text(response.status),
                                 keystone_message(response.body)),
                     response.status);
  }
  AuthResult result;
  result.token = response.header("X-Subject-Token").value_or("");
  if (result.token.empty()) {
    throw SwiftError(fmt::format("authentication at \"{}\" answered {} without X-Subject-Token",
                                 where,
                                 status_text(response.status)),
                     response.status);
  }
  const auto document = nlohmann::json::parse(response.body, nullptr, false);
  if (document.is_discarded()) {
    throw SwiftError(
      fmt::format("authentication at \"{}\" answered {} with a body that is not JSON",
                  where,
                  status_text(response.status)),
      response.status);
  }
  result.storage_url = find_object_store_endpoint(document,
                                                  options.os_interface.value_or("public"),
                                                  options.os_region_name);
  return result;
}

} // namespace hlm::swift
