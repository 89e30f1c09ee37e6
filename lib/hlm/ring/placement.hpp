#pragma once

#include <hlm/ring/ring.hpp>
#include <hlm/ring/swift_conf.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::ring {

// A Swift name: account, account/container or account/container/object.
struct SwiftName
{
  std::string account;
  std::string container; // empty for an account
  std::string object;    // empty for an account or container; may hold '/'
};

// Parses "ACCOUNT[/CONTAINER[/OBJECT]]" (a leading '/' is allowed; the
// object part keeps any further '/'). Throws hlm::InputError for an empty
// part, invalid UTF-8 or a NUL byte.
SwiftName parse_swift_name(std::string_view text);

// Where a name lives: the ring that places it, its partition, hash and
// primary devices.
struct Placement
{
  SwiftName name;
  std::optional<StoragePolicy> policy; // set for objects
  std::filesystem::path ring_file;
  std::uint32_t partition = 0;
  std::string hash;
  std::vector<Device> nodes;
  // For objects: "objects[-N]/<partition>/<suffix>/<hash>" under a device.
  std::string object_dir;
};

// Looks `name` up in the account, container or object ring of `swift_dir`
// (the object ring of `policy`, a name or index, or of the default policy).
// Throws hlm::ConfigError for an unusable swift.conf, policy or ring.
Placement locate(const std::filesystem::path& swift_dir,
                 const SwiftName& name,
                 const std::optional<std::string>& policy);

} // namespace hlm::ring
