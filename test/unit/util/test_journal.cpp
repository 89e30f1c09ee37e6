#include <hlm/util/journal.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

using hlm::journal::Priority;

namespace {

struct FileCloser
{
  void
  operator()(std::FILE* f) const
  {
    std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// What systemd puts in $JOURNAL_STREAM for a stream open on `fd`.
std::string
journal_stream_of(int fd)
{
  struct stat st = {};
  REQUIRE(::fstat(fd, &st) == 0);
  return std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":"
         + std::to_string(static_cast<unsigned long long>(st.st_ino));
}

} // namespace

TEST_CASE("is_journal_stream matches the stream $JOURNAL_STREAM names", "[util]")
{
  const File journal(std::tmpfile());
  const File other(std::tmpfile());
  REQUIRE(journal);
  REQUIRE(other);
  const std::string value = journal_stream_of(fileno(journal.get()));

  CHECK(hlm::journal::is_journal_stream(fileno(journal.get()), value.c_str()));
  // A child's pipe to its parent inherits the variable, not the stream.
  CHECK_FALSE(hlm::journal::is_journal_stream(fileno(other.get()), value.c_str()));
  CHECK_FALSE(hlm::journal::is_journal_stream(fileno(journal.get()), nullptr));
  CHECK_FALSE(hlm::journal::is_journal_stream(fileno(journal.get()), ""));
  CHECK_FALSE(hlm::journal::is_journal_stream(fileno(journal.get()), "12"));
  CHECK_FALSE(hlm::journal::is_journal_stream(fileno(journal.get()), ":"));
  CHECK_FALSE(hlm::journal::is_journal_stream(fileno(journal.get()), ("-" + value).c_str()));
  CHECK_FALSE(hlm::journal::is_journal_stream(fileno(journal.get()), (value + "x").c_str()));
  CHECK_FALSE(hlm::journal::is_journal_stream(-1, value.c_str()));
}

TEST_CASE("format_lines puts sd-daemon priority prefixes on every line", "[util]")
{
  using hlm::journal::format_lines;
  CHECK(format_lines(Priority::err, "hlm-dispatch: error: x", true)
        == "<3>hlm-dispatch: error: x\n");
  CHECK(format_lines(Priority::warning, "a\nb\n", true) == "<4>a\n<4>b\n");
  CHECK(format_lines(Priority::info, "", true) == "<6>\n");
  CHECK(format_lines(Priority::notice, "a\nb", false) == "a\nb\n");
  CHECK(format_lines(Priority::debug, "a\n", false) == "a\n");
}

TEST_CASE("LogStream prefixes only the journal's stream", "[util]")
{
  const File file(std::tmpfile());
  REQUIRE(file);
  const std::string value = journal_stream_of(fileno(file.get()));
  const auto read_back = [&] {
    std::rewind(file.get());
    std::string text(4096, '\0');
    text.resize(std::fread(text.data(), 1, text.size(), file.get()));
    return text;
  };

  REQUIRE(::setenv("JOURNAL_STREAM", value.c_str(), 1) == 0);
  {
    const hlm::journal::LogStream log(file.get());
    CHECK(log.prefixed());
    log.print(Priority::warning, "3 entries: 2 completed, 1 failed");
  }
  REQUIRE(::unsetenv("JOURNAL_STREAM") == 0);
  {
    const hlm::journal::LogStream log(file.get());
    CHECK_FALSE(log.prefixed());
    log.print(Priority::err, "plain");
  }
  CHECK(read_back() == "<4>3 entries: 2 completed, 1 failed\nplain\n");
}
