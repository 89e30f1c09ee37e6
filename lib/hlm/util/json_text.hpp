#pragma once

#include <hlm/util/error.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

// Reading JSON that another program wrote (a node's hlm-handler, an exec
// connector's program) without trusting it: bounded nesting, bounded
// quotes in messages.
namespace hlm {

// Quoted in messages about a document or a value in it.
inline constexpr std::size_t k_json_quote_bytes = 60;

// Thrown by parse_json_limited when the text is not JSON at all (a syntax
// error, or truncated), as opposed to JSON it will not take.
class JsonSyntaxError : public InputError
{
public:
  using InputError::InputError;
};

// Parses `text`, refusing more than `max_depth` levels of nesting. Throws
// JsonSyntaxError: "<what> is not JSON (error at byte N): "<start>"", or
// hlm::InputError: "<what> is nested more than N levels deep", "<what> is
// not usable JSON: <reason>" (a number beyond a double, such as 1e999).
nlohmann::json parse_json_limited(std::string_view text, int max_depth, std::string_view what);

// Called for each element of one list, in order, as it is parsed; the
// element is then left out of the returned value, so a long list is never
// held whole.
using JsonElementSink = std::function<void(nlohmann::json& element)>;

// parse_json_limited, handing each element of the top-level object's list
// `list_key` to `on_element` instead of keeping it (the returned value has
// an empty list there). An exception from `on_element` ends the parse.
nlohmann::json parse_json_streaming_list(std::string_view text,
                                         int max_depth,
                                         std::string_view what,
                                         std::string_view list_key,
                                         const JsonElementSink& on_element);

// Appends `text` to `out` as a JSON string, byte for byte as
// nlohmann::json's dump() with error_handler_t::replace writes it (UTF-8
// kept as it is, control characters escaped, invalid UTF-8 replaced by
// U+FFFD), without building a json value for the common case: a valid
// UTF-8 string with nothing to escape is copied as it is.
void append_json_string(std::string& out, std::string_view text);

// The first k_json_quote_bytes of `text` (trimmed), made printable, "..."
// when cut, in double quotes.
std::string quote_start(std::string_view text);

// `value` rendered as dump() would, cut to k_json_quote_bytes; cheap for a
// huge value.
std::string brief(const nlohmann::json& value);

} // namespace hlm
