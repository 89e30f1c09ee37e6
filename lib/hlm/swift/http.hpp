#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlm::swift {

enum class Method { get, head, put, post, del };

std::string_view to_string(Method method);

// Header names keep their case as sent or received; lookups ignore case.
using Headers = std::vector<std::pair<std::string, std::string>>;

std::optional<std::string> find_header(const Headers& headers, std::string_view name);

struct HttpRequest
{
  Method method = Method::get;
  std::string url; // already percent-encoded (see encode_path)
  Headers headers;
  std::string body;
  // Whole-request limit; connecting has its own, shorter limit in
  // HttpOptions.
  std::chrono::milliseconds timeout{60'000};
};

struct HttpResponse
{
  int status = 0;
  Headers headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const;
};

struct HttpOptions
{
  std::chrono::milliseconds connect_timeout{5'000};
  std::string user_agent = "hlm";
  // When set, called after each exchange with one line: method, URL (a
  // password in it redacted), status, body size and time. Never a header
  // or a body, so never a token or password.
  std::function<void(const std::string&)> debug;
};

// One HTTP connection pool (libcurl easy handle with keep-alive). Not
// thread-safe: one client per thread. An interface so that the Swift client
// and the queue can be unit-tested against fakes.
class HttpClient
{
public:
  virtual ~HttpClient() = default;

  // Sends `request` and returns whatever HTTP status came back (4xx and
  // 5xx included). Throws hlm::TransportError when no HTTP response
  // arrived (refused, reset, timed out, DNS), with transient() true where a
  // retry may help.
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

std::unique_ptr<HttpClient> make_curl_client(const HttpOptions& options = {});

// Runs curl_global_init once per process; later calls do nothing. Call it
// from main before any thread starts (make_curl_client calls it too, as a
// fallback for single-threaded tools and tests). Throws hlm::Error when
// libcurl cannot initialise.
void global_init();

// "Not Found" for 404 and so on; "" for a status without a known phrase.
std::string_view reason_phrase(int status);

// "HTTP 404 Not Found" (or "HTTP 599" without a known phrase), for messages.
std::string status_text(int status);

// Percent-encodes a path for a URL: every byte except unreserved characters
// (A-Z a-z 0-9 - . _ ~) and '/' is written as %XX, so any UTF-8 name,
// including '%', '?', '#', spaces and newlines, reaches Swift unchanged.
std::string encode_path(std::string_view path);
// Percent-encodes a query value ('/' encoded too).
std::string encode_query_value(std::string_view value);

} // namespace hlm::swift
