#include <hlm/swift/curl_easy.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <utility>

namespace hlm::swift::detail {

CurlFailure
classify(CURLcode code)
{
  switch (code) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return CurlFailure::resolve;
  case CURLE_COULDNT_CONNECT:
    return CurlFailure::connect;
  case CURLE_OPERATION_TIMEDOUT:
    return CurlFailure::timeout;
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return CurlFailure::connection_lost;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    return CurlFailure::tls;
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
    return CurlFailure::unsupported;
  default:
    return CurlFailure::other;
  }
}

bool
is_transient(CurlFailure failure)
{
  return failure == CurlFailure::connect || failure == CurlFailure::timeout
         || failure == CurlFailure::connection_lost;
}

std::string_view
describe(CurlFailure failure)
{
  switch (failure) {
  case CurlFailure::resolve:
    return "cannot resolve host";
  case CurlFailure::connect:
    return "cannot connect";
  case CurlFailure::timeout:
    return "timed out";
  case CurlFailure::connection_lost:
    return "connection lost";
  case CurlFailure::tls:
    return "TLS failure";
  case CurlFailure::unsupported:
    return "unsupported URL or protocol";
  case CurlFailure::other:
    break;
  }
  return "transfer failed";
}

CurlEasy::CurlEasy()
  : m_handle(curl_easy_init()),
    m_error(std::make_unique<char[]>(CURL_ERROR_SIZE))
{
  if (!m_handle) {
    throw Error("cannot create a libcurl handle");
  }
  reset();
}

CurlEasy::~CurlEasy()
{
  free_headers();
  if (m_handle) {
    curl_easy_cleanup(m_handle);
  }
}

CurlEasy::CurlEasy(CurlEasy&& other) noexcept
  : m_handle(std::exchange(other.m_handle, nullptr)),
    m_headers(std::exchange(other.m_headers, nullptr)),
    m_error(std::move(other.m_error))
{
}

CurlEasy&
CurlEasy::operator=(CurlEasy&& other) noexcept
{
  if (this != &other) {
    free_headers();
    if (m_handle) {
      curl_easy_cleanup(m_handle);
    }
    m_handle = std::exchange(other.m_handle, nullptr);
    m_headers = std::exchange(other.m_headers, nullptr);
    m_error = std::move(other.m_error);
  }
  return *this;
}

void
CurlEasy::reset()
{
  curl_easy_reset(m_handle);
  // The old list may still be referenced until HTTPHEADER is set again;
  // reset() dropped that reference, so it can go now.
  free_headers();
  m_error[0] = '\0';
  set(CURLOPT_ERRORBUFFER, m_error.get());
}

void
CurlEasy::set_headers(const Headers& headers, std::initializer_list<std::string_view> suppressed)
{
  curl_slist* list = nullptr;
  const auto append = [&](const std::string& line) {
    curl_slist* appended = curl_slist_append(list, line.c_str());
    if (!appended) {
      throw Error("out of memory building HTTP headers");
    }
    list = appended;
  };
  try {
    for (const auto& [name, value] : headers) {
      const auto forged = [](std::string_view text) {
        return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
      };
      if (name.empty() || forged(name) || forged(value)
          || name.find_first_of(":; ") != std::string::npos) {
        throw InputError(fmt::format("bad HTTP header \"{}\"", printable(name)));
      }
      // "Name;" is curl's spelling of a header with an empty value;
      // "Name:" would remove the header instead.
      append(value.empty() ? name + ";" : name + ": " + value);
    }
    for (const auto name : suppressed) {
      append(std::string(name) + ":");
    }
    set(CURLOPT_HTTPHEADER, list);
  } catch (...) {
    curl_slist_free_all(list);
    throw;
  }
  free_headers();
  m_headers = list;
}

CURLcode
CurlEasy::perform()
{
  m_error[0] = '\0';
  return curl_easy_perform(m_handle);
}

std::string
CurlEasy::error_message(CURLcode code) const
{
  std::string_view text(m_error.get());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text.empty() ? std::string(curl_easy_strerror(code)) : std::string(text);
}

long
CurlEasy::response_code() const
{
  long code = 0;
  if (curl_easy_getinfo(m_handle, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK) {
    return 0;
  }
  return code;
}

void
CurlEasy::throw_setopt_error(CURLoption option, CURLcode code)
{
  throw Error(fmt::format("libcurl rejected option {}: {}",
                          static_cast<int>(option),
                          curl_easy_strerror(code)));
}

void
CurlEasy::free_headers() noexcept
{
  if (m_headers) {
    curl_slist_free_all(m_headers);
    m_headers = nullptr;
  }
}

} // namespace hlm::swift::detail
