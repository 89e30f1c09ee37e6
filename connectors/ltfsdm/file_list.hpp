#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace hlm::connector::ltfsdm {

// A file list for ltfsdm's -f: the paths, one per line, in a private file
// (mkostemp, mode 0600) in `dir`, removed on destruction. `dir` is created
// (mode 0700) if missing and refused when another user could swap the
// list for theirs, which ltfsdm, usually run as root, would then act on:
// it must be a real directory (not a symbolic link) owned by us or root,
// and writable by nobody else unless sticky (like /tmp). Paths must not
// contain a newline. Throws hlm::Error ("ltfsdm connector: ...") when the
// directory is refused or the list cannot be written.
class FileList
{
public:
  FileList(const std::filesystem::path& dir, const std::vector<std::string>& paths);
  ~FileList();
  FileList(const FileList&) = delete;
  FileList& operator=(const FileList&) = delete;

  const std::string&
  path() const
  {
    return m_path;
  }

private:
  std::string m_path;
};

} // namespace hlm::connector::ltfsdm
