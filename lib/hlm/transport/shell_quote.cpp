#include <hlm/transport/transport.hpp>
#include <hlm/util/error.hpp>

namespace hlm::transport {

std::string
shell_quote(const std::vector<std::string>& argv)
{
  if (argv.empty()) {
    throw InputError("cannot quote an empty command");
  }
  std::string out;
  for (const auto& arg : argv) {
    // A NUL would silently cut the command short in the remote exec.
    if (arg.find('\0') != std::string::npos) {
      throw InputError("command argument contains a NUL byte");
    }
    if (!out.empty()) {
      out += ' ';
    }
    // Inside single quotes nothing is special to a POSIX shell (not $, `,
    // \ or newline); only the quote itself needs closing, escaping and
    // reopening.
    out += '\'';
    for (const char c : arg) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

} // namespace hlm::transport
