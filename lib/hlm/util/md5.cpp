#include <hlm/util/error.hpp>
#include <hlm/util/md5.hpp>

#include <openssl/evp.h>

namespace hlm {

struct Md5::Impl
{
  EVP_MD_CTX* ctx = nullptr;
};

namespace {

void
init_digest(EVP_MD_CTX* ctx)
{
  if (EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) != 1) {
    throw Error("cannot initialise MD5 digest (libcrypto)");
  }
}

} // namespace

Md5::Md5()
  : m_impl(new Impl)
{
  m_impl->ctx = EVP_MD_CTX_new();
  if (!m_impl->ctx) {
    delete m_impl;
    throw Error("cannot allocate MD5 context (libcrypto)");
  }
  init_digest(m_impl->ctx);
}

Md5::~Md5()
{
  EVP_MD_CTX_free(m_impl->ctx);
  delete m_impl;
}

Md5&
Md5::update(std::string_view data)
{
  if (EVP_DigestUpdate(m_impl->ctx, data.data(), data.size()) != 1) {
    throw Error("MD5 update failed (libcrypto)");
  }
  return *this;
}

Md5Digest
Md5::finish()
{
  Md5Digest digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(m_impl->ctx, digest.data(), &length) != 1 || length != digest.size()) {
    throw Error("MD5 finish failed (libcrypto)");
  }
  init_digest(m_impl->ctx);
  return digest;
}

Md5Digest
md5(std::string_view data)
{
  // One context per thread: allocating an EVP context per call would cost
  // more than hashing a short Swift path.
  thread_local Md5 hasher;
  return hasher.update(data).finish();
}

} // namespace hlm
