#pragma once

#include <hlm/queue/entry.hpp>

#include <istream>
#include <string>
#include <vector>

namespace hlm::ctl {

// Every target hlmctl migrate or recall is given, parsed (parse_target):
// the arguments, then each list file's lines ("-": `standard_input`). A
// list may hold blank lines and comments (lines whose first non-blank
// character is '#') and CRLF line ends. Throws hlm::InputError naming the
// list and the line for a line that is not a target, for a list that
// cannot be read, and when there is no target at all, so that nothing is
// queued from a list with a typo.
std::vector<queue::Target> read_targets(const std::vector<std::string>& arguments,
                                        const std::vector<std::string>& files,
                                        std::istream& standard_input);

} // namespace hlm::ctl
