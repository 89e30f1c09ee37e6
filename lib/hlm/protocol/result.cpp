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

// A line's "placement" (a status asked with "placement": true): nullopt
// when absent, null, or not a placement (an object with a string "volume"
// and unsigned "position" and "length"; "library" a string, "in_drive" and
// "on_disk" booleans, each optional).
std::optional<connector::Placement>
decode_placement(const nlohmann::json& line)
{
  const auto it = line.find("placement");
  if (it == line.end() || !it->is_object()) {
    return std::nullopt;
  }
  const auto& json = *it;
  const auto* volume = string_at(json, "volume");
  const auto position = json.find("position");
  const auto length = json.find("length");
  if (!volume || position == json.end() || !position->is_number_unsigned() || length == json.end()
      || !length->is_number_unsigned()) {
    return std::nullopt;
  }
  connector::Placement placement;
  placement.volume = *volume;
  placement.position = position->get<std::uint64_t>();
  placement.length = length->get<std::uint64_t>();
  if (const auto* library = string_at(json, "library")) {
    placement.library = *library;
  }
  const auto flag = [&](std::string_view key) {
    const auto found = json.find(key);
    return found != json.end() && found->is_boolean() && found->get<bool>();
  };
  placement.in_drive = flag("in_drive");
  placement.on_disk = flag("on_disk");
  return placement;
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
  if (const auto expiry = line.find("restore_expiry");
      expiry != line.end() && expiry->is_number_integer()) {
    result.restore_expiry = expiry->get<std::int64_t>();
  }
  const auto* stub = string_at(line, "stub");
  result.stub_missing = stub && *stub == "missing";
  result.placement = decode_placement(line);
  return result;
}

// The version's id: none in version 1 (also a document written before the
// version key), required in version 2.
std::optional<std::uint64_t>
check_version(const nlohmann::json& document)
{
  const auto version = document.find("version");
  if (version == document.end()) {
    return std::nullopt;
  }
  if (!version->is_number_integer() || version->get<long long>() < 1
      || version->get<long long>() > k_result_version) {
    throw InputError(fmt::format("result document version {}; this hlm reads versions 1 to {}",
                                 brief(*version),
                                 k_result_version));
  }
  if (version->get<long long>() == 1) {
    return std::nullopt;
  }
  const auto id = document.find("id");
  if (id == document.end() || !id->is_number_unsigned()) {
    throw InputError("result document version 2 has no \"id\" (an unsigned integer)");
  }
  return id->get<std::uint64_t>();
}

// An "estimate" value: the figures, or none when it is null or anything
// but an object of non-negative numbers (a node's estimate only informs).
EstimateAnswer
decode_estimate(const nlohmann::json& value)
{
  if (!value.is_object()) {
    return {};
  }
  const auto count = [&](const char* key) -> std::optional<std::uint64_t> {
    const auto it = value.find(key);
    if (it == value.end() || !it->is_number_unsigned()) {
      return std::nullopt;
    }
    return it->get<std::uint64_t>();
  };
  const auto seconds = [&](const char* key) -> std::optional<double> {
    const auto it = value.find(key);
    if (it == value.end() || !it->is_number()) {
      return std::nullopt;
    }
    const double number = it->get<double>();
    if (!(number >= 0) || number > 1e15) {
      return std::nullopt;
    }
    return number;
  };
  const auto items = count("items");
  const auto bytes = count("bytes");
  const auto cartridges = count("cartridges");
  const auto mounts = count("mounts");
  const auto drive = seconds("drive_seconds");
  const auto wall = seconds("wall_seconds");
  if (!items || !bytes || !cartridges || !mounts || !drive || !wall) {
    return {};
  }
  return {connector::Estimate{*items, *bytes, *cartridges, *mounts, *drive, *wall}};
}

