#pragma once

#include <hlm/util/process.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

// What the connectors that run an external program (exec, ltfsdm) share:
// splitting their command line and describing how a run ended.
namespace hlm::connector::external {

// `text` split at spaces and tabs; no quoting or escapes of any kind.
std::vector<std::string> split_words(std::string_view text);

// Why a run that did not exit normally ended, for a message: "timed out
// after 5 s", "killed by signal SEGV", "stopped for writing too much
// output", with " and did not exit after SIGKILL" for a program that was
// abandoned; for a normal exit "exited with status N".
std::string describe_end(const ProcessResult& result, std::chrono::seconds timeout);

// The last non-empty line of `text` (lines end at \n or \r), trimmed, made
// printable and cut to 300 bytes: a program's stderr reason. Empty when
// there is none.
std::string last_line(std::string_view text);

} // namespace hlm::connector::external
