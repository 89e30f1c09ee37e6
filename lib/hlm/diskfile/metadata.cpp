#include <hlm/diskfile/metadata.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <sys/xattr.h>

#include <algorithm>
#include <array>
#include <bit>
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
quoted_path(const std::string& file)
{
  return "\"" + file + "\"";
}

[[noreturn]] void
throw_xattr_error(const std::string& file, const std::string& name, int error)
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
// as the end of the chunk sequence or an absent checksum. Asks for the size
// first: for values larger than the caller's buffer. `calls` counts the
// getxattr calls.
std::optional<std::string>
read_xattr(const std::string& file, const std::string& name, std::uint64_t& calls)
{
  for (int attempt = 0; attempt < k_xattr_read_attempts; ++attempt) {
    ++calls;
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
    ++calls;
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
parse_content_length(std::string_view text)
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

// Checks the fields every Swift object file has (see ObjectMetadata's
// constructor) and returns the Content-Length; `find(key)` gives a key's
// value or nullopt.
template<typename Find>
std::optional<std::uint64_t>
check_required_fields(const Find& find)
{
  for (const char* key : {"name", "X-Timestamp"}) {
    if (!find(key)) {
      throw InputError(fmt::format("Swift metadata has no \"{}\"", key));
    }
  }
  const std::optional<std::string_view> text = find("Content-Length");
  if (!text) {
    return std::nullopt;
  }
  const auto length = parse_content_length(*text);
  if (!length) {
    throw InputError(
      fmt::format("Swift metadata has a bad Content-Length \"{}\"", printable(*text)));
  }
  return length;
}

} // namespace

ObjectMetadata::ObjectMetadata(MetadataMap raw)
  : m_raw(std::move(raw))
{
  m_content_length = check_required_fields([&](const char* key) {
    const auto it = m_raw.find(key);
    return it == m_raw.end() ? std::nullopt : std::optional<std::string_view>(it->second);
  });
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
  return MetadataReader().read(file.native());
}

MetadataReader::MetadataReader(std::size_t chunk_bytes)
  : m_chunk_bytes(std::max<std::size_t>(chunk_bytes, 1)),
    m_buffer_bytes(std::min(m_chunk_bytes, k_initial_buffer_bytes)),
    m_buffer(std::make_unique<char[]>(m_buffer_bytes))
{
}

// After a value did not fit: the next read asks for room for one as large
// (a power of two, so that a few growths cover any size), at most Linux's
// largest xattr.
void
MetadataReader::fit_buffer(std::size_t value_bytes)
{
  const std::size_t wanted = std::min(std::bit_ceil(std::max<std::size_t>(value_bytes, 1)),
                                      k_swift_chunk_bytes);
  if (wanted > m_buffer_bytes) {
    m_buffer = std::make_unique<char[]>(wanted);
    m_buffer_bytes = wanted;
  }
}

// The chunk's length, appended to m_pickle; nullopt when it does not exist.
std::optional<std::size_t>
MetadataReader::append_chunk(const std::string& file, unsigned chunk)
{
  m_key = k_metadata_key;
  if (chunk > 0) {
    m_key += std::to_string(chunk);
  }
  ++m_xattr_reads;
  const ssize_t got = ::getxattr(file.c_str(), m_key.c_str(), m_buffer.get(), m_buffer_bytes);
  std::size_t length = 0;
  if (got >= 0) {
    length = static_cast<std::size_t>(got);
    m_pickle.append(m_buffer.get(), length);
  } else if (errno == ENODATA) {
    return std::nullopt;
  } else if (errno == ERANGE) {
    const auto value = read_xattr(file, m_key, m_xattr_reads);
    if (!value) {
      return std::nullopt;
    }
    length = value->size();
    m_pickle += *value;
    fit_buffer(length);
  } else {
    throw_xattr_error(file, m_key, errno);
  }
  if (m_pickle.size() > k_max_metadata_bytes) {
    throw InputError(fmt::format("Swift metadata of {} is larger than {} bytes",
                                 quoted_path(file),
                                 k_max_metadata_bytes));
  }
  return length;
}

// Whether the file has a checksum, then in m_checksum. Swift treats an
// empty checksum like a missing one (files written before checksums existed
// have none).
bool
MetadataReader::read_checksum(const std::string& file)
{
  // 32 hex digits; anything longer is read whole to be reported.
  constexpr std::size_t k_checksum_buffer = 64;
  std::array<char, k_checksum_buffer> buffer{};
  ++m_xattr_reads;
  const ssize_t got =
    ::getxattr(file.c_str(), k_checksum_key.c_str(), buffer.data(), buffer.size());
  if (got >= 0) {
    m_checksum.assign(buffer.data(), static_cast<std::size_t>(got));
  } else if (errno == ENODATA) {
    m_checksum.clear();
  } else if (errno == ERANGE) {
    m_checksum = read_xattr(file, k_checksum_key, m_xattr_reads).value_or(std::string());
  } else {
    throw_xattr_error(file, k_checksum_key, errno);
  }
  return !m_checksum.empty();
}

// Swift's loop: every chunk up to the first missing one.
void
MetadataReader::read_remaining_chunks(const std::string& file, unsigned next_chunk)
{
  unsigned chunk = next_chunk;
  while (append_chunk(file, chunk)) {
    ++chunk;
  }
}

ObjectMetadata
MetadataReader::read(const std::string& file)
{
  load(file);
  try {
    m_parser.parse(m_pickle);
    MetadataMap map;
    for (const auto& [key, value] : m_parser.entries()) {
      map.insert_or_assign(std::string(key), std::string(value));
    }
    return ObjectMetadata(std::move(map));
  } catch (const InputError& e) {
    throw_unreadable(file, e);
  }
}

const MetadataFields&
MetadataReader::read_fields(const std::string& file)
{
  load(file);
  try {
    m_parser.parse(m_pickle);
    const auto find = [&](std::string_view key) { return m_parser.find(key); };
    m_fields.content_length = check_required_fields(find);
    m_fields.name = *find("name");
    m_fields.timestamp = *find("X-Timestamp");
    m_fields.etag = find("ETag");
    return m_fields;
  } catch (const InputError& e) {
    throw_unreadable(file, e);
  }
}

void
MetadataReader::throw_unreadable(const std::string& file, const InputError& error)
{
  throw InputError(
    fmt::format("cannot read Swift metadata of {}: {}", quoted_path(file), error.what()));
}

// The pickle into m_pickle, its checksum verified when there is one.
void
MetadataReader::load(const std::string& file)
{
  m_pickle.clear();
  unsigned chunk = 0;
  bool more = false; // stopped at a short chunk: the next may still exist
  for (;; ++chunk) {
    const auto length = append_chunk(file, chunk);
    if (!length) {
      break;
    }
    if (*length != m_chunk_bytes) {
      more = true;
      break;
    }
  }
  if (!more && m_pickle.empty()) {
    throw Error(fmt::format("no Swift metadata on {}", quoted_path(file)));
  }

  const bool has_checksum = read_checksum(file);
  const auto checksum_matches = [&] { return has_checksum && m_checksum == to_hex(md5(m_pickle)); };
  bool verified = checksum_matches();
  if (more && !verified) {
    // Chunks of another size than Swift's, an old file without a checksum,
    // or a mismatch to report: read on as Swift does.
    const std::size_t before = m_pickle.size();
    read_remaining_chunks(file, chunk + 1);
    if (m_pickle.size() != before) {
      verified = checksum_matches();
    }
  }
  if (m_pickle.empty()) {
    // An empty first chunk is as useless as a missing one.
    throw Error(fmt::format("no Swift metadata on {}", quoted_path(file)));
  }
  if (has_checksum && !verified) {
    throw InputError(
      fmt::format("Swift metadata checksum mismatch on {}: stored \"{}\", computed \"{}\"",
                  quoted_path(file),
                  printable(m_checksum),
                  to_hex(md5(m_pickle))));
  }
}

} // namespace hlm::diskfile
