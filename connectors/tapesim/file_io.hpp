#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlm::connector::tapesim {

// An open file descriptor, closed on destruction. Every failure below
// throws hlm::Error naming the file and what the system said.
class File
{
public:
  // `flags` as for open(2); O_CLOEXEC is added. Mode 0644 when created.
  File(std::filesystem::path path, int flags);
  // A new, empty file with a unique name in `dir` (mkstemp: mode 0600, as
  // Swift's own temporary object files), open for reading and writing.
  static File create_temporary(const std::filesystem::path& dir);
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&&) = delete;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::filesystem::path&
  path() const
  {
    return m_path;
  }
  std::uint64_t size() const;
  void sync() const;     // fdatasync
  void sync_all() const; // fsync: data, size and xattrs
  void truncate(std::uint64_t size) const;
  // Frees the blocks of the whole file, keeping its size (and, since the
  // inode stays, its xattrs): reads then return zeros, and the file has no
  // data extent left, which is what makes it a stub to hlm_swift's guard.
  // Throws when data remains (a file system that cannot make holes).
  void punch_hole() const;

  // Reads `length` bytes at `offset` (a short file is an error) and returns
  // their MD5, lower-case hex; when `to` is set, also writes them there at
  // `to_offset`.
  std::string copy(std::uint64_t offset,
                   std::uint64_t length,
                   const File* to = nullptr,
                   std::uint64_t to_offset = 0) const;

  // Writes all of `bytes` at `offset`.
  void write(std::uint64_t offset, std::string_view bytes) const;
  // Reads `length` bytes at `offset`; a short file is an error.
  std::string read(std::uint64_t offset, std::size_t length) const;

  // Every xattr whose name starts with `prefix`, with its raw value, in
  // the order the file system lists them.
  std::vector<std::pair<std::string, std::string>> xattrs(std::string_view prefix) const;
  void set_xattr(const std::string& name, std::string_view value) const;

private:
  File(std::filesystem::path path, int fd, std::nullptr_t);

  std::filesystem::path m_path;
  int m_fd;
};

} // namespace hlm::connector::tapesim
