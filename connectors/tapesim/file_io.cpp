#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>

#include <connectors/tapesim/file_io.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace hlm::connector::tapesim {

namespace {

constexpr std::size_t k_chunk = 1 << 20;

[[noreturn]] void
fail(std::string_view what, const std::filesystem::path& path, int error = errno)
{
  throw Error(fmt::format("cannot {} \"{}\": {}", what, path.string(), std::strerror(error)));
}

} // namespace

File::File(std::filesystem::path path, int flags)
  : m_path(std::move(path)),
    m_fd(::open(m_path.c_str(), flags | O_CLOEXEC, 0644))
{
  if (m_fd < 0) {
    fail("open", m_path);
  }
}

File::File(std::filesystem::path path, int fd, std::nullptr_t)
  : m_path(std::move(path)),
    m_fd(fd)
{
}

File
File::create_temporary(const std::filesystem::path& dir)
{
  std::string name = (dir / ".hlm-rebuild-XXXXXX").string();
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    fail("create a temporary file in", dir);
  }
  return File(std::filesystem::path(name), fd, nullptr);
}

File::~File()
{
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

File::File(File&& other) noexcept
  : m_path(std::move(other.m_path)),
    m_fd(other.m_fd)
{
  other.m_fd = -1;
}

std::uint64_t
File::size() const
{
  struct stat st;
  if (::fstat(m_fd, &st) != 0) {
    fail("stat", m_path);
  }
  return static_cast<std::uint64_t>(st.st_size);
}

void
File::sync() const
{
  if (::fdatasync(m_fd) != 0) {
    fail("sync", m_path);
  }
}

void
File::sync_all() const
{
  if (::fsync(m_fd) != 0) {
    fail("sync", m_path);
  }
}

void
File::write(std::uint64_t offset, std::string_view bytes) const
{
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
      ::pwrite(m_fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail("write", m_path);
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string
File::read(std::uint64_t offset, std::size_t length) const
{
  std::string bytes(length, '\0');
  std::size_t done = 0;
  while (done < length) {
    const ssize_t n =
      ::pread(m_fd, bytes.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail("read", m_path);
    }
    if (n == 0) {
      throw Error(fmt::format("\"{}\" ends at byte {}, before the {} bytes expected at {}",
                              m_path.string(),
                              offset + done,
                              length,
                              offset));
    }
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

std::vector<std::pair<std::string, std::string>>
File::xattrs(std::string_view prefix) const
{
  // Sizes may change between the size query and the read (another writer):
  // ERANGE then means "ask again".
  std::vector<char> names;
  for (;;) {
    const ssize_t size = ::flistxattr(m_fd, nullptr, 0);
    if (size < 0) {
      fail("list the xattrs of", m_path);
    }
    names.resize(static_cast<std::size_t>(size));
    const ssize_t got = ::flistxattr(m_fd, names.data(), names.size());
    if (got >= 0) {
      names.resize(static_cast<std::size_t>(got));
      break;
    }
    if (errno != ERANGE) {
      fail("list the xattrs of", m_path);
    }
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t at = 0; at < names.size();) {
    const std::string name(names.data() + at);
    at += name.size() + 1;
    if (!name.starts_with(prefix)) {
      continue;
    }
    std::string value;
    for (;;) {
      const ssize_t size = ::fgetxattr(m_fd, name.c_str(), nullptr, 0);
      if (size < 0) {
        const int error = errno;
        fail(fmt::format("read xattr \"{}\" of", name), m_path, error);
      }
      value.resize(static_cast<std::size_t>(size));
      const ssize_t got = ::fgetxattr(m_fd, name.c_str(), value.data(), value.size());
      if (got >= 0) {
        value.resize(static_cast<std::size_t>(got));
        break;
      }
      if (errno != ERANGE) {
        const int error = errno;
        fail(fmt::format("read xattr \"{}\" of", name), m_path, error);
      }
    }
    out.emplace_back(name, std::move(value));
  }
  return out;
}

void
File::set_xattr(const std::string& name, std::string_view value) const
{
  if (::fsetxattr(m_fd, name.c_str(), value.data(), value.size(), 0) != 0) {
    const int error = errno;
    fail(fmt::format("set xattr \"{}\" of", name), m_path, error);
  }
}

void
File::truncate(std::uint64_t size) const
{
  if (::ftruncate(m_fd, static_cast<off_t>(size)) != 0) {
    fail("truncate", m_path);
  }
}

void
File::punch_hole() const
{
  const auto length = size();
  if (length == 0) {
    return;
  }
  // A hole covers whole blocks only: a punch that ends inside a block
  // zeroes its tail but keeps it allocated, so a file smaller than a block
  // would still read as data (zeros) on disk. Punch up to the end of the
  // last block (KEEP_SIZE lets the range pass the end of the file).
  struct stat st = {};
  if (::fstat(m_fd, &st) != 0) {
    fail("stat", m_path);
  }
  const auto block = static_cast<std::uint64_t>(st.st_blksize > 0 ? st.st_blksize : 4096);
  const auto end = (length + block - 1) / block * block;
  if (::fallocate(m_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(end))
      != 0) {
    fail("free the blocks of", m_path);
  }
  // What Swift's side (hlm_swift.replica) takes for a stub: no data left.
  if (::lseek(m_fd, 0, SEEK_DATA) >= 0 || errno != ENXIO) {
    throw Error(fmt::format("{}: data blocks remain after freeing them; the file system "
                            "does not make holes, so the disk copy is not released",
                            m_path.string()));
  }
}

std::string
File::copy(std::uint64_t offset,
           std::uint64_t length,
           const File* to,
           std::uint64_t to_offset) const
{
  Md5 md5;
  std::uint64_t done = 0;
  while (done < length) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length - done, k_chunk));
    const std::string chunk = read(offset + done, want);
    md5.update({chunk.data(), chunk.size()});
    if (to) {
      to->write(to_offset + done, chunk);
    }
    done += want;
  }
  return to_hex(md5.finish());
}

} // namespace hlm::connector::tapesim
