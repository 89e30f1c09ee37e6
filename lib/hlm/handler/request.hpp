#pragma once

#include <hlm/core/operation.hpp>
#include <hlm/core/swift_name.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::handler {

// Throws hlm::InputError unless `name` can name a device directory: not
// empty, no '/', not "." or "..", no NUL or control characters.
void check_device_name(std::string_view name);

// A handler request: the objects in input order. Device names are stored
// once and referenced by index so that a million objects cost one path
// string each.
struct Request
{
  static constexpr std::uint32_t k_any_device = UINT32_MAX;

  struct Object
  {
    std::string path;
    std::uint32_t device = k_any_device; // index into `devices`
  };

  Operation operation = Operation::status;
  std::optional<int> storage_policy_index;
  std::optional<std::string> swift_dir;
  std::vector<std::string> devices;
  std::vector<Object> objects;
};

// Reads the seed's request document from `in`, streaming (no JSON tree is
// built): {"request": "status"|"migrate"|"recall", "objects": [{"object":
// "/a/c/o", "device": "sdb1"}, …], "storage_policy_index": N, "swift_dir":
// "/etc/swift"}. Unknown keys are ignored. The whole input is read and
// checked before anything is returned. Throws hlm::InputError naming what
// is wrong (malformed or truncated JSON, a missing or mistyped field, a bad
// object path or device name).
Request read_request_document(std::istream& in);

// Reads one "/account/container/object" per line (a leading '/' may be
// left out; empty lines are skipped; "\r\n" is accepted). Throws
// hlm::InputError naming the line of the first bad path.
Request read_object_lines(std::istream& in, Operation operation);

} // namespace hlm::handler
