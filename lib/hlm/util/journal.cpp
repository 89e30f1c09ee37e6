#include <hlm/util/journal.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <string>

namespace hlm::journal {

bool
is_journal_stream(int fd, const char* journal_stream)
{
  if (journal_stream == nullptr) {
    return false;
  }
  const std::string_view value = journal_stream;
  const auto colon = value.find(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  // parse_int takes signed text; device numbers of 64 bits can exceed it,
  // so compare as text instead of converting.
  const auto device = value.substr(0, colon);
  const auto inode = value.substr(colon + 1);
  if (device.empty() || inode.empty()
      || device.find_first_not_of("0123456789") != std::string_view::npos
      || inode.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  struct stat st = {};
  if (::fstat(fd, &st) != 0) {
    return false;
  }
  return device == std::to_string(static_cast<unsigned long long>(st.st_dev))
         && inode == std::to_string(static_cast<unsigned long long>(st.st_ino));
}

std::string
format_lines(Priority priority, std::string_view text, bool prefixed)
{
  const std::string prefix = prefixed ? "<" + std::to_string(static_cast<int>(priority)) + ">"
                                      : std::string();
  if (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  std::string out;
  out.reserve(text.size() + prefix.size() + 1);
  while (true) {
    const auto newline = text.find('\n');
    out += prefix;
    out += text.substr(0, newline);
    out += '\n';
    if (newline == std::string_view::npos) {
      break;
    }
    text.remove_prefix(newline + 1);
  }
  return out;
}

LogStream::LogStream(std::FILE* stream)
  : m_stream(stream),
    m_prefixed(is_journal_stream(fileno(stream), std::getenv("JOURNAL_STREAM")))
{
}

void
LogStream::print(Priority priority, std::string_view text) const
{
  const std::string lines = format_lines(priority, text, m_prefixed);
  std::fwrite(lines.data(), 1, lines.size(), m_stream);
  std::fflush(m_stream);
}

} // namespace hlm::journal
