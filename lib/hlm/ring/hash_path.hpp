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
// account, or an object without a container. For many names under one
// secret, PathHasher does the same work with the prefix hashed once.
Md5Digest hash_path(const HashSecret& secret,
                    std::string_view account,
                    std::string_view container = {},
                    std::string_view object = {});

// hash_path() for one secret, built once: the prefix's whole 64-byte MD5
// blocks are hashed at construction and each call copies that state, so a
// call allocates nothing and costs the MD5 of the rest alone. Same digests
// and errors as hash_path(). Calls may run concurrently (const, no shared
// mutable state).
class PathHasher
{
public:
  explicit PathHasher(const HashSecret& secret);

  Md5Digest operator()(std::string_view account,
                       std::string_view container = {},
                       std::string_view object = {}) const;

private:
  Md5State m_prefix_blocks;
  std::string m_prefix_tail; // the prefix bytes after its last whole block
  std::string m_suffix;
};

// The partition of `digest` in a ring with `part_shift` (32 - part power):
// the first four digest bytes, big-endian, shifted right.
std::uint32_t partition_of(const Md5Digest& digest, unsigned part_shift);

} // namespace hlm::ring
