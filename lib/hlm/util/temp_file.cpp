#include <hlm/util/error.hpp>
#include <hlm/util/temp_file.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace hlm {

void
FileCloser::operator()(std::FILE* file) const noexcept
{
  std::fclose(file);
}

TemporaryFile
unlinked_temporary_file(std::string_view stem, std::string dir)
{
  if (dir.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    dir = tmpdir && *tmpdir ? tmpdir : "/tmp";
  }
  std::string pattern = fmt::format("{}/{}-XXXXXX", dir, stem);
  const int fd = ::mkstemp(pattern.data());
  const auto fail = [&](int error) {
    throw Error(fmt::format("cannot create a temporary file in {}: {}", dir, std::strerror(error)));
  };
  if (fd < 0) {
    fail(errno);
  }
  ::unlink(pattern.c_str());
  TemporaryFile file(::fdopen(fd, "w+b"));
  if (!file) {
    const int error = errno;
    ::close(fd);
    fail(error);
  }
  return file;
}

} // namespace hlm
