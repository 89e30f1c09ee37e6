#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace hlm::connector::tapesim {

// An open file descriptor, closed on destruction. Every failure below
// throws hlm::Error naming the file and what the system said.
class File
{
public:
  // `flags` as for open(2); O_CLOEXEC is added. Mode 0644 when created.
  File(std::filesystem::path path, int flags);
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
  void sync() const;              // fdatasync
  void truncate(std::uint64_t size) const;
  // Frees the blocks of the whole file, keeping its size (and, since the
  // inode stays, its xattrs): reads then return zeros, and the file has no
  // data extent left, which is what makes it a stub to hlm_swift's guard.
  // Throws when data remains (a file system that cannot make holes).
  void punch_hole() const;

  // Reads `length` bytes at `offset` (a short file is an error) and returns
  // their MD5, lower-case hex; when `to` is set, also writes them there at
  // `to_offset`.
  std::string copy(std::uint64_t offset, std::uint64_t length, const File* to = nullptr,
                   std::uint64_t to_offset = 0) const;

private:
  std::filesystem::path m_path;
  int m_fd;
};

} // namespace hlm::connector::tapesim
