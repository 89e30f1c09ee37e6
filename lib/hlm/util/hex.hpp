#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace hlm {

// Lower-case hexadecimal of `bytes`, two digits per byte.
std::string to_hex(std::span<const std::uint8_t> bytes);

} // namespace hlm
