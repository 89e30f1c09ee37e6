#pragma once

#include <filesystem>
#include <optional>

namespace hlm {

// An exclusive, non-blocking lock on a file (flock), held while the object
// lives. Locks are per open file: a second try_acquire of the same path
// fails while the first lock lives, in this process as in any other.
class FileLock
{
public:
  // Creates the file (and its directory) when missing and locks it;
  // nullopt when another holder has it. Throws hlm::Error when the file
  // cannot be created, opened or locked for another reason.
  static std::optional<FileLock> try_acquire(const std::filesystem::path& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

private:
  explicit FileLock(int fd);
  int m_fd;
};

} // namespace hlm
