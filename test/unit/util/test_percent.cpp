#include <hlm/util/percent.hpp>

#include <catch2/catch.hpp>

using namespace hlm;

TEST_CASE("percent_decode decodes escapes and keeps stray '%'", "[util]")
{
  CHECK(percent_decode("caf%C3%A9%20%2f%0a") == "caf\xc3\xa9 /\n");
  CHECK(percent_decode("100%") == "100%");
  CHECK(percent_decode("%zz%4") == "%zz%4");
}

TEST_CASE("hex digits and unreserved characters", "[util]")
{
  CHECK(hex_digit_value('0') == 0);
  CHECK(hex_digit_value('f') == 15);
  CHECK(hex_digit_value('F') == 15);
  CHECK(hex_digit_value('g') == -1);
  CHECK(is_url_unreserved('~'));
  CHECK_FALSE(is_url_unreserved('/'));
  CHECK_FALSE(is_url_unreserved('%'));
}
