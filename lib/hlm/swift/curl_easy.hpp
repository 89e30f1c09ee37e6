#pragma once

// Private to lib/hlm/swift: the one header that includes <curl/curl.h>.
// Nothing outside this directory may include it.

#include <hlm/swift/http.hpp>

#include <curl/curl.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace hlm::swift::detail {

// What went wrong below HTTP, reduced from CURLcode to what callers act on.
enum class CurlFailure {
  resolve,         // host name unknown
  connect,         // refused, unreachable, connect timeout
  timeout,         // the whole-request limit passed
  connection_lost, // reset, closed early, partial body
  tls,             // handshake or certificate
  unsupported,     // malformed URL, scheme other than http(s), HTTP/0.9
  other,
};

CurlFailure classify(CURLcode code);

// True for failures a retry may cure: connect, timeout, connection_lost.
bool is_transient(CurlFailure failure);

// "cannot connect", "timed out", ... for messages.
std::string_view describe(CurlFailure failure);

// Owns one easy handle, its request header list and its error buffer.
// Move-only. Every option goes through set(), which throws hlm::Error when
// libcurl refuses it.
class CurlEasy
{
public:
  CurlEasy();
  ~CurlEasy();
  CurlEasy(CurlEasy&& other) noexcept;
  CurlEasy& operator=(CurlEasy&& other) noexcept;
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;

  template<typename T>
  void
  set(CURLoption option, T value)
  {
    const CURLcode code = curl_easy_setopt(m_handle, option, value);
    if (code != CURLE_OK) {
      throw_setopt_error(option, code);
    }
  }

  // Back to default options, keeping live connections, and the error
  // buffer armed again.
  void reset();

  // Installs `headers` as CURLOPT_HTTPHEADER (an empty value is sent as an
  // empty header, not dropped), and suppresses the headers libcurl would
  // add by itself that are named in `suppressed`. Throws hlm::InputError
  // when a name or value contains CR, LF or NUL, which would let it forge
  // headers.
  void set_headers(const Headers& headers, std::initializer_list<std::string_view> suppressed = {});

  CURLcode perform();

  // The error buffer's text, or curl_easy_strerror when it is empty.
  std::string error_message(CURLcode code) const;

  long response_code() const;

private:
  [[noreturn]] static void throw_setopt_error(CURLoption option, CURLcode code);
  void free_headers() noexcept;

  CURL* m_handle = nullptr;
  curl_slist* m_headers = nullptr;
  // On the heap: curl keeps its address, which must survive moves.
  std::unique_ptr<char[]> m_error;
};

} // namespace hlm::swift::detail
