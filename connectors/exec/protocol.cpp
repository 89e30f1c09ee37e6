#include <connectors/exec/protocol.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace hlm::connector::exec {

namespace {

// Quoted in messages about a response or a value in it.
constexpr std::size_t k_quote_bytes = 60;
// A program's per-object error longer than this is cut.
constexpr std::size_t k_max_error = 1000;
// Deeper responses are refused while parsing: nothing in version 1 goes
// deeper than 3, and everything that walks a parsed value (destruction,
// quoting) may recurse once per level.
constexpr int k_max_depth = 64;
// nlohmann's messages quote the offending token, which may be huge.
constexpr std::size_t k_max_parser_message = 200;

// The first `k_quote_bytes` of `text`, made printable, "..." when cut.
std::string
cut(std::string_view text)
{
  if (text.size() <= k_quote_bytes) {
    return printable(text);
  }
  return printable(text.substr(0, k_quote_bytes)) + "...";
}

std::string
quote_start(std::string_view text)
{
  return fmt::format("\"{}\"", cut(trim(text)));
}

// Appends `value` to `out` as dump() renders it, but stops once `out`
// holds more than `limit` bytes, so that quoting a large value costs
// little. Recursion is bounded by k_max_depth.
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

// `value` rendered as dump() would, cut to k_quote_bytes.
std::string
brief(const nlohmann::json& value)
{
  std::string text;
  append_brief(text, value, k_quote_bytes);
  return cut(text);
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

// Parses `text`, refusing more than k_max_depth levels of nesting.
nlohmann::json
parse(std::string_view text)
{
  const auto limit_depth = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    if ((event == nlohmann::json::parse_event_t::object_start
         || event == nlohmann::json::parse_event_t::array_start)
        && depth >= k_max_depth) {
      throw InputError(fmt::format("response is nested more than {} levels deep", k_max_depth));
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, limit_depth);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(fmt::format("response is not JSON (error at byte {}): {}", e.byte, quote_start(text)));
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406: a number beyond a double (1e999).
    throw InputError(fmt::format("response is not usable JSON: {}", parser_message(e.what())));
  }
}

Answer
decode_entry(const nlohmann::json& entry)
{
  Answer answer;
  const auto status = entry.find("status");
  if (status == entry.end() || !status->is_string()) {
    answer.error = "the response gives no \"status\" for this file";
    return answer;
  }
  const auto state = parse_object_state(status->get_ref<const std::string&>());
  if (!state) {
    answer.error = fmt::format("the response gives the invalid status \"{}\"",
                               printable(status->get_ref<const std::string&>()));
    return answer;
  }
  answer.state = *state;
  const auto error = entry.find("error");
  if (error == entry.end() || error->is_null()) {
    return answer;
  }
  if (!error->is_string()) {
    answer.error = "the response gives an \"error\" that is neither null nor a string";
    return answer;
  }
  const auto& text = error->get_ref<const std::string&>();
  answer.error = printable(text.size() > k_max_error ? text.substr(0, k_max_error) + "..." : text);
  if (answer.error->empty()) {
    answer.error = "failed (the program gave an empty error)";
  }
  return answer;
}

} // namespace

std::string
encode_request(Operation operation, std::span<const Item> items)
{
  auto objects = nlohmann::ordered_json::array();
  for (const auto& item : items) {
    objects.push_back({{"object", item.object}, {"file", item.file}});
  }
  const nlohmann::ordered_json request = {
    {"protocol", k_protocol_name},
    {"version", k_protocol_version},
    {"operation", to_string(operation)},
    {"objects", std::move(objects)},
  };
  return request.dump();
}

Answers
decode_response(std::string_view text, const std::set<std::string, std::less<>>& files)
{
  if (trim(text).empty()) {
    throw InputError("no response on stdout");
  }
  const auto response = parse(text);
  if (!response.is_object()) {
    throw InputError(fmt::format("response is not a JSON object: {}", quote_start(text)));
  }
  const auto version = response.find("version");
  if (version == response.end()) {
    throw InputError("response has no \"version\"");
  }
  if (!version->is_number_integer() || version->get<long long>() != k_protocol_version) {
    throw InputError(fmt::format("response has protocol version {}, expected {}",
                                 brief(*version), k_protocol_version));
  }
  const auto objects = response.find("objects");
  if (objects == response.end() || !objects->is_array()) {
    throw InputError("response has no \"objects\" list");
  }
  Answers answers;
  std::set<std::string, std::less<>> repeated;
  for (const auto& entry : *objects) {
    if (!entry.is_object()) {
      throw InputError(fmt::format("response has an entry that is not an object: \"{}\"",
                                   brief(entry)));
    }
    const auto file = entry.find("file");
    if (file == entry.end() || !file->is_string()) {
      throw InputError(fmt::format("response has an entry without a \"file\": \"{}\"",
                                   brief(entry)));
    }
    const auto& name = file->get_ref<const std::string&>();
    if (!files.contains(name)) {
      throw InputError(fmt::format("response answers for \"{}\", which was not requested",
                                   printable(name)));
    }
    if (answers.contains(name)) {
      repeated.insert(name);
      continue;
    }
    answers.emplace(name, decode_entry(entry));
  }
  for (const auto& name : repeated) {
    answers[name] = Answer{ObjectState::unknown, "the response answers for this file more than once"};
  }
  return answers;
}

} // namespace hlm::connector::exec
