#include <hlm/core/swift_name.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

namespace hlm {

SwiftName
parse_swift_name(std::string_view text)
{
  const std::string shown = printable(text);
  if (text.find('\0') != std::string_view::npos || !is_valid_utf8(text)) {
    throw InputError(fmt::format("\"{}\" is not a valid Swift name", shown));
  }
  if (!text.empty() && text.front() == '/') {
    text.remove_prefix(1);
  }
  SwiftName name;
  const auto first = text.find('/');
  name.account = std::string(text.substr(0, first));
  if (first != std::string_view::npos) {
    const auto rest = text.substr(first + 1);
    const auto second = rest.find('/');
    name.container = std::string(rest.substr(0, second));
    if (second != std::string_view::npos) {
      name.object = std::string(rest.substr(second + 1));
      if (name.object.empty()) {
        throw InputError(fmt::format("\"{}\" has an empty object name", shown));
      }
    }
    if (name.container.empty()) {
      throw InputError(fmt::format("\"{}\" has an empty container name", shown));
    }
  }
  if (name.account.empty()) {
    throw InputError(fmt::format("\"{}\" has an empty account name", shown));
  }
  return name;
}

SwiftName
split_object_path(std::string_view path)
{
  if (path.find('\0') != std::string_view::npos) {
    throw InputError(fmt::format("object path \"{}\" contains a NUL byte", printable(path)));
  }
  if (!is_valid_utf8(path)) {
    throw InputError(fmt::format("object path \"{}\" is not valid UTF-8", printable(path)));
  }
  if (path.empty() || path.front() != '/') {
    throw InputError(fmt::format("object path \"{}\" does not start with '/'", printable(path)));
  }
  const std::string_view rest = path.substr(1);
  const auto first = rest.find('/');
  const auto second = first == std::string_view::npos ? first : rest.find('/', first + 1);
  if (second == std::string_view::npos) {
    throw InputError(
      fmt::format("object path \"{}\" is not /account/container/object", printable(path)));
  }
  SwiftName name{std::string(rest.substr(0, first)),
                 std::string(rest.substr(first + 1, second - first - 1)),
                 std::string(rest.substr(second + 1))};
  if (name.account.empty() || name.container.empty() || name.object.empty()) {
    throw InputError(
      fmt::format("object path \"{}\" has an empty account, container or object", printable(path)));
  }
  return name;
}

std::string
format_path(const SwiftName& name)
{
  std::string path = "/" + name.account;
  if (!name.container.empty()) {
    path += "/" + name.container;
    if (!name.object.empty()) {
      path += "/" + name.object;
    }
  }
  return path;
}

} // namespace hlm
