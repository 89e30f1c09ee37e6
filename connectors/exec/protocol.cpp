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
  const auto response = parse_json_limited(text, k_max_depth, "response");
  if (!response.is_object()) {
    throw InputError(fmt::format("response is not a JSON object: {}", quote_start(text)));
  }
  const auto version = response.find("version");
  if (version == response.end()) {
    throw InputError("response has no \"version\"");
  }
  if (!version->is_number_integer() || version->get<long long>() != k_protocol_version) {
    throw InputError(fmt::format("response has protocol version {}, expected {}",
                                 brief(*version),
                                 k_protocol_version));
  }
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

} // namespace hlm::connector::exec
