#pragma once

#include <hlm/diskfile/pickle.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace hlm::diskfile {

// The metadata Swift keeps with one object file (.data, .meta or .ts).
//
// Keys and values are the raw bytes Swift stored. Two encodings meet here:
// "name" is the object path as real UTF-8 ("/AUTH_test/c/été"), but Python 3
// Swift stores header-derived values (X-Object-Meta-*, Content-Type) as the
// UTF-8 encoding of a WSGI string, so a non-ASCII user header value appears
// double-encoded ("é" is stored as C3 83 C2 A9). Compare such values with
// what Swift's own read_metadata() returns, not with what the client sent.
class ObjectMetadata
{
public:
  // Validates the fields every Swift object file has: "name" and
  // "X-Timestamp" must be present; "Content-Length", when present, must be a
  // decimal integer that fits in 64 bits. Throws hlm::InputError otherwise.
  explicit ObjectMetadata(MetadataMap raw);

  // Every key and value as stored, for keys this class has no accessor for
  // (X-Object-Meta-*, X-Object-Sysmeta-*, Content-Type-Timestamp, ...).
  const MetadataMap&
  raw() const noexcept
  {
    return m_raw;
  }

  // The value stored under `key` (exact, case-sensitive match, as Swift
  // writes "ETag", "Content-Length"), or nullopt.
  std::optional<std::string> get(std::string_view key) const;

  // "/<account>/<container>/<object>", UTF-8.
  const std::string& name() const noexcept;

  // X-Timestamp in Swift's internal form, e.g. "1795332046.73390" or
  // "1795332046.73390_0000000000000001".
  const std::string& timestamp() const noexcept;

  // Present in .data metadata; absent from .ts and usually from .meta. For an
  // erasure-coded fragment these describe the fragment archive; the whole
  // object's values are under X-Object-Sysmeta-Ec-Etag and
  // X-Object-Sysmeta-Ec-Content-Length.
  std::optional<std::string> etag() const;
  std::optional<std::uint64_t> content_length() const noexcept;
  std::optional<std::string> content_type() const;

private:
  MetadataMap m_raw;
  std::optional<std::uint64_t> m_content_length;
};

// Reads the metadata of the Swift object file at `file` (symlinks are
// followed; the file is never opened, so an HSM stub is not recalled).
//
// Concatenates xattrs user.swift.metadata, user.swift.metadata1, ... up to
// the first missing one (Swift splits the pickle every 65,536 bytes). When
// user.swift.metadata_checksum is present and non-empty it must equal the
// lower-case hex MD5 of the concatenation, as Swift requires; older files
// without it are accepted.
//
// Throws hlm::Error naming the file when it cannot be read, its filesystem
// has no xattr support, or it has no user.swift.metadata ("no Swift metadata
// on ..."); hlm::InputError when the checksum does not match, the pickle is
// malformed (see parse_metadata_pickle) or required keys are missing.
ObjectMetadata read_object_metadata(const std::filesystem::path& file);

} // namespace hlm::diskfile
