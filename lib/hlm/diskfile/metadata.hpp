#pragma once

#include <hlm/diskfile/pickle.hpp>
#include <hlm/util/error.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
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

// The fields of an object file's metadata that a handler reports, checked
// as ObjectMetadata checks them. Views into a MetadataReader, valid until
// its next read.
struct MetadataFields
{
  std::string_view name;      // ObjectMetadata::name()
  std::string_view timestamp; // ObjectMetadata::timestamp()
  std::optional<std::string_view> etag;
  std::optional<std::uint64_t> content_length;
};

// read_object_metadata() for many files, at two getxattr calls each for
// metadata as Swift writes it, with buffers kept from one file to the next.
//
// Each chunk is read with one getxattr into a buffer the reader keeps. It
// starts at 1 KiB and, after a value that did not fit (ERANGE: the reader
// then asks for the size first), grows to hold one as large: the kernel
// allocates and clears as much as the caller offers, so a 64 KiB buffer
// would cost more than the read of a usual 400-byte pickle. Swift writes
// chunks of exactly `chunk_bytes` (its xattr_size), so a
// shorter chunk is its last: the next is probed only after a full chunk, or
// when the stored checksum does not match what was read (chunks of another
// size) or there is none. A result is the same as read_object_metadata()'s,
// errors and messages included. Not thread-safe.
class MetadataReader
{
public:
  // Swift's write_metadata(xattr_size=65536), and Linux's largest xattr.
  static constexpr std::size_t k_swift_chunk_bytes = 65536;
  // The getxattr buffer before any value needed more.
  static constexpr std::size_t k_initial_buffer_bytes = 1024;

  explicit MetadataReader(std::size_t chunk_bytes = k_swift_chunk_bytes);

  ObjectMetadata read(const std::string& file);

  // read() without building an ObjectMetadata: the same reads, checks and
  // errors, but no map and no copy of a key or value.
  const MetadataFields& read_fields(const std::string& file);

  // getxattr calls made so far, failed ones included.
  std::uint64_t
  xattr_reads() const noexcept
  {
    return m_xattr_reads;
  }

private:
  void load(const std::string& file);
  [[noreturn]] static void throw_unreadable(const std::string& file, const InputError& error);
  std::optional<std::size_t> append_chunk(const std::string& file, unsigned chunk);
  void fit_buffer(std::size_t value_bytes);
  bool read_checksum(const std::string& file);
  void read_remaining_chunks(const std::string& file, unsigned next_chunk);

  std::size_t m_chunk_bytes;
  std::size_t m_buffer_bytes;
  std::unique_ptr<char[]> m_buffer;
  std::string m_key;
  std::string m_pickle;
  std::string m_checksum;
  MetadataPickleParser m_parser;
  MetadataFields m_fields;
  std::uint64_t m_xattr_reads = 0;
};

} // namespace hlm::diskfile
