#pragma once

#include <hlm/util/md5.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace hlm::ring {

// The prefix/suffix pair from swift.conf's [swift-hash].
struct HashSecret
{
  std::string prefix;
  std::string suffix;
};

// Swift's hash_path: md5(prefix + "/" + "/".join(parts) + suffix), where an
// empty container or object is left out. Throws hlm::InputError for an empty
// account, or an object without a container.
Md5Digest hash_path(const HashSecret& secret,
                    std::string_view account,
                    std::string_view container = {},
                    std::string_view object = {});

// The partition of `digest` in a ring with `part_shift` (32 - part power):
// the first four digest bytes, big-endian, shifted right.
std::uint32_t partition_of(const Md5Digest& digest, unsigned part_shift);

} // namespace hlm::ring
