#include <hlm/util/error.hpp>
#include <hlm/util/file_lock.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace hlm {

std::optional<FileLock>
FileLock::try_acquire(const std::filesystem::path& path)
{
  // A failure here shows as the open's error below, which names the file.
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error(fmt::format("cannot open lock file {}: {}", path.string(), std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return std::nullopt;
    }
    throw Error(fmt::format("cannot lock {}: {}", path.string(), std::strerror(error)));
  }
  return FileLock(fd);
}

FileLock::FileLock(int fd)
  : m_fd(fd)
{
}

FileLock::FileLock(FileLock&& other) noexcept
  : m_fd(other.m_fd)
{
  other.m_fd = -1;
}

FileLock::~FileLock()
{
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

} // namespace hlm
