#pragma once

#include <hlm/swift/auth.hpp>
#include <hlm/swift/http.hpp>
#include <hlm/swift/listing.hpp>
#include <hlm/swift/retry.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::swift {

struct ClientOptions
{
  RetryPolicy retry;
  // Limit for each request, authentication included. The connect limit is
  // HttpOptions::connect_timeout.
  std::chrono::milliseconds timeout{60'000};
};

struct AccountInfo
{
  std::uint64_t container_count = 0;
  std::uint64_t object_count = 0; // stays 0 until Swift's updaters run
  std::uint64_t bytes_used = 0;
  Headers headers; // all of them, metadata included
};

struct ContainerInfo
{
  std::uint64_t object_count = 0;
  std::uint64_t bytes_used = 0;
  std::string storage_policy; // policy name, from X-Storage-Policy
  Headers headers;
};

struct ObjectInfo
{
  std::string etag; // without quotes
  std::uint64_t content_length = 0;
  std::string content_type;
  Headers headers;
};

// A Swift API client for one set of credentials. Operations take the
// account by name ("AUTH_test"), so one client reaches every account its
// token may access; the request goes to the storage URL with its account
// segment replaced. Names are raw UTF-8: the client percent-encodes them,
// so '/', '%', '?', '#', spaces and newlines in object names round-trip.
// Account and container names must not be empty or contain '/'
// (hlm::InputError).
//
// Authentication happens on the first request (or authenticate()); a 401
// answer re-authenticates once and repeats the request. Transient transport
// failures and 5xx answers are retried per ClientOptions::retry; 4xx never.
//
// Failures: hlm::ConfigError for missing or unusable credentials,
// hlm::SwiftError (with the status) for answers the operation does not
// expect, hlm::TransportError when Swift cannot be reached after the
// retries. Messages show URLs without passwords and never the token.
//
// Not thread-safe (neither is HttpClient); use one client per thread.
class Client
{
public:
  Client(std::unique_ptr<HttpClient> http, AuthOptions auth, ClientOptions options = {});
  // `http` must outlive the client.
  Client(HttpClient& http, AuthOptions auth, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  // Authenticates now, replacing any token held.
  void authenticate();

  // The storage URL authentication gave (authenticating first if needed).
  const std::string& storage_url();
  // Its account segment, decoded: "AUTH_test".
  const std::string& account();

  // nullopt when the account does not exist (404); SwiftError on 401/403
  // and other unexpected statuses.
  std::optional<AccountInfo> head_account(std::string_view account);
  std::optional<ContainerInfo> head_container(std::string_view account, std::string_view container);
  std::optional<ObjectInfo> head_object(std::string_view account,
                                        std::string_view container,
                                        std::string_view object);

  // Creates the container, or updates its metadata when it exists (201 or
  // 202). Pass {"X-Storage-Policy", "silver"} to choose a policy; Swift
  // answers 409 when an existing container has another one.
  void put_container(std::string_view account,
                     std::string_view container,
                     const Headers& headers = {});

  // Uploads `body` (held in memory; zero length allowed) and returns the
  // ETag Swift computed.
  std::string put_object(std::string_view account,
                         std::string_view container,
                         std::string_view object,
                         std::string_view body,
                         const Headers& headers = {});

  // The whole body, in memory: for small objects only. nullopt on 404.
  std::optional<std::string> get_object(std::string_view account,
                                        std::string_view container,
                                        std::string_view object);

  // false when there was nothing to delete (404). Deleting a container
  // that still has objects is a SwiftError with status 409.
  bool delete_object(std::string_view account, std::string_view container, std::string_view object);
  bool delete_container(std::string_view account, std::string_view container);

  // Calls `on_entry` for each object of the container in name order (by
  // UTF-8 bytes), fetching one page of `options.limit` names at a time
  // (marker = the last name of the previous page) and holding no more than
  // one page. Stops after a short page or when `on_entry` returns false.
  // A missing container is a SwiftError with status 404.
  void list_objects(std::string_view account,
                    std::string_view container,
                    const ListOptions& options,
                    const std::function<bool(const ObjectEntry&)>& on_entry);

  // The same for the containers of an account.
  void list_containers(std::string_view account,
                       const ListOptions& options,
                       const std::function<bool(const ContainerEntry&)>& on_entry);

  // Where hlm's HTTP interface is on the proxy of the storage URL: the
  // storage URL up to its API version, that replaced by "hlm/v1"
  // ("http://proxy:8080/hlm/v1").
  std::string hlm_interface_url();

  // A request to hlm's HTTP interface on the proxy of the storage URL
  // (hlmctl(1), THE HTTP INTERFACE), as this client's caller:
  // "<storage URL up to /v1>/../hlm/v1/<verb>/<account>/<container>[/<object>]",
  // names percent-encoded, the token sent, re-authenticated once on 401
  // and retried as every request. Returns the answer, whatever its status.
  HttpResponse hlm_request(Method method,
                           std::string_view verb,
                           std::string_view account,
                           std::string_view container,
                           std::string_view object,
                           const Headers& headers = {});

private:
  struct Target
  {
    std::string_view account;
    std::string_view container;
    std::string_view object;
    std::string query;
    std::string_view hlm_verb; // non-empty: a request to hlm's interface
  };

  const AuthResult& ensure_authenticated();
  std::string url_of(const Target& target);
  HttpResponse execute(Method method,
                       const Target& target,
                       const Headers& headers = {},
                       std::string_view body = {});
  // DELETE: false on 404, SwiftError on any other failure.
  bool delete_resource(const Target& target);
  [[noreturn]] void fail(Method method, const Target& target, const HttpResponse& response);
  struct Page
  {
    std::size_t entries = 0;
    std::string last_name;
    bool stop = false; // the caller's callback asked to stop
  };
  void list_pages(Target target,
                  const ListOptions& options,
                  const std::function<Page(const std::string& body)>& on_page);
  // Hands one parsed page to `on_entry`, entry by entry, until it says stop.
  template<typename Entry>
  static Page deliver(const std::vector<Entry>& entries,
                      const std::function<bool(const Entry&)>& on_entry);

  std::unique_ptr<HttpClient> m_owned_http;
  HttpClient* m_http;
  AuthOptions m_auth_options;
  ClientOptions m_options;
  std::optional<AuthResult> m_auth;
  std::string m_root;    // storage URL without the account segment
  std::string m_account; // account segment of the storage URL
};

} // namespace hlm::swift
