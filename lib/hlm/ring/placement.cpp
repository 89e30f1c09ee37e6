#include <hlm/ring/placement.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

namespace hlm::ring {

Placement
locate(const std::filesystem::path& swift_dir,
       const SwiftName& name,
       const std::optional<std::string>& policy)
{
  return locate(load_swift_conf(swift_dir), swift_dir, name, policy);
}

Placement
locate(const SwiftConf& conf,
       const std::filesystem::path& swift_dir,
       const SwiftName& name,
       const std::optional<std::string>& policy)
{
  Placement placement;
  placement.name = name;
  if (name.object.empty()) {
    if (policy) {
      throw InputError("--policy applies to objects only: accounts and "
                       "containers are placed by their own rings");
    }
    placement.ring_file = name.container.empty() ? account_ring_path(swift_dir)
                                                 : container_ring_path(swift_dir);
  } else {
    placement.policy = policy ? conf.find_policy(*policy) : conf.default_policy();
    placement.ring_file = object_ring_path(swift_dir, placement.policy->index);
  }

  const Ring ring = Ring::load(placement.ring_file);
  const auto digest = hash_path({conf.hash_path_prefix, conf.hash_path_suffix},
                                name.account,
                                name.container,
                                name.object);
  placement.partition = ring.partition(digest);
  placement.hash = to_hex(digest);
  for (const Device* device : ring.primary_nodes(placement.partition)) {
    placement.nodes.push_back(*device);
  }
  if (placement.policy) {
    const int index = placement.policy->index;
    placement.object_dir = fmt::format("{}/{}/{}/{}",
                                       index == 0 ? "objects" : fmt::format("objects-{}", index),
                                       placement.partition,
                                       placement.hash.substr(placement.hash.size() - 3),
                                       placement.hash);
  }
  return placement;
}

} // namespace hlm::ring