// The document's own fields (all but its lines) into `document`, with the
// checks of the whole document. `text` is quoted when it is no object.
void
decode_head(const nlohmann::json& json, std::string_view text, ResultDocument& document)
{
  if (!json.is_object()) {
    throw InputError(fmt::format("result document is not a JSON object: {}", quote_start(text)));
  }
  document.id = check_version(json);
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
  if (const auto estimate = json.find("estimate"); estimate != json.end()) {
    document.estimate = decode_estimate(*estimate);
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
                    std::span<const std::string> warnings,
                    std::optional<std::uint64_t> id)
{
  std::string text = fmt::format(R"({{"request":"{}",)", to_string(operation));
  text += id ? fmt::format(R"("version":2,"id":{},)", *id) : std::string(R"("version":1,)");
  text += fmt::format(R"("storage_policy_index":{},)", storage_policy_index);
  if (!warnings.empty()) {
    text += R"("warnings":)" + dump(nlohmann::json(warnings)) + ',';
  }
  return text + R"("objects":[)";
}

namespace {

// `"key":` then the string, for append_result_line.
void
append_field(std::string& out, std::string_view key, std::string_view value)
{
  out += key;
  append_json_string(out, value);
}

void
append_placement(std::string& out, const connector::Placement& placement)
{
  // The keys in dump()'s (sorted) order, as nlohmann::json wrote them.
  out += fmt::format(R"(,"placement":{{"in_drive":{},"length":{},)",
                     placement.in_drive,
                     placement.length);
  append_field(out, R"("library":)", placement.library);
  out += fmt::format(R"(,"on_disk":{},"position":{},)", placement.on_disk, placement.position);
  append_field(out, R"("volume":)", placement.volume);
  out += '}';
}

} // namespace

void
append_result_line(std::string& out, const ResultLine& line, bool first)
{
  // Written directly, one line per replica of a status of millions: the
  // same text as dump() of the equivalent json object (keys sorted, null
  // for an absent device, file and error), which it was before.
  out += first ? "\n{" : ",\n{";
  if (line.device) {
    append_field(out, R"("device":)", *line.device);
  } else {
    out += R"("device":null)";
  }
  if (line.failure) {
    append_field(out, R"(,"error":)", line.failure->message);
    out += fmt::format(R"(,"error_kind":"{}")", to_string(line.failure->kind));
  } else {
    out += R"(,"error":null)";
  }
  if (line.etag) {
    append_field(out, R"(,"etag":)", *line.etag);
  }
  if (line.file.empty()) {
    out += R"(,"file":null)";
  } else {
    append_field(out, R"(,"file":)", line.file);
  }
  append_field(out, R"(,"object":)", line.object);
  if (line.placement) {
    append_placement(out, *line.placement);
  }
  if (line.restore_expiry) {
    out += fmt::format(R"(,"restore_expiry":{})", *line.restore_expiry);
  }
  if (line.size) {
    out += fmt::format(R"(,"size":{})", *line.size);
  }
  out += fmt::format(R"(,"status":"{}")", to_string(line.state));
  if (line.stub_missing) {
    out += R"(,"stub":"missing")";
  }
  if (line.failure) {
    out += line.failure->transient ? R"(,"transient":true)" : R"(,"transient":false)";
  }
  out += '}';
}

std::string
encode_result_line(const ResultLine& line, bool first)
{
  std::string text;
  append_result_line(text, line, first);
  return text;
}

std::string
encode_result_end(const ResultSummary& summary, const std::optional<EstimateAnswer>& estimate)
{
  std::string text = fmt::format(R"(],"summary":{{"objects":{},"ok":{},"failed":{}}})",
                                 summary.objects,
                                 summary.ok,
                                 summary.failed);
  if (estimate) {
    text += R"(,"estimate":)";
    if (const auto& e = estimate->estimate) {
      text += fmt::format(R"({{"items":{},"bytes":{},"cartridges":{},"mounts":{},)"
                          R"("drive_seconds":{},"wall_seconds":{}}})",
                          e->items,
                          e->bytes,
                          e->cartridges,
                          e->mounts,
                          e->drive_seconds,
                          e->wall_seconds);
    } else {
      text += "null";
    }
  }
  return text + "}\n";
}

std::string
encode_result(const ResultDocument& document)
{
  std::string text = encode_result_start(document.operation,
                                         document.storage_policy_index,
                                         document.warnings,
                                         document.id);
  for (std::size_t i = 0; i < document.lines.size(); ++i) {
    text += encode_result_line(document.lines[i], i == 0);
  }
  return text + encode_result_end(document.summary, document.estimate);
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
  decode_head(json, text, document);
  if (bad_line) {
    std::rethrow_exception(bad_line);
  }
  return document;
}

// Follows strings and brackets only, to tell where each line of the
// "objects" list and each document ends; the JSON of a line, and of the
// document without its lines (the head), is parsed by nlohmann as
// decode_result parses it.
class ResultStreamDecoder::Impl
{
public:
  Impl(LineSink on_line, EndSink on_end)
    : m_on_line(std::move(on_line)),
      m_on_end(std::move(on_end))
  {
  }

  void
  feed(std::string_view chunk)
  {
    if (m_foreign) {
      m_head.append(chunk);
      return;
    }
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const char c = chunk[i];
      if (!m_started) {
        if (is_space(c)) {
          continue;
        }
        m_started = true;
        if (c != '{') {
          m_foreign = true;
          m_head.append(chunk.substr(i));
          return;
        }
      }
      ++m_offset;
      step(c);
    }
  }

  bool
  in_document() const noexcept
  {
    return m_started;
  }

  void
  finish() const
  {
    if (m_foreign) {
      decode_result(m_head); // throws: the text is no JSON object
    }
    if (m_started) {
      throw NotJson(
        fmt::format("result document is not JSON (truncated after {} bytes)", m_offset));
    }
  }

private:
  // Keys longer than this are not the list's key.
  static constexpr std::size_t k_max_key = 16;

  static bool
  is_space(char c)
  {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
  }

  bool
  in_line() const noexcept
  {
    return m_in_objects && m_depth >= 2;
  }

  void
  take(char c)
  {
    (in_line() ? m_line : m_head).push_back(c);
  }

  void
  step(char c)
  {
    if (m_in_string) {
      take(c);
      if (m_escape) {
        m_escape = false;
      } else if (c == '\\') {
        m_escape = true;
      } else if (c == '"') {
        m_in_string = false;
      } else if (m_depth == 1 && m_key.size() <= k_max_key) {
        m_key.push_back(c);
      }
      return;
    }
    switch (c) {
    case '"':
      m_in_string = true;
      if (m_depth == 1) {
        m_key.clear();
      }
      take(c);
      return;
    case '{':
    case '[':
      open(c);
      return;
    case ',':
      if (m_in_objects && m_depth == 2) {
        end_line(false);
        return;
      }
      take(c);
      return;
    case '}':
    case ']':
      close(c);
      return;
    default:
      take(c);
    }
  }

  void
  open(char c)
  {
    if (++m_depth > k_max_depth) {
      throw InputError(
        fmt::format("result document is nested more than {} levels deep", k_max_depth));
    }
    if (m_depth == 2 && c == '[' && m_key == "objects") {
      m_in_objects = true;
      m_head.push_back(c);
      return;
    }
    take(c);
  }

  void
  close(char c)
  {
    if (m_in_objects && m_depth == 2) {
      end_line(true);
      m_in_objects = false;
      m_head.push_back(c);
      --m_depth;
      return;
    }
    take(c);
    if (--m_depth <= 0) {
      end_document();
    }
  }

  [[noreturn]] void
  not_json() const
  {
    throw NotJson(fmt::format("result document is not JSON (error at byte {}): {}",
                              m_offset,
                              quote_start(m_head)));
  }

  static nlohmann::json
  parse(std::string_view text)
  {
    try {
      return parse_json_limited(text, k_max_depth, "result document");
    } catch (const JsonSyntaxError& e) {
      throw NotJson(e.what());
    }
  }

  // A ',' or the ']' after a line of the list: decodes the line.
  void
  end_line(bool closing)
  {
    const std::string_view text = trim(m_line);
    if (text.empty()) {
      if (!closing || m_lines > 0) {
        not_json(); // "[," or ",]"
      }
      m_line.clear();
      return;
    }
    const auto json = parse(text);
    m_line.clear();
    const std::size_t index = m_lines++;
    if (m_bad_line) {
      return;
    }
    std::optional<ResultLine> line;
    try {
      line = decode_line(json, index);
    } catch (const InputError&) {
      m_bad_line = std::current_exception();
      return;
    }
    m_summary.add(*line);
    m_on_line(std::move(*line));
  }

  void
  end_document()
  {
    const auto json = parse(m_head);
    ResultDocument head;
    decode_head(json, m_head, head);
    if (m_bad_line) {
      std::rethrow_exception(m_bad_line);
    }
    End end{head.operation,
            head.storage_policy_index,
            head.id,
            std::move(head.warnings),
            m_summary,
            head.estimate};
    reset();
    m_on_end(std::move(end));
  }

  void
  reset()
  {
    m_started = false;
    m_in_string = false;
    m_escape = false;
    m_in_objects = false;
    m_depth = 0;
    m_offset = 0;
    m_lines = 0;
    m_head.clear();
    m_line.clear();
    m_key.clear();
    m_summary = {};
  }

  LineSink m_on_line;
  EndSink m_on_end;
  bool m_started = false; // a document's first byte was read
  // The document does not start with '{': it is no result document, and
  // as its end cannot be told, it is kept whole for decode_result's
  // verdict at the end of the input (finish).
  bool m_foreign = false;
  bool m_in_string = false;
  bool m_escape = false;
  bool m_in_objects = false; // inside the "objects" list
  int m_depth = 0;
  std::size_t m_offset = 0; // bytes of the document read
  std::size_t m_lines = 0;
  std::string m_head; // the document without its lines
  std::string m_line; // the line being read
  std::string m_key;  // the last string at the top level (cut)
  std::exception_ptr m_bad_line;
  ResultSummary m_summary;
};

ResultStreamDecoder::ResultStreamDecoder(LineSink on_line, EndSink on_end)
  : m_impl(std::make_unique<Impl>(std::move(on_line), std::move(on_end)))
{
}

ResultStreamDecoder::~ResultStreamDecoder() = default;

void
ResultStreamDecoder::feed(std::string_view chunk)
{
  m_impl->feed(chunk);
}

bool
ResultStreamDecoder::in_document() const noexcept
{
  return m_impl->in_document();
}

void
ResultStreamDecoder::finish() const
{
  m_impl->finish();
}

} // namespace hlm::protocol
