#pragma once

#include <string>
#include <string_view>

namespace hlm {

// A Swift name: an account, a container (object empty) or an object. The
// object part may hold '/'. The one name type of hlm: the queue's targets,
// the ring's lookups and the handler's objects are all SwiftNames.
struct SwiftName
{
  std::string account;
  std::string container; // empty for an account
  std::string object;    // empty for an account or a container

  bool operator==(const SwiftName&) const = default;
};

// Parses "ACCOUNT[/CONTAINER[/OBJECT]]" (a leading '/' is allowed; the
// object part keeps any further '/'). Throws hlm::InputError for an empty
// part, invalid UTF-8 or a NUL byte.
SwiftName parse_swift_name(std::string_view text);

// Parses an object path, strictly: "/account/container/object" with three
// non-empty parts, valid UTF-8 and no NUL byte. Throws hlm::InputError
// naming what is wrong.
SwiftName split_object_path(std::string_view path);

// "/account", "/account/container" or "/account/container/object".
std::string format_path(const SwiftName& name);

} // namespace hlm
