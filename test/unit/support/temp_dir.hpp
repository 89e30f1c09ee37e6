#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace hlm::test {

// A fresh directory under the test's working directory (the build tree, on
// a file system with user xattrs), removed on destruction.
class TempDir
{
public:
  TempDir()
  {
    static int counter = 0;
    m_path = std::filesystem::current_path()
             / ("hlm-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(m_path);
    std::filesystem::create_directories(m_path);
  }
  ~TempDir()
  {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path&
  path() const
  {
    return m_path;
  }

  std::filesystem::path
  write(const std::string& name, std::string_view content) const
  {
    const auto file = m_path / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return file;
  }

private:
  std::filesystem::path m_path;
};

} // namespace hlm::test
