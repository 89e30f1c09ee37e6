#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hlm {

using Md5Digest = std::array<std::uint8_t, 16>;

// An MD5 computation held by value (libcrypto's MD5_CTX, stored inline):
// copying it forks the computation without allocating, so a common prefix
// is hashed once and each copy pays only for its own bytes
// (ring::PathHasher). MD5 is what Swift's hash_path and metadata checksums
// use; nothing here relies on it for security.
class Md5State
{
public:
  Md5State();

  Md5State& update(std::string_view data);
  // The digest of everything updated so far. The state is spent
  // afterwards: assign a fresh Md5State to start again.
  Md5Digest finish();

  // The size of libcrypto's MD5_CTX, checked where it is used.
  static constexpr std::size_t k_context_bytes = 92;

private:
  alignas(std::uint32_t) std::array<unsigned char, k_context_bytes> m_context;
};

// Incremental MD5 that resets itself after each digest.
class Md5
{
public:
  Md5() = default;
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;

  Md5& update(std::string_view data);
  // Returns the digest and resets the object for reuse.
  Md5Digest finish();

private:
  Md5State m_state;
};

Md5Digest md5(std::string_view data);

} // namespace hlm
