#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace hlm {

struct FileCloser
{
  void operator()(std::FILE* file) const noexcept;
};

// A read-write stream on a file without a name: made in `dir` (empty:
// $TMPDIR, else /tmp) as STEM-XXXXXX and unlinked at once, so nothing is
// left behind however the process ends; closing the stream frees it.
using TemporaryFile = std::unique_ptr<std::FILE, FileCloser>;

// hlm::Error "cannot create a temporary file in DIR: <reason>" when it
// cannot be made or opened.
TemporaryFile unlinked_temporary_file(std::string_view stem, std::string dir = {});

} // namespace hlm
