#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

// Reading JSON that another program wrote (a node's hlm-handler, an exec
// connector's program) without trusting it: bounded nesting, bounded
// quotes in messages.
namespace hlm {

// Quoted in messages about a document or a value in it.
inline constexpr std::size_t k_json_quote_bytes = 60;

// Parses `text`, refusing more than `max_depth` levels of nesting. Throws
// hlm::InputError: "<what> is not JSON (error at byte N): "<start>"",
// "<what> is nested more than N levels deep", or "<what> is not usable
// JSON: <reason>" (a number beyond a double, such as 1e999).
nlohmann::json parse_json_limited(std::string_view text, int max_depth, std::string_view what);

// The first k_json_quote_bytes of `text` (trimmed), made printable, "..."
// when cut, in double quotes.
std::string quote_start(std::string_view text);

// `value` rendered as dump() would, cut to k_json_quote_bytes; cheap for a
// huge value.
std::string brief(const nlohmann::json& value);

} // namespace hlm
