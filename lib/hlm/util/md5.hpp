#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace hlm {

using Md5Digest = std::array<std::uint8_t, 16>;

// Incremental MD5 (OpenSSL libcrypto). MD5 is what Swift's hash_path and
// metadata checksums use; nothing here relies on it for security.
class Md5
{
public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;

  Md5& update(std::string_view data);
  // Returns the digest and resets the object for reuse.
  Md5Digest finish();

private:
  struct Impl;
  Impl* m_impl;
};

Md5Digest md5(std::string_view data);

} // namespace hlm
