#pragma once

#include <hlm/core/swift_name.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/ring/swift_conf.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::ring {

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
// The same with swift.conf as the caller already read it from `swift_dir`.
Placement locate(const SwiftConf& swift_conf,
                 const std::filesystem::path& swift_dir,
                 const SwiftName& name,
                 const std::optional<std::string>& policy);

} // namespace hlm::ring
