// MD5_Init/MD5_Update/MD5_Final are deprecated in OpenSSL 3.0 in favour of
// EVP, but they run the same assembly without EVP's provider dispatch, and
// their context is a plain struct that can be copied. Hashing a short Swift
// path with EVP costs about three times the digest itself, most of it in
// EVP_DigestInit_ex (bench/ring_lookup.sh). The deprecation is silenced for
// this file only.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <hlm/util/error.hpp>
#include <hlm/util/md5.hpp>

#include <openssl/md5.h>

#include <new>
#include <type_traits>

#if defined(OPENSSL_NO_DEPRECATED_3_0) || defined(OPENSSL_NO_MD5)
#error "hlm needs libcrypto's MD5_Init/MD5_Update/MD5_Final (OpenSSL built without no-deprecated)"
#endif

namespace hlm {

static_assert(sizeof(MD5_CTX) == Md5State::k_context_bytes);
static_assert(alignof(MD5_CTX) <= alignof(std::uint32_t));
static_assert(std::is_trivially_copyable_v<MD5_CTX>, "Md5State copies the context byte for byte");

namespace {

MD5_CTX*
context(std::array<unsigned char, Md5State::k_context_bytes>& bytes)
{
  // MD5_CTX is a trivially copyable struct: the byte array, copied with
  // Md5State, holds it (C++20 implicit object creation).
  return std::launder(reinterpret_cast<MD5_CTX*>(bytes.data()));
}

} // namespace

Md5State::Md5State()
  : m_context{}
{
  if (MD5_Init(context(m_context)) != 1) {
    throw Error("cannot initialise MD5 digest (libcrypto)");
  }
}

Md5State&
Md5State::update(std::string_view data)
{
  if (MD5_Update(context(m_context), data.data(), data.size()) != 1) {
    throw Error("MD5 update failed (libcrypto)");
  }
  return *this;
}

Md5Digest
Md5State::finish()
{
  Md5Digest digest{};
  if (MD5_Final(digest.data(), context(m_context)) != 1) {
    throw Error("MD5 finish failed (libcrypto)");
  }
  return digest;
}

Md5&
Md5::update(std::string_view data)
{
  m_state.update(data);
  return *this;
}

Md5Digest
Md5::finish()
{
  const Md5Digest digest = m_state.finish();
  m_state = Md5State();
  return digest;
}

Md5Digest
md5(std::string_view data)
{
  return Md5State().update(data).finish();
}

} // namespace hlm
