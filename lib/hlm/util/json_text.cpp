#include <hlm/util/error.hpp>
#include <hlm/util/json_text.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace hlm {

namespace {

// nlohmann's messages quote the offending token, which may be huge.
constexpr std::size_t k_max_parser_message = 200;

// The first `k_json_quote_bytes` of `text`, made printable, "..." when cut.
std::string
cut(std::string_view text)
{
  if (text.size() <= k_json_quote_bytes) {
    return printable(text);
  }
  return printable(text.substr(0, k_json_quote_bytes)) + "...";
}

// Appends `value` to `out` as dump() renders it, but stops once `out`
// holds more than `limit` bytes, so that quoting a large value costs
// little. Recursion is bounded by the
// depth parse_json_limited allowed.
void
append_brief(std::string& out, const nlohmann::json& value, std::size_t limit)
{
  const auto append_string = [&](const std::string& text) {
    // replace: a cut may split a UTF-8 sequence, which dump() refuses.
    const auto room = limit + 1 - std::min(out.size(), limit);
    out += nlohmann::json(text.substr(0, room))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  if (out.size() > limit) {
    return;
  }
  if (value.is_object() || value.is_array()) {
    out += value.is_object() ? '{' : '[';
    bool first = true;
    for (auto item = value.begin(); item != value.end() && out.size() <= limit; ++item) {
      if (!first) {
        out += ',';
      }
      first = false;
      if (value.is_object()) {
        append_string(item.key());
        out += ':';
      }
      append_brief(out, item.value(), limit);
    }
    out += value.is_object() ? '}' : ']';
  } else if (value.is_string()) {
    append_string(value.get_ref<const std::string&>());
  } else {
    out += value.dump(); // a number, boolean or null: short
  }
}

// "number overflow parsing '1e999'" from nlohmann's
// "[json.exception.out_of_range.406] number overflow parsing '1e999'".
std::string
parser_message(std::string_view what)
{
  if (what.starts_with("[json.exception.")) {
    if (const auto end = what.find("] "); end != std::string_view::npos) {
      what.remove_prefix(end + 2);
    }
  }
  if (what.size() > k_max_parser_message) {
    return printable(what.substr(0, k_max_parser_message)) + "...";
  }
  return printable(what);
}

} // namespace

void
append_json_string(std::string& out, std::string_view text)
{
  const bool plain = std::none_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || c == '"' || c == '\\';
  });
  if (plain && is_valid_utf8(text)) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  out += nlohmann::json(std::string(text))
           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string
quote_start(std::string_view text)
{
  return fmt::format("\"{}\"", cut(trim(text)));
}

std::string
brief(const nlohmann::json& value)
{
  std::string text;
  append_brief(text, value, k_json_quote_bytes);
  return cut(text);
}

namespace {

// Whether objects and arrays in `text` nest more than `max_depth` levels,
// counting brackets outside strings: exact for JSON, a hint for text that
// is not JSON.
bool
nested_deeper_than(std::string_view text, int max_depth)
{
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i; // the escaped character
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return true;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// Reads a text (no values kept) and throws NestedTooDeep once it goes
// deeper than a limit: whichever comes first in the text, a syntax error
// or too much nesting, is what the parse reports.
struct NestedTooDeep
{};

class DepthLimit : public nlohmann::json_sax<nlohmann::json>
{
public:
  explicit DepthLimit(int max_depth)
    : m_max_depth(max_depth)
  {
  }
  bool
  null() override
  {
    return true;
  }
  bool
  boolean(bool) override
  {
    return true;
  }
  bool
  number_integer(number_integer_t) override
  {
    return true;
  }
  bool
  number_unsigned(number_unsigned_t) override
  {
    return true;
  }
  bool
  number_float(number_float_t, const string_t&) override
  {
    return true;
  }
  bool
  string(string_t&) override
  {
    return true;
  }
  bool
  binary(binary_t&) override
  {
    return true;
  }
  bool
  key(string_t&) override
  {
    return true;
  }
  bool
  start_object(std::size_t) override
  {
    return deeper();
  }
  bool
  end_object() override
  {
    return shallower();
  }
  bool
  start_array(std::size_t) override
  {
    return deeper();
  }
  bool
  end_array() override
  {
    return shallower();
  }
  bool
  parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override
  {
    return false; // the real parse reports it, with its position
  }

private:
  bool
  deeper()
  {
    if (++m_depth > m_max_depth) {
      throw NestedTooDeep{};
    }
    return true;
  }
  bool
  shallower()
  {
    --m_depth;
    return true;
  }

  int m_max_depth;
  int m_depth = 0;
};

template<typename Parse>
nlohmann::json
parse_checked(std::string_view text, int max_depth, std::string_view what, const Parse& parse)
{
  try {
    // A pass over the text, not a parser callback that counts: nlohmann's
    // callback parser scans the whole enclosing array after every object
    // (to drop discarded values), which is quadratic in a long list it
    // keeps. Only text that nests too deep somewhere is read again, to
    // tell which comes first, the nesting or a syntax error.
    if (nested_deeper_than(text, max_depth)) {
      DepthLimit limit(max_depth);
      nlohmann::json::sax_parse(text, &limit);
    }
    return parse();
  } catch (const NestedTooDeep&) {
    throw InputError(fmt::format("{} is nested more than {} levels deep", what, max_depth));
  } catch (const nlohmann::json::parse_error& e) {
    throw JsonSyntaxError(
      fmt::format("{} is not JSON (error at byte {}): {}", what, e.byte, quote_start(text)));
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406: a number beyond a double (1e999).
    throw InputError(fmt::format("{} is not usable JSON: {}", what, parser_message(e.what())));
  }
}

} // namespace

nlohmann::json
parse_json_limited(std::string_view text, int max_depth, std::string_view what)
{
  return parse_checked(text, max_depth, what, [&] { return nlohmann::json::parse(text); });
}

nlohmann::json
parse_json_streaming_list(std::string_view text,
                          int max_depth,
                          std::string_view what,
                          std::string_view list_key,
                          const JsonElementSink& on_element)
{
  using Event = nlohmann::json::parse_event_t;
  bool key_is_list = false; // the last key of the top-level object
  bool in_list = false;
  // Depths as nlohmann counts them: the top-level object is 0, its keys
  // and its list 1, the list's elements 2. A discarded element leaves the
  // list empty, so dropping it costs nothing.
  const auto hand_over = [&](int depth, Event event, nlohmann::json& parsed) {
    if (depth == 1) {
      if (event == Event::key) {
        key_is_list = parsed.is_string() && parsed.get_ref<const std::string&>() == list_key;
      } else if (event == Event::array_start) {
        in_list = key_is_list;
      } else if (event == Event::array_end) {
        in_list = false;
      }
      return true;
    }
    if (depth == 2 && in_list
        && (event == Event::object_end || event == Event::array_end || event == Event::value)) {
      on_element(parsed);
      return false;
    }
    return true;
  };
  return parse_checked(text, max_depth, what, [&] {
    return nlohmann::json::parse(text, hand_over);
  });
}

} // namespace hlm
