#pragma once

// Log lines that journald files under the right priority: when systemd
// connects a stream to the journal, each line may start with "<N>", a
// syslog(3) priority (sd-daemon(3): SD_ERR is "<3>", SD_WARNING "<4>", ...),
// which journald strips and records. Anywhere else the lines stay as they are.

#include <cstdio>
#include <string>
#include <string_view>

namespace hlm::journal {

// syslog(3) priorities.
enum class Priority {
  emerg = 0,
  alert = 1,
  crit = 2,
  err = 3,
  warning = 4,
  notice = 5,
  info = 6,
  debug = 7,
};

// True when `fd` is open on the stream named by `journal_stream`, the value
// of $JOURNAL_STREAM ("DEVICE:INODE" in decimal, systemd.exec(5)). False
// for a null, empty or malformed value, or another file: a child whose
// stderr is a pipe to its parent (a local hlm-handler under hlm-dispatch)
// inherits the variable but not the stream.
bool is_journal_stream(int fd, const char* journal_stream);

// `text` as lines, each ending in a newline and, when `prefixed`, starting
// with "<N>". A trailing newline in `text` adds no empty line.
std::string format_lines(Priority priority, std::string_view text, bool prefixed);

// Writes log lines to one stream, prefixed when $JOURNAL_STREAM names it
// (checked once, at construction).
class LogStream
{
public:
  explicit LogStream(std::FILE* stream);

  bool
  prefixed() const
  {
    return m_prefixed;
  }

  // One write per call, so concurrent writers do not interleave a message.
  void print(Priority priority, std::string_view text) const;

private:
  std::FILE* m_stream;
  bool m_prefixed;
};

} // namespace hlm::journal
