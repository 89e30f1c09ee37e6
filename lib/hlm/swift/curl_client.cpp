#include <hlm/swift/curl_easy.hpp>
#include <hlm/swift/http.hpp>
#include <hlm/swift/url.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>

namespace hlm::swift {

namespace {

using detail::CurlEasy;

// State one transfer's callbacks share; lives on send()'s stack.
struct Transfer
{
  std::string_view upload;
  std::size_t upload_offset = 0;
  HttpResponse response;
  // The blank line ending the last header block arrived. libcurl 7.88
  // reports success for a connection closed in the middle of the headers.
  bool headers_complete = false;
};

std::size_t
on_body(char* data, std::size_t size, std::size_t count, void* user)
{
  auto* transfer = static_cast<Transfer*>(user);
  transfer->response.body.append(data, size * count);
  return size * count;
}

std::size_t
on_header(char* data, std::size_t size, std::size_t count, void* user)
{
  auto* transfer = static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new status line (after "100 Continue") starts a new header block.
    transfer->response.headers.clear();
    transfer->headers_complete = false;
    return line.size();
  }
  if (line == "\r\n" || line == "\n") {
    transfer->headers_complete = true;
    return line.size();
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    transfer->response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                            std::string(trim(line.substr(colon + 1))));
  }
  return line.size();
}

std::size_t
on_upload(char* buffer, std::size_t size, std::size_t count, void* user)
{
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = std::min(size * count, transfer->upload.size() - transfer->upload_offset);
  std::memcpy(buffer, transfer->upload.data() + transfer->upload_offset, n);
  transfer->upload_offset += n;
  return n;
}

// libcurl rewinds the upload when it resends on a fresh connection (a
// kept-alive one the server had closed).
int
on_seek(void* user, curl_off_t offset, int origin)
{
  auto* transfer = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0
      || static_cast<std::size_t>(offset) > transfer->upload.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  transfer->upload_offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

long
to_curl_ms(std::chrono::milliseconds duration)
{
  // 0 would mean "no limit" to libcurl.
  return std::max<long>(1, static_cast<long>(duration.count()));
}

// Every option of a request, set from scratch: the handle is reset first, so
// nothing (NOBODY, CUSTOMREQUEST, UPLOAD) leaks from the previous request,
// while its kept-alive connections survive.
void
prepare(CurlEasy& easy, const HttpOptions& options, const HttpRequest& request, Transfer& transfer)
{
  easy.reset();
  easy.set(CURLOPT_URL, request.url.c_str());
  easy.set(CURLOPT_PROTOCOLS_STR, "http,https");
  // Object names may contain "/../"; they must reach Swift unchanged.
  easy.set(CURLOPT_PATH_AS_IS, 1L);
  easy.set(CURLOPT_NOSIGNAL, 1L);
  easy.set(CURLOPT_TCP_KEEPALIVE, 1L);
  easy.set(CURLOPT_CONNECTTIMEOUT_MS, to_curl_ms(options.connect_timeout));
  easy.set(CURLOPT_TIMEOUT_MS, to_curl_ms(request.timeout));
  easy.set(CURLOPT_USERAGENT, options.user_agent.c_str());
  easy.set(CURLOPT_HEADERFUNCTION, on_header);
  easy.set(CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
  easy.set(CURLOPT_WRITEFUNCTION, on_body);
  easy.set(CURLOPT_WRITEDATA, static_cast<void*>(&transfer));

  switch (request.method) {
  case Method::get:
    easy.set(CURLOPT_HTTPGET, 1L);
    break;
  case Method::head:
    easy.set(CURLOPT_NOBODY, 1L);
    break;
  case Method::put:
    transfer.upload = request.body;
    easy.set(CURLOPT_UPLOAD, 1L);
    easy.set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    easy.set(CURLOPT_READFUNCTION, on_upload);
    easy.set(CURLOPT_READDATA, static_cast<void*>(&transfer));
    easy.set(CURLOPT_SEEKFUNCTION, on_seek);
    easy.set(CURLOPT_SEEKDATA, static_cast<void*>(&transfer));
    break;
  case Method::post:
    easy.set(CURLOPT_POST, 1L);
    easy.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    easy.set(CURLOPT_POSTFIELDS, request.body.data());
    break;
  case Method::del:
    easy.set(CURLOPT_CUSTOMREQUEST, "DELETE");
    break;
  }
  // Bodies are in memory and small; waiting for "100 Continue" would only
  // add a round trip (or a second's stall with servers that never send it).
  easy.set_headers(request.headers, {"Expect"});
}

// Secret header values must never reach a message, even if some layer
// echoed one.
std::string
scrub(std::string text, const Headers& headers)
{
  for (const auto& [name, value] : headers) {
    const auto lower = to_lower(name);
    const bool secret = lower == "x-auth-token" || lower == "x-storage-token"
                        || lower == "x-auth-key" || lower == "x-subject-token";
    if (!secret || value.empty()) {
      continue;
    }
    for (auto pos = text.find(value); pos != std::string::npos; pos = text.find(value, pos)) {
      text.replace(pos, value.size(), "<redacted>");
    }
  }
  return text;
}

// 'GET "http://host/v1/AUTH_test/c": cannot connect: <libcurl's words>'
std::string
failure_message(const HttpRequest& request, std::string_view what, std::string_view detail)
{
  return scrub(fmt::format("{} \"{}\": {}: {}",
                           to_string(request.method),
                           printable(redact_url(request.url)),
                           what,
                           printable(detail)),
               request.headers);
}

class CurlClient final : public HttpClient
{
public:
  explicit CurlClient(HttpOptions options)
    : m_options(std::move(options))
  {
  }

  HttpResponse
  send(const HttpRequest& request) override
  {
    Transfer transfer;
    prepare(m_easy, m_options, request, transfer);
    const auto start = std::chrono::steady_clock::now();
    const CURLcode code = m_easy.perform();
    if (m_options.debug) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
      m_options.debug(code != CURLE_OK ? fmt::format("{} {} -> failed ({} ms): {}",
                                                     to_string(request.method),
                                                     printable(redact_url(request.url)),
                                                     ms,
                                                     m_easy.error_message(code))
                                       : fmt::format("{} {} -> {} ({} bytes, {} ms)",
                                                     to_string(request.method),
                                                     printable(redact_url(request.url)),
                                                     m_easy.response_code(),
                                                     transfer.response.body.size(),
                                                     ms));
    }
    if (code != CURLE_OK) {
      const auto failure = detail::classify(code);
      throw TransportError(
        failure_message(request, detail::describe(failure), m_easy.error_message(code)),
        detail::is_transient(failure));
    }
    if (!transfer.headers_complete) {
      throw TransportError(failure_message(request,
                                           detail::describe(detail::CurlFailure::connection_lost),
                                           "closed in the middle of the response headers"),
                           true);
    }
    transfer.response.status = static_cast<int>(m_easy.response_code());
    return std::move(transfer.response);
  }

private:
  HttpOptions m_options;
  CurlEasy m_easy;
};

} // namespace

void
global_init()
{
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    throw Error(fmt::format("cannot initialise libcurl: {}", curl_easy_strerror(result)));
  }
}

std::unique_ptr<HttpClient>
make_curl_client(const HttpOptions& options)
{
  global_init();
  return std::make_unique<CurlClient>(options);
}

} // namespace hlm::swift
