#include <hlm/util/strings.hpp>

#include <connectors/common/external_program.hpp>

#include <fmt/format.h>

namespace hlm::connector::external {

namespace {

constexpr std::size_t k_max_line = 300;

} // namespace

std::vector<std::string>
split_words(std::string_view text)
{
  std::vector<std::string> words;
  std::size_t pos = 0;
  while (true) {
    const auto start = text.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) {
      return words;
    }
    const auto end = text.find_first_of(" \t", start);
    words.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) {
      return words;
    }
    pos = end;
  }
}

std::string
describe_end(const ProcessResult& result, std::chrono::seconds timeout)
{
  std::string text;
  if (result.timed_out) {
    text = fmt::format("timed out after {} s", timeout.count());
  } else if (result.stopped) {
    text = "stopped for writing too much output";
  } else if (result.signal) {
    text = fmt::format("killed by signal {}", *result.signal);
  } else if (result.exit_status) {
    text = fmt::format("exited with status {}", *result.exit_status);
  } else if (!result.abandoned) {
    text = "ended in an unknown way";
  }
  if (result.abandoned) {
    text += text.empty() ? "did not exit after SIGKILL" : " and did not exit after SIGKILL";
  }
  return text;
}

std::string
last_line(std::string_view text)
{
  while (!text.empty()) {
    const auto newline = text.find_last_of("\r\n");
    const auto line = trim(newline == std::string_view::npos ? text : text.substr(newline + 1));
    if (!line.empty()) {
      if (line.size() > k_max_line) {
        return printable(line.substr(0, k_max_line)) + "...";
      }
      return printable(line);
    }
    if (newline == std::string_view::npos) {
      break;
    }
    text = text.substr(0, newline);
  }
  return {};
}

} // namespace hlm::connector::external
