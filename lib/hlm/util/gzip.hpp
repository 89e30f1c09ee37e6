#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace hlm {

// Reads and decompresses a whole gzip file. Throws hlm::Error naming the
// file when it cannot be opened, is not gzip-compressed, is truncated or
// corrupt, or decompresses to more than `max_size` bytes.
std::string read_gzip_file(const std::filesystem::path& path, std::size_t max_size);

} // namespace hlm
