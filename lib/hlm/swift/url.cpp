#include <hlm/swift/http.hpp>
#include <hlm/swift/url.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/percent.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

namespace hlm::swift {

namespace {

void
check_name(std::string_view kind, std::string_view name)
{
  if (name.empty()) {
    throw InputError(fmt::format("{} name is empty", kind));
  }
  if (name.find('/') != std::string_view::npos) {
    throw InputError(fmt::format("{} name \"{}\" contains '/'", kind, printable(name)));
  }
}

} // namespace

std::string
redact_url(std::string_view url)
{
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return std::string(url);
  }
  const auto authority_begin = scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority_begin);
  if (authority_end == std::string_view::npos) {
    authority_end = url.size();
  }
  const auto authority = url.substr(authority_begin, authority_end - authority_begin);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) {
    return std::string(url);
  }
  const auto user_info = authority.substr(0, at);
  const auto colon = user_info.find(':');
  if (colon == std::string_view::npos) {
    return std::string(url);
  }
  return fmt::format("{}{}:********{}",
                     url.substr(0, authority_begin),
                     user_info.substr(0, colon),
                     url.substr(authority_begin + at));
}

StorageUrl
split_storage_url(std::string_view storage_url)
{
  const auto fail = [&](std::string_view why) {
    return ConfigError(
      fmt::format("bad storage URL \"{}\": {}", printable(redact_url(storage_url)), why));
  };
  if (!storage_url.starts_with("http://") && !storage_url.starts_with("https://")) {
    throw fail("not an http or https URL");
  }
  if (storage_url.find_first_of("?#") != std::string_view::npos) {
    throw fail("has a query or fragment");
  }
  std::string_view url = storage_url;
  while (url.ends_with('/')) {
    url.remove_suffix(1);
  }
  const auto authority_begin = url.find("://") + 3;
  const auto path_begin = url.find('/', authority_begin);
  if (path_begin == std::string_view::npos) {
    throw fail("no account in its path");
  }
  const auto last_slash = url.rfind('/');
  StorageUrl result;
  result.root = std::string(url.substr(0, last_slash));
  result.account = percent_decode(url.substr(last_slash + 1));
  if (result.account.empty()) {
    throw fail("no account in its path");
  }
  return result;
}

std::string
resource_url(std::string_view root,
             std::string_view account,
             std::string_view container,
             std::string_view object)
{
  check_name("account", account);
  std::string url = fmt::format("{}/{}", root, encode_path(account));
  if (!container.empty()) {
    check_name("container", container);
    url += '/';
    url += encode_path(container);
  }
  if (!object.empty()) {
    if (container.empty()) {
      throw InputError(fmt::format("object \"{}\" given without a container", printable(object)));
    }
    url += '/';
    url += encode_path(object);
  }
  return url;
}

} // namespace hlm::swift
