#include <hlm/ring/hash_path.hpp>
#include <hlm/util/error.hpp>

namespace hlm::ring {

Md5Digest
hash_path(const HashSecret& secret,
          std::string_view account,
          std::string_view container,
          std::string_view object)
{
  if (account.empty()) {
    throw InputError("hash_path needs an account");
  }
  if (!object.empty() && container.empty()) {
    throw InputError("hash_path: a container is required with an object");
  }
  std::string key;
  key.reserve(secret.prefix.size() + account.size() + container.size() + object.size()
              + secret.suffix.size() + 3);
  key += secret.prefix;
  key += '/';
  key += account;
  if (!container.empty()) {
    key += '/';
    key += container;
  }
  if (!object.empty()) {
    key += '/';
    key += object;
  }
  key += secret.suffix;
  return md5(key);
}

std::uint32_t
partition_of(const Md5Digest& digest, unsigned part_shift)
{
  const std::uint32_t top = (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16)
                            | (std::uint32_t{digest[2]} << 8) | std::uint32_t{digest[3]};
  return part_shift >= 32 ? 0 : top >> part_shift;
}

} // namespace hlm::ring
