#include <hlm/diskfile/metadata.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <sys/xattr.h>

#include <cerrno>
#include <charconv>
#include <system_error>
#include <utility>

namespace hlm::diskfile {

namespace {

const std::string k_metadata_key = "user.swift.metadata";
const std::string k_checksum_key = "user.swift.metadata_checksum";

// Swift writes chunks of 65,536 bytes and real metadata is a few KiB; the cap
// only stops a corrupt or hostile file from making us read without end.
constexpr std::size_t k_max_metadata_bytes = std::size_t{64} << 20;

// A value the xattr could take between our size query and the read; retry
// a few times before giving up.
constexpr int k_xattr_read_attempts = 8;

std::string
quoted_path(const std::filesystem::path& file)
{
  return "\"" + file.string() + "\"";
}

[[noreturn]] void
throw_xattr_error(const std::filesystem::path& file, const std::string& name, int error)
{
  if (error == ENOTSUP) {
    throw Error(fmt::format("cannot read Swift metadata of {}: the filesystem "
                            "does not support extended attributes",
                            quoted_path(file)));
  }
  throw Error(fmt::format("cannot read xattr \"{}\" of {}: {}",
                          name,
                          quoted_path(file),
                          std::generic_category().message(error)));
}

// nullopt when the file has no such attribute (ENODATA); Swift treats that
// as the end of the chunk sequence or an absent checksum.
std::optional<std::string>
read_xattr(const std::filesystem::path& file, const std::string& name)
{
  for (int attempt = 0; attempt < k_xattr_read_attempts; ++attempt) {
    const ssize_t size = ::getxattr(file.c_str(), name.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENODATA) {
        return std::nullopt;
      }
      throw_xattr_error(file, name, errno);
    }
    if (size == 0) {
      // A zero-size buffer would turn the read into another size query.
      return std::string();
    }
    std::string value(static_cast<std::size_t>(size), '\0');
    const ssize_t got = ::getxattr(file.c_str(), name.c_str(), value.data(), value.size());
    if (got >= 0) {
      value.resize(static_cast<std::size_t>(got));
      return value;
    }
    if (errno == ENODATA) {
      return std::nullopt;
    }
    if (errno != ERANGE) {
      throw_xattr_error(file, name, errno);
    }
  }
  throw Error(
    fmt::format("cannot read xattr \"{}\" of {}: it keeps changing", name, quoted_path(file)));
}

std::optional<std::uint64_t>
parse_content_length(const std::string& text)
{
  // Swift writes str(int); signs, spaces and other forms Python's int()
  // would accept never occur, so they are treated as corruption.
  std::uint64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

} // namespace

ObjectMetadata::ObjectMetadata(MetadataMap raw)
  : m_raw(std::move(raw))
{
  for (const char* key : {"name", "X-Timestamp"}) {
    if (m_raw.find(key) == m_raw.end()) {
      throw InputError(fmt::format("Swift metadata has no \"{}\"", key));
    }
  }
  if (const auto it = m_raw.find("Content-Length"); it != m_raw.end()) {
    m_content_length = parse_content_length(it->second);
    if (!m_content_length) {
      throw InputError(
        fmt::format("Swift metadata has a bad Content-Length \"{}\"", printable(it->second)));
    }
  }
}

std::optional<std::string>
ObjectMetadata::get(std::string_view key) const
{
  const auto it = m_raw.find(std::string(key));
  if (it == m_raw.end()) {
    return std::nullopt;
  }
  return it->second;
}

const std::string&
ObjectMetadata::name() const noexcept
{
  // Presence checked by the constructor.
  return m_raw.find("name")->second;
}

const std::string&
ObjectMetadata::timestamp() const noexcept
{
  return m_raw.find("X-Timestamp")->second;
}

std::optional<std::string>
ObjectMetadata::etag() const
{
  return get("ETag");
}

std::optional<std::uint64_t>
ObjectMetadata::content_length() const noexcept
{
  return m_content_length;
}

std::optional<std::string>
ObjectMetadata::content_type() const
{
  return get("Content-Type");
}

ObjectMetadata
read_object_metadata(const std::filesystem::path& file)
{
  std::string pickle;
  for (unsigned chunk = 0;; ++chunk) {
    const std::string key = chunk == 0 ? k_metadata_key : k_metadata_key + std::to_string(chunk);
    auto value = read_xattr(file, key);
    if (!value) {
      break;
    }
    pickle += *value;
    if (pickle.size() > k_max_metadata_bytes) {
      throw InputError(fmt::format("Swift metadata of {} is larger than {} bytes",
                                   quoted_path(file),
                                   k_max_metadata_bytes));
    }
  }
  if (pickle.empty()) {
    // An empty first chunk is as useless as a missing one.
    throw Error(fmt::format("no Swift metadata on {}", quoted_path(file)));
  }

  // Swift treats an empty checksum like a missing one (files written before
  // checksums existed have none).
  const auto stored = read_xattr(file, k_checksum_key);
  if (stored && !stored->empty()) {
    const std::string computed = to_hex(md5(pickle));
    if (*stored != computed) {
      throw InputError(
        fmt::format("Swift metadata checksum mismatch on {}: stored \"{}\", computed \"{}\"",
                    quoted_path(file),
                    printable(*stored),
                    computed));
    }
  }

  try {
    return ObjectMetadata(parse_metadata_pickle(pickle));
  } catch (const InputError& e) {
    throw InputError(
      fmt::format("cannot read Swift metadata of {}: {}", quoted_path(file), e.what()));
  }
}

} // namespace hlm::diskfile
