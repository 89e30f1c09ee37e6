#pragma once

#include <string>
#include <string_view>

namespace hlm {

// RFC 3986 unreserved: A-Z a-z 0-9 - . _ ~
bool is_url_unreserved(unsigned char c);

// 0-15 for a hexadecimal digit (either case), -1 otherwise.
int hex_digit_value(char c);

// Decodes "%XX" escapes; a '%' not followed by two hex digits stays as is.
std::string percent_decode(std::string_view text);

} // namespace hlm
