#include <hlm/ctl/submit.hpp>
#include <hlm/ctl/target_list.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace hlm::ctl {

std::vector<queue::Target>
read_targets(const std::vector<std::string>& arguments,
             const std::vector<std::string>& files,
             std::istream& standard_input)
{
  std::vector<queue::Target> targets;
  for (const auto& text : arguments) {
    targets.push_back(parse_target(text));
  }
  for (const auto& file : files) {
    std::ifstream stream;
    std::istream* in = &standard_input;
    const std::string name = file == "-" ? "standard input" : file;
    if (file != "-") {
      if (std::filesystem::is_directory(file)) {
        throw InputError(fmt::format("cannot read target list \"{}\": it is a directory", file));
      }
      stream.open(file);
      if (!stream) {
        throw InputError(
          fmt::format("cannot read target list \"{}\": {}", file, std::strerror(errno)));
      }
      in = &stream;
    }
    std::string line;
    for (std::size_t number = 1; std::getline(*in, line); ++number) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') {
        continue;
      }
      try {
        targets.push_back(parse_target(line));
      } catch (const InputError& e) {
        throw InputError(fmt::format("{} line {}: {}", name, number, e.what()));
      }
    }
    if (in->bad()) {
      throw InputError(
        fmt::format("cannot read target list \"{}\": {}", name, std::strerror(errno)));
    }
  }
  if (targets.empty()) {
    throw InputError("no target given (TARGET arguments or -f FILE)");
  }
  return targets;
}

} // namespace hlm::ctl
