#include <connectors/ltfsdm/info_files.hpp>

#include <utility>

namespace hlm::connector::ltfsdm {

namespace {

// The output format, from LTFS Data Management's source (the seed's
// github.com/ibm-research/LTFS-Data-Management, now IBM/LTFS-Data-Management,
// read at commit 127b91a): src/client/InfoFilesCommand.cc prints message
// LTFSDMC0047I as the header and LTFSDMC0049I per file, both defined in
// src/messages.cfg:
//
//   LTFSDMC0047I "state             size               blocks              tape id  file name\n"
//   LTFSDMC0049I "%c %20d %20d %20s  %s\n"
//
// e.g. (from the command's documentation)
//
//   state             size               blocks              tape id  file name
//   m          47049088000                    8             D01301L5  /mnt/lxfs/bigfile
//   r          47049088000             91892752                    -  /mnt/lxfs/bigfile.1
//
// %c is 'm', 'p' or 'r' for a regular file ('-' for other file types or
// when reading the attributes failed, ' ' for an unknown state); the tape
// id field is "-" or the comma-separated tape ids of up to three copies,
// never containing spaces, and wider than 20 characters for several
// copies; the name is canonicalize_file_name() of the listed path, which
// may contain spaces, so it is everything after the two spaces that follow
// the tape ids. Files that do not exist are left out without a message.
// Everything goes to stdout (messages too: src/common/Message.cc writeOut).

// LTFSDMC0047I, without its newline.
constexpr std::string_view k_header =
  "state             size               blocks              tape id  file name";

std::string_view
skip_spaces(std::string_view text)
{
  const auto start = text.find_first_not_of(' ');
  return start == std::string_view::npos ? std::string_view() : text.substr(start);
}

// Takes a field of non-space characters off the front of `text`.
std::string_view
take_field(std::string_view& text)
{
  const auto end = text.find(' ');
  const auto field = text.substr(0, end);
  text = end == std::string_view::npos ? std::string_view() : text.substr(end);
  return field;
}

bool
all_digits(std::string_view text)
{
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// The name and state letter of a per-file line; nothing for other lines.
std::optional<std::pair<std::string_view, char>>
parse_file_line(std::string_view line)
{
  if (line.size() < 2 || line[1] != ' ') {
    return std::nullopt;
  }
  const char letter = line[0];
  std::string_view rest = skip_spaces(line.substr(2));
  const auto size = take_field(rest);
  rest = skip_spaces(rest);
  const auto blocks = take_field(rest);
  rest = skip_spaces(rest);
  const auto tapes = take_field(rest);
  if (!all_digits(size) || !all_digits(blocks) || tapes.empty() || !rest.starts_with("  /")) {
    return std::nullopt;
  }
  return std::pair{rest.substr(2), letter};
}

} // namespace

FileStates
parse_info_files(std::string_view output)
{
  FileStates states;
  std::size_t start = 0;
  while (true) {
    const auto end = output.find('\n', start);
    if (end == std::string_view::npos) {
      break; // an unfinished line, or none
    }
    const auto line = output.substr(start, end - start);
    start = end + 1;
    if (const auto parsed = parse_file_line(line)) {
      states[std::string(parsed->first)] = parsed->second;
    }
  }
  return states;
}

bool
is_listing_line(std::string_view line)
{
  return line.starts_with(k_header) || parse_file_line(line).has_value();
}

std::optional<ObjectState>
state_from_letter(char letter)
{
  switch (letter) {
  case 'r':
    return ObjectState::resident;
  case 'p':
    return ObjectState::premigrated;
  case 'm':
    return ObjectState::migrated;
  default:
    return std::nullopt;
  }
}

} // namespace hlm::connector::ltfsdm
