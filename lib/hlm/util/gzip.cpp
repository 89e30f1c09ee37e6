#include <hlm/util/error.hpp>
#include <hlm/util/gzip.hpp>

#include <fmt/format.h>
#include <fmt/std.h>

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace hlm {

namespace {

struct GzCloser
{
  void
  operator()(gzFile_s* file) const
  {
    gzclose(file);
  }
};

} // namespace

std::string
read_gzip_file(const std::filesystem::path& path, std::size_t max_size)
{
  errno = 0;
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) {
    throw Error(
      fmt::format("cannot open {}: {}", path, errno ? std::strerror(errno) : "out of memory"));
  }

  std::string out;
  char buffer[1 << 16];
  while (true) {
    const int n = gzread(file.get(), buffer, sizeof(buffer));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      throw Error(fmt::format("cannot read {}: {}", path, message));
    }
    if (out.empty() && n > 0 && gzdirect(file.get())) {
      // zlib passes non-gzip input through unchanged; a ring is always
      // compressed, so this is a wrong or damaged file.
      throw Error(fmt::format("cannot read {}: not gzip-compressed", path));
    }
    if (n == 0) {
      break;
    }
    if (out.size() + static_cast<std::size_t>(n) > max_size) {
      throw Error(
        fmt::format("cannot read {}: decompresses to more than {} bytes", path, max_size));
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
  // gzread reports a truncated stream as a short read, not an error; zlib
  // records it and gzerror tells.
  int code = Z_OK;
  const char* message = gzerror(file.get(), &code);
  if (code != Z_OK) {
    throw Error(fmt::format("cannot read {}: {}", path, message));
  }
  return out;
}

} // namespace hlm
