#include <hlm/util/hex.hpp>

#include <catch2/catch.hpp>

#include <array>

TEST_CASE("to_hex renders lower-case pairs", "[util]")
{
  const std::array<std::uint8_t, 4> bytes = {0x00, 0x0f, 0xa5, 0xff};
  CHECK(hlm::to_hex(bytes) == "000fa5ff");
  CHECK(hlm::to_hex({}).empty());
}
