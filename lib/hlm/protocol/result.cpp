#include <hlm/protocol/request.hpp>
#include <hlm/protocol/result.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/json_text.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <exception>

namespace hlm::protocol {

namespace {

// Nothing in version 1 goes deeper than 4 (document, objects, line,
// warnings).
constexpr int k_max_depth = 16;

std::string
dump(const nlohmann::json& value)
{
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const std::string*
string_at(const nlohmann::json& object, std::string_view key)
{
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

std::optional<Failure>
decode_failure(const nlohmann::json& line, const std::string& where)
{
  const auto error = line.find("error");
  if (error == line.end() || error->is_null()) {
    return std::nullopt;
  }
  if (!error->is_string()) {
    throw InputError(fmt::format("{} has an \"error\" that is neither null nor a string", where));
  }
  Failure failure = make_failure(FailureKind::backend, error->get<std::string>());
  if (const auto* kind = string_at(line, "error_kind")) {
    failure.kind = parse_failure_kind(*kind).value_or(FailureKind::node);
    failure.transient = transient_by_default(failure.kind);
  }
  if (const auto transient = line.find("transient");
      transient != line.end() && transient->is_boolean()) {
    failure.transient = transient->get<bool>();
  }
  return failure;
}

ResultLine
decode_line(const nlohmann::json& line, std::size_t index)
{
  const std::string where = fmt::format("result line {}", index);
  if (!line.is_object()) {
    throw InputError(fmt::format("{} is not an object: \"{}\"", where, brief(line)));
  }
  ResultLine result;
  const auto* object = string_at(line, "object");
  if (!object) {
    throw InputError(fmt::format("{} has no \"object\"", where));
  }
  result.object = *object;
  if (const auto* device = string_at(line, "device")) {
    result.device = *device;
  }
  if (const auto* file = string_at(line, "file")) {
    result.file = *file;
  }
  result.failure = decode_failure(line, where);
  const auto* status = string_at(line, "status");
  const auto state = status ? parse_object_state(*status) : std::nullopt;
  if (state) {
    result.state = *state;
  } else if (!result.failure) {
    result.failure = make_failure(FailureKind::node,
                                  fmt::format("{} has no valid \"status\"", where));
  }
  if (const auto* etag = string_at(line, "etag")) {
    result.etag = *etag;
  }
  if (const auto size = line.find("size"); size != line.end() && size->is_number_unsigned()) {
    result.size = size->get<std::uint64_t>();
  }
  const auto* stub = string_at(line, "stub");
  result.stub_missing = stub && *stub == "missing";
  return result;
}

void
check_version(const nlohmann::json& document)
{
  const auto version = document.find("version");
  if (version == document.end()) {
    return; // written before the version key: version 1
  }
  if (!version->is_number_integer() || version->get<long long>() != k_version) {
    throw InputError(fmt::format("result document version {}; this hlm reads version {}",
                                 brief(*version),
                                 k_version));
  }
}

} // namespace

void
ResultSummary::add(const ResultLine& line)
{
  ++objects;
  if (line.failure) {
    ++failed;
  } else {
    ++ok;
  }
}

std::string
encode_result_start(Operation operation,
                    int storage_policy_index,
                    std::span<const std::string> warnings)
{
  std::string text = fmt::format(R"({{"request":"{}","version":{},"storage_policy_index":{},)",
                                 to_string(operation),
                                 k_version,
                                 storage_policy_index);
  if (!warnings.empty()) {
    text += R"("warnings":)" + dump(nlohmann::json(warnings)) + ',';
  }
  return text + R"("objects":[)";
}

std::string
encode_result_line(const ResultLine& line, bool first)
{
  nlohmann::json json = {
    {"object", line.object},
    {"device", line.device ? nlohmann::json(*line.device) : nlohmann::json()},
    {"file", line.file.empty() ? nlohmann::json() : nlohmann::json(line.file)},
    {"status", to_string(line.state)},
    {"error", line.failure ? nlohmann::json(line.failure->message) : nlohmann::json()},
  };
  if (line.failure) {
    json["error_kind"] = to_string(line.failure->kind);
    json["transient"] = line.failure->transient;
  }
  if (line.etag) {
    json["etag"] = *line.etag;
  }
  if (line.size) {
    json["size"] = *line.size;
  }
  if (line.stub_missing) {
    json["stub"] = "missing";
  }
  return (first ? "\n" : ",\n") + dump(json);
}

std::string
encode_result_end(const ResultSummary& summary)
{
  return fmt::format(R"(],"summary":{{"objects":{},"ok":{},"failed":{}}}}})"
                     "\n",
                     summary.objects,
                     summary.ok,
                     summary.failed);
}

std::string
encode_result(const ResultDocument& document)
{
  std::string text = encode_result_start(document.operation,
                                         document.storage_policy_index,
                                         document.warnings);
  for (std::size_t i = 0; i < document.lines.size(); ++i) {
    text += encode_result_line(document.lines[i], i == 0);
  }
  return text + encode_result_end(document.summary);
}

ResultDocument
decode_result(std::string_view text)
{
  if (trim(text).empty()) {
    throw NotJson("no result document");
  }
  ResultDocument document;
  // Lines are decoded as the parser reaches them, so a round's thousands
  // of lines are never one JSON tree. The first bad line is reported only
  // after the checks of the whole document, which come first.
  std::size_t elements = 0;
  std::exception_ptr bad_line;
  const auto on_line = [&](const nlohmann::json& line) {
    const std::size_t index = elements++;
    if (bad_line) {
      return;
    }
    try {
      document.lines.push_back(decode_line(line, index));
      document.summary.add(document.lines.back());
    } catch (const InputError&) {
      bad_line = std::current_exception();
    }
  };
  nlohmann::json json;
  try {
    json = parse_json_streaming_list(text, k_max_depth, "result document", "objects", on_line);
  } catch (const JsonSyntaxError& e) {
    // Only text that is no JSON at all: too deep or a 1e999 is an answer
    // nobody can read, not a handler that died before answering.
    throw NotJson(e.what());
  }
  if (!json.is_object()) {
    throw InputError(fmt::format("result document is not a JSON object: {}", quote_start(text)));
  }
  check_version(json);
  if (const auto* request = string_at(json, "request")) {
    document.operation = parse_operation(*request).value_or(Operation::status);
  }
  if (const auto policy = json.find("storage_policy_index");
      policy != json.end() && policy->is_number_integer()) {
    document.storage_policy_index = policy->get<int>();
  }
  if (const auto warnings = json.find("warnings"); warnings != json.end() && warnings->is_array()) {
    for (const auto& warning : *warnings) {
      if (warning.is_string()) {
        document.warnings.push_back(warning.get<std::string>());
      }
    }
  }
  const auto objects = json.find("objects");
  if (objects == json.end() || !objects->is_array()) {
    throw InputError("result document has no \"objects\" list");
  }
  if (bad_line) {
    std::rethrow_exception(bad_line);
  }
  return document;
}

} // namespace hlm::protocol
