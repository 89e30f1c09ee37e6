#include <hlm/ring/hash_path.hpp>
#include <hlm/util/error.hpp>

#include <algorithm>
#include <array>
#include <cstddef>

namespace hlm::ring {

namespace {

// The bytes after the state's whole blocks are joined in a buffer on the
// stack when they fit, for one MD5 update instead of up to eight: then
// MD5_Update hashes whole blocks straight from the buffer, and the
// per-update bookkeeping, a visible share of hashing a short path
// (bench/ring_lookup.sh), is paid once. Longer names stream piece by piece,
// which MD5 allows; neither allocates.
constexpr std::size_t k_joined_bytes = 384;
constexpr std::size_t k_md5_block = 64;

class Joined
{
public:
  // False, leaving the buffer unchanged, when `piece` does not fit.
  bool
  append(std::string_view piece)
  {
    if (piece.size() > m_bytes.size() - m_size) {
      return false;
    }
    if (piece.size() == 1) { // the separators: no call to memmove
      m_bytes[m_size] = piece.front();
    } else if (!piece.empty()) {
      std::copy(piece.begin(), piece.end(), m_bytes.begin() + static_cast<std::ptrdiff_t>(m_size));
    }
    m_size += piece.size();
    return true;
  }
  std::string_view
  view() const
  {
    return {m_bytes.data(), m_size};
  }

private:
  std::array<char, k_joined_bytes> m_bytes;
  std::size_t m_size = 0;
};

// Passes prefix_rest "/" account ["/" container] ["/" object] suffix to
// `sink` piece by piece while it returns true; returns whether all went.
template<typename Sink>
bool
each_piece(std::string_view prefix_rest,
           std::string_view account,
           std::string_view container,
           std::string_view object,
           std::string_view suffix,
           Sink&& sink)
{
  return sink(prefix_rest) && sink("/") && sink(account)
         && (container.empty() || (sink("/") && sink(container)))
         && (object.empty() || (sink("/") && sink(object))) && sink(suffix);
}

// Hashes the pieces of each_piece into `state`, which holds the prefix's
// first bytes (all but prefix_rest).
Md5Digest
finish_path(Md5State state,
            std::string_view prefix_rest,
            std::string_view account,
            std::string_view container,
            std::string_view object,
            std::string_view suffix)
{
  if (account.empty()) {
    throw InputError("hash_path needs an account");
  }
  if (!object.empty() && container.empty()) {
    throw InputError("hash_path: a container is required with an object");
  }
  Joined joined;
  if (each_piece(prefix_rest, account, container, object, suffix, [&](std::string_view piece) {
        return joined.append(piece);
      })) {
    return state.update(joined.view()).finish();
  }
  each_piece(prefix_rest, account, container, object, suffix, [&](std::string_view piece) {
    state.update(piece);
    return true;
  });
  return state.finish();
}

} // namespace

Md5Digest
hash_path(const HashSecret& secret,
          std::string_view account,
          std::string_view container,
          std::string_view object)
{
  return finish_path(Md5State(), secret.prefix, account, container, object, secret.suffix);
}

PathHasher::PathHasher(const HashSecret& secret)
  : m_prefix_tail(secret.prefix.substr(secret.prefix.size() - secret.prefix.size() % k_md5_block)),
    m_suffix(secret.suffix)
{
  m_prefix_blocks.update(
    std::string_view(secret.prefix).substr(0, secret.prefix.size() - m_prefix_tail.size()));
}

Md5Digest
PathHasher::operator()(std::string_view account,
                       std::string_view container,
                       std::string_view object) const
{
  return finish_path(m_prefix_blocks, m_prefix_tail, account, container, object, m_suffix);
}

std::uint32_t
partition_of(const Md5Digest& digest, unsigned part_shift)
{
  const std::uint32_t top = (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16)
                            | (std::uint32_t{digest[2]} << 8) | std::uint32_t{digest[3]};
  return part_shift >= 32 ? 0 : top >> part_shift;
}

} // namespace hlm::ring
