#pragma once

#include <hlm/connector/connector.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hlm::connector::ltfsdm {

// The migration state letter per file name that `ltfsdm info files`
// printed: 'r', 'p', 'm', '-' (not a regular file, or its attributes could
// not be read) or ' ' (a state ltfsdm has no letter for). Names are as
// ltfsdm printed them: canonical (canonicalize_file_name) paths.
using FileStates = std::map<std::string, char, std::less<>>;

// Parses the output of `ltfsdm info files`. Keeps only complete lines of
// the per-file shape, so the header, messages and a line cut off by a
// timeout are skipped; a name printed twice keeps its last state.
FileStates parse_info_files(std::string_view output);

// Whether `line` (without its newline) is part of the listing rather than
// a message: the header or a per-file line, as parse_info_files takes them.
bool is_listing_line(std::string_view line);

// 'r' resident, 'p' premigrated, 'm' migrated; nothing for other letters.
std::optional<ObjectState> state_from_letter(char letter);

} // namespace hlm::connector::ltfsdm
