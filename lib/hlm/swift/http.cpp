#include <hlm/swift/http.hpp>
#include <hlm/util/percent.hpp>

namespace hlm::swift {

namespace {

std::string
percent_encode(std::string_view text, bool keep_slash)
{
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_url_unreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0x0f];
    }
  }
  return out;
}

bool
equals_ignoring_case(std::string_view a, std::string_view b)
{
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

} // namespace

std::string_view
to_string(Method method)
{
  switch (method) {
  case Method::get:
    return "GET";
  case Method::head:
    return "HEAD";
  case Method::put:
    return "PUT";
  case Method::post:
    return "POST";
  case Method::del:
    return "DELETE";
  }
  return "GET";
}

std::optional<std::string>
find_header(const Headers& headers, std::string_view name)
{
  for (const auto& [key, value] : headers) {
    if (equals_ignoring_case(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

std::optional<std::string>
HttpResponse::header(std::string_view name) const
{
  return find_header(headers, name);
}

std::string_view
reason_phrase(int status)
{
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 204:
    return "No Content";
  case 206:
    return "Partial Content";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Found";
  case 304:
    return "Not Modified";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 411:
    return "Length Required";
  case 412:
    return "Precondition Failed";
  case 413:
    return "Request Entity Too Large";
  case 416:
    return "Requested Range Not Satisfiable";
  case 422:
    return "Unprocessable Entity";
  case 429:
    return "Too Many Requests";
  case 499:
    return "Client Disconnect";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  case 507:
    return "Insufficient Storage";
  default:
    return "";
  }
}

std::string
status_text(int status)
{
  const auto reason = reason_phrase(status);
  std::string text = "HTTP " + std::to_string(status);
  if (!reason.empty()) {
    text += ' ';
    text += reason;
  }
  return text;
}

std::string
encode_path(std::string_view path)
{
  return percent_encode(path, true);
}

std::string
encode_query_value(std::string_view value)
{
  return percent_encode(value, false);
}

} // namespace hlm::swift
