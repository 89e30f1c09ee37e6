#include <hlm/diskfile/restore_mark.hpp>
#include <hlm/util/clock.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <sys/xattr.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace hlm::diskfile {

namespace {

const std::string k_name(k_restore_mark_attribute);

bool
no_attribute(int error)
{
  return error == ENODATA || error == ENOTSUP;
}

} // namespace

std::string
format_restore_mark(std::int64_t expiry)
{
  return std::to_string(expiry);
}

std::optional<std::int64_t>
parse_restore_mark(std::string_view text)
{
  if (text.empty() || text.size() > 12
      || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  for (const char c : text) {
    value = value * 10 + (c - '0');
  }
  if (value > k_max_unix_seconds) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t>
read_restore_mark(const std::string& file)
{
  std::array<char, 32> buffer{};
  const ssize_t length = ::getxattr(file.c_str(), k_name.c_str(), buffer.data(), buffer.size());
  if (length < 0) {
    const int error = errno;
    if (no_attribute(error)) {
      return std::nullopt;
    }
    throw Error(fmt::format("cannot read {} of {}: {}", k_name, file, std::strerror(error)));
  }
  const std::string_view text(buffer.data(), static_cast<std::size_t>(length));
  const auto value = parse_restore_mark(text);
  if (!value) {
    throw InputError(
      fmt::format("{} of {} is \"{}\", not Unix seconds", k_name, file, printable(text)));
  }
  return value;
}

void
write_restore_mark(const std::string& file, std::int64_t expiry)
{
  const std::string text = format_restore_mark(expiry);
  if (::setxattr(file.c_str(), k_name.c_str(), text.data(), text.size(), 0) != 0) {
    throw Error(fmt::format("cannot set {} of {}: {}", k_name, file, std::strerror(errno)));
  }
}

void
clear_restore_mark(const std::string& file)
{
  // Looked for first: most replicas have no mark, and a removexattr of an
  // absent attribute costs ext4 as much as a write (a journal handle), a
  // getxattr half as much (bench/scale.sh, a migrate of 300,000 replicas).
  if (::getxattr(file.c_str(), k_name.c_str(), nullptr, 0) < 0 && no_attribute(errno)) {
    return;
  }
  if (::removexattr(file.c_str(), k_name.c_str()) != 0 && !no_attribute(errno)) {
    throw Error(fmt::format("cannot remove {} of {}: {}", k_name, file, std::strerror(errno)));
  }
}

} // namespace hlm::diskfile
