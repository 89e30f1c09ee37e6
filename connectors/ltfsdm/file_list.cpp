#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <connectors/ltfsdm/file_list.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hlm::connector::ltfsdm {

namespace {

namespace fs = std::filesystem;

Error
failure(std::string_view what, const std::string& path, int error)
{
  return Error(
    fmt::format("ltfsdm connector: {} \"{}\": {}", what, printable(path), std::strerror(error)));
}

void
ensure_private_dir(const fs::path& dir)
{
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw failure("cannot create connector_tmp_dir", dir.string(), errno);
  }
  struct stat info
  {};
  if (::lstat(dir.c_str(), &info) != 0) {
    throw failure("cannot use connector_tmp_dir", dir.string(), errno);
  }
  const char* problem = nullptr;
  if (!S_ISDIR(info.st_mode)) {
    problem = "it is not a directory (or is a symbolic link)";
  } else if (info.st_uid != ::geteuid() && info.st_uid != 0) {
    problem = "another user owns it";
  } else if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (info.st_mode & S_ISVTX) == 0) {
    problem = "others may write to it";
  }
  if (problem) {
    throw Error(fmt::format("ltfsdm connector: refusing connector_tmp_dir \"{}\": {}",
                            printable(dir.string()),
                            problem));
  }
}

} // namespace

FileList::FileList(const fs::path& dir, const std::vector<std::string>& paths)
{
  ensure_private_dir(dir);
  m_path = (dir / "list.XXXXXX").string();
  const int fd = ::mkostemp(m_path.data(), O_CLOEXEC);
  if (fd < 0) {
    throw failure("cannot create a file list in", dir.string(), errno);
  }
  std::string content;
  for (const auto& path : paths) {
    content += path;
    content += '\n';
  }
  std::size_t written = 0;
  int error = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      error = errno;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 && error == 0) {
    error = errno;
  }
  if (error != 0) {
    ::unlink(m_path.c_str());
    throw failure("cannot write file list", m_path, error);
  }
}

FileList::~FileList()
{
  ::unlink(m_path.c_str());
}

} // namespace hlm::connector::ltfsdm
