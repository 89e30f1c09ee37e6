#include <hlm/util/hex.hpp>

namespace hlm {

std::string
to_hex(std::span<const std::uint8_t> bytes)
{
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const auto byte : bytes) {
    out.push_back(k_digits[byte >> 4]);
    out.push_back(k_digits[byte & 0x0f]);
  }
  return out;
}

} // namespace hlm
