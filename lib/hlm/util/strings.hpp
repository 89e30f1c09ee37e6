#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hlm {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, no
// code points above U+10FFFF).
bool is_valid_utf8(std::string_view text);

std::string to_lower(std::string_view text);

std::string_view trim(std::string_view text);

// Parses a whole decimal integer; nullopt on anything else (sign allowed
// only for signed results, no surrounding text).
std::optional<long long> parse_int(std::string_view text);

// Swift's config_true_value: "true", "1", "yes", "on", "t", "y" (any case)
// are true; everything else is false.
bool config_true_value(std::string_view text);

// The candidate closest to `name` by edit distance, when close enough to be
// a likely typo ("did you mean …").
std::optional<std::string> closest_match(std::string_view name,
                                         std::span<const std::string> candidates);

// `, did you mean "CANDIDATE"?` for closest_match's candidate, or "" when
// none is close: the tail of an "unknown NAME" message.
std::string did_you_mean(std::string_view name, std::span<const std::string> candidates);

// "a, b ,,c" -> {"a", "b", "c"}: split at commas, items trimmed, empty
// items dropped (how Swift reads its comma-separated lists).
std::vector<std::string> split_list(std::string_view text);

// Renders `text` for a diagnostic: control characters and invalid UTF-8
// escaped, so a hostile name cannot forge terminal output.
std::string printable(std::string_view text);

// "1 object", "3 objects": `n` with the noun in the right number.
std::string counted(std::size_t n, std::string_view singular, std::string_view plural);

} // namespace hlm
