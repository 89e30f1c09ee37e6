#include <hlm/util/error.hpp>
#include <hlm/util/json_text.hpp>
#include <hlm/util/strings.hpp>

#include <connectors/exec/protocol.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace hlm::connector::exec {

namespace {

// A program's per-object error longer than this is cut.
constexpr std::size_t k_max_error = 1000;
// Deeper responses are refused while parsing: nothing in version 1 goes
// deeper than 3.
constexpr int k_max_depth = 64;

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

// The objects of a request, in order.
nlohmann::ordered_json
encode_objects(std::span<const Item> items)
{
  auto objects = nlohmann::ordered_json::array();
  for (const auto& item : items) {
    objects.push_back({{"object", item.object}, {"file", item.file}});
  }
  return objects;
}

// The object `text` holds, with protocol version `expected`. Throws
// InputError as decode_response and decode_estimate say.
nlohmann::json
parse_response(std::string_view text, int expected)
{
  if (trim(text).empty()) {
    throw InputError("no response on stdout");
  }
  auto response = parse_json_limited(text, k_max_depth, "response");
  if (!response.is_object()) {
    throw InputError(fmt::format("response is not a JSON object: {}", quote_start(text)));
  }
  const auto version = response.find("version");
  if (version == response.end()) {
    throw InputError("response has no \"version\"");
  }
  if (!version->is_number_integer() || version->get<long long>() != expected) {
    throw InputError(
      fmt::format("response has protocol version {}, expected {}", brief(*version), expected));
  }
  return response;
}

// The estimate's field `name`; throws InputError when it is missing.
const nlohmann::json&
estimate_field(const nlohmann::json& estimate, const char* name)
{
  const auto field = estimate.find(name);
  if (field == estimate.end()) {
    throw InputError(fmt::format("response's estimate has no \"{}\"", name));
  }
  return *field;
}

[[noreturn]] void
bad_field(const char* name, const nlohmann::json& field, std::string_view expected)
{
  throw InputError(fmt::format("response's estimate gives {} = {}, expected {} from 0 to {}",
                               name,
                               brief(field),
                               expected,
                               k_max_estimate_number));
}

// The estimate's field `name`: a whole number from 0 to
// k_max_estimate_number. Checked as an integer: as a double, 2^53 + 1
// would pass as 2^53. A whole number written with a fraction or an
// exponent (1.0, 1e3) is a float to nlohmann, and refused.
std::uint64_t
estimate_count(const nlohmann::json& estimate, const char* name)
{
  const auto& field = estimate_field(estimate, name);
  if (field.is_number_unsigned()) {
    const auto value = field.get<std::uint64_t>();
    if (value <= k_max_estimate_number) {
      return value;
    }
  }
  bad_field(name, field, "a whole number");
}

// The estimate's field `name`: any number from 0 to k_max_estimate_number
// (NaN fails both comparisons).
double
estimate_seconds(const nlohmann::json& estimate, const char* name)
{
  const auto& field = estimate_field(estimate, name);
  if (field.is_number()) {
    const auto value = field.get<double>();
    if (value >= 0 && value <= static_cast<double>(k_max_estimate_number)) {
      return value;
    }
  }
  bad_field(name, field, "a number");
}

} // namespace

std::string
encode_request(Operation operation, std::span<const Item> items)
{
  const nlohmann::ordered_json request = {
    {"protocol", k_protocol_name},
    {"version", k_protocol_version},
    {"operation", to_string(operation)},
    {"objects", encode_objects(items)},
  };
  return request.dump();
}

Answers
decode_response(std::string_view text, const std::set<std::string, std::less<>>& files)
{
  const auto response = parse_response(text, k_protocol_version);
  const auto objects = response.find("objects");
  if (objects == response.end() || !objects->is_array()) {
    throw InputError("response has no \"objects\" list");
  }
  Answers answers;
  std::set<std::string, std::less<>> repeated;
  for (const auto& entry : *objects) {
    if (!entry.is_object()) {
      throw InputError(
        fmt::format("response has an entry that is not an object: \"{}\"", brief(entry)));
    }
    const auto file = entry.find("file");
    if (file == entry.end() || !file->is_string()) {
      throw InputError(
        fmt::format("response has an entry without a \"file\": \"{}\"", brief(entry)));
    }
    const auto& name = file->get_ref<const std::string&>();
    if (!files.contains(name)) {
      throw InputError(
        fmt::format("response answers for \"{}\", which was not requested", printable(name)));
    }
    if (answers.contains(name)) {
      repeated.insert(name);
      continue;
    }
    answers.emplace(name, decode_entry(entry));
  }
  for (const auto& name : repeated) {
    answers[name] = Answer{ObjectState::unknown,
                           "the response answers for this file more than once"};
  }
  return answers;
}

std::string
encode_estimate_request(Operation operation, std::span<const Item> items)
{
  const nlohmann::ordered_json request = {
    {"protocol", k_protocol_name},
    {"version", k_estimate_version},
    {"operation", "estimate"},
    {"estimate", {{"operation", to_string(operation)}, {"objects", encode_objects(items)}}},
  };
  return request.dump();
}

std::optional<Estimate>
decode_estimate(std::string_view text, std::size_t items)
{
  const auto response = parse_response(text, k_estimate_version);
  const auto estimate = response.find("estimate");
  if (estimate == response.end()) {
    throw InputError("response has no \"estimate\"");
  }
  if (estimate->is_null()) {
    return std::nullopt;
  }
  if (!estimate->is_object()) {
    throw InputError(
      fmt::format("response's \"estimate\" is neither null nor an object: {}", brief(*estimate)));
  }
  Estimate out;
  out.items = estimate_count(*estimate, "items");
  out.bytes = estimate_count(*estimate, "bytes");
  out.cartridges = estimate_count(*estimate, "cartridges");
  out.mounts = estimate_count(*estimate, "mounts");
  out.drive_seconds = estimate_seconds(*estimate, "drive_seconds");
  out.wall_seconds = estimate_seconds(*estimate, "wall_seconds");
  if (out.items > items) {
    throw InputError(
      fmt::format("response's estimate counts {} items of the {} asked about", out.items, items));
  }
  return out;
}

} // namespace hlm::connector::exec
