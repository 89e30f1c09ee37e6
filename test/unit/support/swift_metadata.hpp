#pragma once

// Writes the user.swift.metadata xattr the way Swift does, for a flat
// str → str dict (protocol 2: PROTO, EMPTY_DICT, MARK, BINUNICODE pairs,
// SETITEMS, STOP). Enough for tests that need a believable .data file.

#include <sys/xattr.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

namespace hlm::test {

inline std::string
pickle_str_dict(const std::map<std::string, std::string>& values)
{
  std::string out = "\x80\x02}(";
  const auto unicode = [&](const std::string& s) {
    out += 'X';
    const auto n = static_cast<std::uint32_t>(s.size());
    for (int shift = 0; shift < 32; shift += 8) {
      out += static_cast<char>((n >> shift) & 0xff);
    }
    out += s;
  };
  for (const auto& [key, value] : values) {
    unicode(key);
    unicode(value);
  }
  out += "u.";
  return out;
}

inline void
write_object_metadata(const std::filesystem::path& file,
                      const std::string& name,
                      const std::string& timestamp = "1700000000.00000",
                      const std::string& etag = "d41d8cd98f00b204e9800998ecf8427e",
                      const std::string& content_length = "4")
{
  const std::string pickle = pickle_str_dict({{"name", name},
                                              {"X-Timestamp", timestamp},
                                              {"ETag", etag},
                                              {"Content-Length", content_length},
                                              {"Content-Type", "application/octet-stream"}});
  if (setxattr(file.c_str(), "user.swift.metadata", pickle.data(), pickle.size(), 0) != 0) {
    throw std::runtime_error("setxattr failed on " + file.string());
  }
}

} // namespace hlm::test
