#include <hlm/protocol/request.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/json_text.hpp>
#include <hlm/util/strings.hpp>
#include <hlm/util/temp_file.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <istream>
#include <limits>
#include <unordered_map>

namespace hlm::protocol {

void
check_device_name(std::string_view name)
{
  const bool control = std::any_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (name.empty() || name == "." || name == ".." || control
      || name.find('/') != std::string_view::npos || name.size() > 255 || !is_valid_utf8(name)) {
    throw InputError(fmt::format("invalid device name \"{}\"", printable(name)));
  }
}

namespace {

// Interns device names: a request names few devices for many objects.
class DeviceTable
{
public:
  explicit DeviceTable(std::vector<std::string>& names)
    : m_names(names)
  {
  }

  std::uint32_t
  index_of(const std::string& name)
  {
    if (const auto it = m_index.find(name); it != m_index.end()) {
      return it->second;
    }
    check_device_name(name);
    const auto index = static_cast<std::uint32_t>(m_names.size());
    m_names.push_back(name);
    m_index.emplace(name, index);
    return index;
  }

private:
  std::vector<std::string>& m_names;
  std::unordered_map<std::string, std::uint32_t> m_index;
};

// A SAX consumer for the request document. Nesting is tracked explicitly
// so that unknown keys, with any value, can be skipped without building
// anything.
class RequestSax : public nlohmann::json_sax<nlohmann::json>
{
public:
  explicit RequestSax(Request& request)
    : m_request(request),
      m_devices(request.devices)
  {
  }

  bool
  null() override
  {
    return scalar(Kind::null, {});
  }
  bool
  boolean(bool value) override
  {
    if (m_skip_depth == 0 && m_where == Where::top && m_key == "placement") {
      m_placement = value;
      return true;
    }
    if (m_skip_depth == 0 && m_where == Where::top && m_key == "estimate") {
      m_estimate = value;
      return true;
    }
    if (m_skip_depth == 0 && m_where == Where::top && m_key == "restore_marks") {
      m_restore_marks = value;
      return true;
    }
    return scalar(Kind::other, {});
  }
  bool
  number_integer(number_integer_t value) override
  {
    return integer(value);
  }
  bool
  number_unsigned(number_unsigned_t value) override
  {
    if (m_skip_depth == 0 && m_where == Where::top && is_time_key(m_key)) {
      set_time(value);
      return true;
    }
    if (value <= 0x7fffffff) {
      return integer(static_cast<long long>(value));
    }
    // Too big for any key but "id": -1 gets the key's own refusal, but a
    // version is quoted as sent.
    if (m_skip_depth == 0 && m_where == Where::top && m_key == "id") {
      m_id = value;
      return true;
    }
    if (m_skip_depth == 0 && m_where == Where::top && m_key == "version") {
      refuse_version(std::to_string(value));
    }
    return integer(-1);
  }
  bool
  number_float(number_float_t, const string_t&) override
  {
    return scalar(Kind::other, {});
  }
  bool
  binary(binary_t&) override
  {
    return scalar(Kind::other, {});
  }
  bool
  string(string_t& value) override
  {
    return scalar(Kind::string, value);
  }

  bool
  start_object(std::size_t) override
  {
    if (m_skip_depth > 0) {
      ++m_skip_depth;
      return true;
    }
    switch (m_where) {
    case Where::before:
      m_where = Where::top;
      return true;
    case Where::objects:
      m_where = Where::entry;
      m_entry_object.reset();
      m_entry_device.reset();
      return true;
    case Where::top:
      top_value(Kind::other, {}); // refuses a known key's mistyped value
      return skip_value(true);
    case Where::entry:
      entry_value(Kind::other, {});
      return skip_value(true);
    case Where::after:
      break;
    }
    return true;
  }

  bool
  end_object() override
  {
    if (m_skip_depth > 0) {
      --m_skip_depth;
      return true;
    }
    if (m_where == Where::entry) {
      finish_entry();
      m_where = Where::objects;
    } else if (m_where == Where::top) {
      m_where = Where::after;
    }
    return true;
  }

  bool
  start_array(std::size_t) override
  {
    if (m_skip_depth > 0) {
      ++m_skip_depth;
      return true;
    }
    if (m_where == Where::top && m_key == "objects") {
      if (m_seen_objects) {
        fail("\"objects\" appears twice");
      }
      m_seen_objects = true;
      m_where = Where::objects;
      return true;
    }
    if (m_where == Where::before) {
      fail("the document is not a JSON object");
    }
    if (m_where == Where::objects) {
      fail(fmt::format("objects[{}] is not an object", m_request.objects.size()));
    }
    if (m_where == Where::top) {
      top_value(Kind::other, {});
    } else if (m_where == Where::entry) {
      entry_value(Kind::other, {});
    }
    return skip_value(true);
  }

  bool
  end_array() override
  {
    if (m_skip_depth > 0) {
      --m_skip_depth;
      return true;
    }
    m_where = Where::top;
    return true;
  }

  bool
  key(string_t& value) override
  {
    if (m_skip_depth == 0) {
      m_key = value;
    }
    return true;
  }

  bool
  parse_error(std::size_t position,
              const std::string&,
              const nlohmann::detail::exception& e) override
  {
    // nlohmann's message repeats the position; keep only its reason.
    std::string reason = e.what();
    if (const auto colon = reason.rfind(": "); colon != std::string::npos) {
      reason = reason.substr(colon + 2);
    }
    fail(fmt::format("malformed JSON at byte {}: {}", position, reason));
  }

  void
  finish()
  {
    if (!m_request_seen) {
      fail("missing \"request\"");
    }
    if (!m_seen_objects) {
      fail("missing \"objects\"");
    }
    if (m_request.version >= 2) {
      if (m_bad_id) {
        fail("\"id\" must be a non-negative integer");
      }
      if (!m_id) {
        fail(fmt::format("a version {} document needs an \"id\"", m_request.version));
      }
      m_request.id = m_id;
      // Placements are a status's only.
      m_request.placement = m_placement && m_request.operation == Operation::status;
    }
    if (m_request.version >= 3) {
      if (m_restore_until && m_request.operation != Operation::recall) {
        fail("\"restore_until\" is for a recall only");
      }
      if (m_release_before && m_request.operation != Operation::migrate) {
        fail("\"release_before\" is for a migrate only");
      }
      m_request.restore_until = m_restore_until;
      m_request.release_before = m_release_before;
      if (m_estimate && m_request.operation == Operation::status) {
        fail("\"estimate\" is for a migrate or recall only");
      }
      m_request.estimate = m_estimate;
      // Marks are a status's only.
      m_request.restore_marks = m_restore_marks && m_request.operation == Operation::status;
    }
  }

private:
  enum class Where { before, top, objects, entry, after };
  enum class Kind { null, string, other };

  [[noreturn]] static void
  fail(const std::string& what)
  {
    throw InputError(fmt::format("bad request document: {}", what));
  }

  [[noreturn]] static void
  refuse_version(const std::string& shown)
  {
    throw InputError(
      fmt::format("request document version {}; this hlm-handler reads versions 1 to {}",
                  shown,
                  k_version));
  }

  void
  set_version(long long value)
  {
    if (value < 1 || value > k_version) {
      refuse_version(std::to_string(value));
    }
    m_request.version = static_cast<int>(value);
  }

  static bool
  is_time_key(std::string_view key)
  {
    return key == "restore_until" || key == "release_before";
  }

  void
  set_time(std::uint64_t value)
  {
    if (value > static_cast<std::uint64_t>(k_max_unix_seconds)) {
      fail(fmt::format("\"{}\" is past the year 9999", m_key));
    }
    (m_key == "restore_until" ? m_restore_until
                              : m_release_before) = static_cast<std::int64_t>(value);
  }

  bool
  skip_value(bool container)
  {
    if (container) {
      m_skip_depth = 1;
    }
    return true;
  }

  bool
  integer(long long value)
  {
    if (m_skip_depth > 0) {
      return true;
    }
    if (m_where == Where::top && m_key == "version") {
      set_version(value);
      return true;
    }
    if (m_where == Where::top && m_key == "id") {
      if (value < 0) {
        m_bad_id = true;
      } else {
        m_id = static_cast<std::uint64_t>(value);
      }
      return true;
    }
    if (m_where == Where::top && is_time_key(m_key)) {
      if (value < 0) {
        fail(fmt::format("\"{}\" must be Unix seconds", m_key));
      }
      set_time(static_cast<std::uint64_t>(value));
      return true;
    }
    if (m_where == Where::top && m_key == "storage_policy_index") {
      if (value < 0) {
        fail("\"storage_policy_index\" must be a non-negative integer");
      }
      m_request.storage_policy_index = static_cast<int>(value);
      return true;
    }
    return scalar(Kind::other, {});
  }

  bool
  scalar(Kind kind, const std::string& value)
  {
    if (m_skip_depth > 0) {
      return true;
    }
    switch (m_where) {
    case Where::before:
      fail("the document is not a JSON object");
    case Where::objects:
      fail(fmt::format("objects[{}] is not an object", m_request.objects.size()));
    case Where::top:
      top_value(kind, value);
      return true;
    case Where::entry:
      entry_value(kind, value);
      return true;
    case Where::after:
      break;
    }
    return true;
  }

  void
  top_value(Kind kind, const std::string& value)
  {
    if (m_key == "version") {
      fail("\"version\" must be an integer");
    } else if (m_key == "id") {
      m_bad_id = true; // refused in version 2 only
    } else if (m_key == "request") {
      const auto operation = kind == Kind::string ? parse_operation(value) : std::nullopt;
      if (!operation) {
        fail(fmt::format("\"request\" must be \"status\", \"migrate\" or "
                         "\"recall\", not {}",
                         kind == Kind::string ? '"' + printable(value) + '"'
                                              : std::string("a non-string")));
      }
      m_request.operation = *operation;
      m_request_seen = true;
    } else if (m_key == "swift_dir") {
      if (kind == Kind::string) {
        m_request.swift_dir = value;
      } else if (kind != Kind::null) {
        fail("\"swift_dir\" must be a string");
      }
    } else if (m_key == "storage_policy_index") {
      // SwiftHLM's dispatcher sends the container's policy as Swift's
      // container info has it: a string of digits ("0").
      const auto number = kind == Kind::string && !value.empty()
                              && value.find_first_not_of("0123456789") == std::string::npos
                            ? parse_int(value)
                            : std::nullopt;
      if (number && *number <= std::numeric_limits<int>::max()) {
        m_request.storage_policy_index = static_cast<int>(*number);
      } else if (kind != Kind::null) {
        fail("\"storage_policy_index\" must be a non-negative integer");
      }
    } else if (m_key == "objects") {
      fail("\"objects\" must be a list");
    } else if (m_key == "placement" && kind != Kind::null) {
      fail("\"placement\" must be true or false");
    } else if (m_key == "restore_marks" && kind != Kind::null) {
      fail("\"restore_marks\" must be true or false");
    } else if (m_key == "estimate" && kind != Kind::null) {
      fail("\"estimate\" must be true or false");
    } else if (is_time_key(m_key) && kind != Kind::null) {
      fail(fmt::format("\"{}\" must be Unix seconds", m_key));
    }
  }

  void
  entry_value(Kind kind, const std::string& value)
  {
    const auto index = m_request.objects.size();
    if (m_key == "object") {
      if (kind != Kind::string) {
        fail(fmt::format("objects[{}].object must be a string", index));
      }
      m_entry_object = value;
    } else if (m_key == "device") {
      if (kind == Kind::string) {
        m_entry_device = value;
      } else if (kind != Kind::null) {
        fail(fmt::format("objects[{}].device must be a string", index));
      }
    }
  }

  void
  finish_entry()
  {
    const auto index = m_request.objects.size();
    if (!m_entry_object) {
      fail(fmt::format("objects[{}] has no \"object\"", index));
    }
    try {
      split_object_path(*m_entry_object);
      Request::Object object{std::move(*m_entry_object), Request::k_any_device};
      if (m_entry_device) {
        object.device = m_devices.index_of(*m_entry_device);
      }
      m_request.objects.push_back(std::move(object));
    } catch (const InputError& e) {
      fail(fmt::format("objects[{}]: {}", index, e.what()));
    }
  }

  Request& m_request;
  DeviceTable m_devices;
  Where m_where = Where::before;
  std::size_t m_skip_depth = 0;
  std::string m_key;
  bool m_request_seen = false;
  bool m_seen_objects = false;
  std::optional<std::string> m_entry_object;
  std::optional<std::string> m_entry_device;
  std::optional<std::uint64_t> m_id;
  bool m_bad_id = false; // an "id" that is no unsigned integer
  bool m_placement = false;
  bool m_estimate = false;
  bool m_restore_marks = false;
  std::optional<std::int64_t> m_restore_until;
  std::optional<std::int64_t> m_release_before;
};

// Reads one document from where `in` stands, leaving `in` just after it.
Request
read_one(std::istream& in)
{
  Request request;
  RequestSax sax(request);
  nlohmann::json::sax_parse(in, &sax, nlohmann::json::input_format_t::json, false);
  sax.finish();
  return request;
}

// Appends the "objects" key and list, each object with its device's name
// unless any device will do. The objects are written straight into the
// text: a json value per object (a map of two strings) cost more memory
// and time than the document's bytes, for a batch of thousands.
void
append_objects(std::string& text,
               std::size_t count,
               const std::function<ObjectRef(std::size_t)>& object_at)
{
  text += R"(,"objects":[)";
  for (std::size_t i = 0; i < count; ++i) {
    const ObjectRef object = object_at(i);
    if (!is_valid_utf8(object.path)) {
      throw InputError(fmt::format("object \"{}\" is not valid UTF-8", printable(object.path)));
    }
    text += i == 0 ? R"({"object":)" : R"(,{"object":)";
    append_json_string(text, object.path);
    if (object.device) {
      if (!is_valid_utf8(*object.device)) {
        throw InputError("a device name is not valid UTF-8");
      }
      text += R"(,"device":)";
      append_json_string(text, *object.device);
    }
    text += '}';
  }
  text += ']';
}

} // namespace

std::string
encode_request(const Request& request)
{
  return encode_request(request, request.objects.size(), [&](std::size_t i) {
    const auto& object = request.objects[i];
    return ObjectRef{object.path,
                     object.device == Request::k_any_device
                       ? std::nullopt
                       : std::optional<std::string_view>(request.devices.at(object.device))};
  });
}

std::string
encode_request(const Request& request,
               std::size_t count,
               const std::function<ObjectRef(std::size_t)>& object)
{
  if (request.version < 1 || request.version > k_version) {
    throw InputError(fmt::format("cannot write a request document of version {}", request.version));
  }
  if (request.version >= 2 && !request.id) {
    throw InputError("a version 2 request document needs an id");
  }
  nlohmann::json document = {{"request", to_string(request.operation)},
                             {"version", request.version}};
  if (request.version >= 2) {
    document["id"] = *request.id;
  }
  if (request.placement) {
    if (request.version < 2 || request.operation != Operation::status) {
      throw InputError("only a version 2 status request document can ask for placements");
    }
    document["placement"] = true;
  }
  if (request.restore_until || request.release_before) {
    if (request.version < 3) {
      throw InputError("only a version 3 request document carries a restore expiry");
    }
    if (request.restore_until && request.operation != Operation::recall) {
      throw InputError("only a recall sets a restore expiry");
    }
    if (request.release_before && request.operation != Operation::migrate) {
      throw InputError("only a migrate releases restored replicas");
    }
  }
  if (request.estimate) {
    if (request.version < 3 || request.operation == Operation::status) {
      throw InputError("only a version 3 migrate or recall document asks for an estimate");
    }
    document["estimate"] = true;
  }
  if (request.restore_marks) {
    if (request.version < 3 || request.operation != Operation::status) {
      throw InputError("only a version 3 status document asks for restore marks");
    }
    document["restore_marks"] = true;
  }
  if (request.restore_until) {
    document["restore_until"] = *request.restore_until;
  }
  if (request.release_before) {
    document["release_before"] = *request.release_before;
  }
  if (request.storage_policy_index) {
    document["storage_policy_index"] = *request.storage_policy_index;
  }
  if (request.swift_dir) {
    document["swift_dir"] = *request.swift_dir;
  }
  std::string text;
  try {
    text = document.dump();
  } catch (const nlohmann::json::type_error&) {
    throw InputError("the request's swift_dir is not valid UTF-8");
  }
  text.pop_back(); // the header's closing brace
  append_objects(text, count, object);
  text += "}\n";
  return text;
}

Request
read_request_document(std::istream& in)
{
  Request request = read_one(in);
  in >> std::ws;
  if (in.peek() != std::char_traits<char>::eof()) {
    throw InputError("bad request document: malformed JSON: more input after the document");
  }
  return request;
}

RequestReader::RequestReader(std::istream& in)
  : m_in(in)
{
}

std::optional<Request>
RequestReader::next()
{
  m_in >> std::ws;
  if (m_in.peek() == std::char_traits<char>::eof()) {
    return std::nullopt;
  }
  return read_one(m_in);
}

std::string_view
ObjectPaths::operator[](std::size_t index) const noexcept
{
  const std::size_t begin = index == 0 ? 0 : m_ends[index - 1];
  return std::string_view(m_text).substr(begin, m_ends[index] - begin);
}

void
ObjectPaths::push_back(std::string_view path)
{
  m_text.append(path);
  m_ends.push_back(m_text.size());
}

void
ObjectPaths::clear() noexcept
{
  m_text.clear();
  m_ends.clear();
}

void
ObjectPaths::shrink_to_fit()
{
  m_text.shrink_to_fit();
  m_ends.shrink_to_fit();
}

namespace {

// Hands each path of the list to `on_path`, checked and with its leading
// '/'; see read_object_paths.
template<typename OnPath>
void
for_each_object_line(std::istream& in, OnPath on_path)
{
  std::string line; // its buffer reused
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (trim(line).empty()) {
      continue;
    }
    if (line.front() != '/') {
      line.insert(line.begin(), '/');
    }
    try {
      split_object_path(line);
    } catch (const InputError& e) {
      throw InputError(fmt::format("line {}: {}", number, e.what()));
    }
    on_path(std::string_view(line));
  }
  if (in.bad()) {
    throw Error("cannot read the object list from standard input");
  }
}

[[noreturn]] void
fail_path_spool(std::string_view what, int error)
{
  throw Error(fmt::format("{} the object list's temporary file: {}", what, std::strerror(error)));
}

} // namespace

ObjectPaths
read_object_paths(std::istream& in)
{
  ObjectPaths paths;
  for_each_object_line(in, [&](std::string_view path) { paths.push_back(path); });
  paths.shrink_to_fit();
  return paths;
}

ObjectPathSpool::ObjectPathSpool(std::istream& in, std::size_t memory_bytes)
{
  for_each_object_line(in, [&](std::string_view path) {
    ++m_count;
    if (m_file) {
      spill(path);
      return;
    }
    m_memory.push_back(path);
    if (m_memory.text_bytes() > memory_bytes) {
      // Too long to hold: the paths so far go to the file, then the rest.
      m_file = unlinked_temporary_file("hlm-paths");
      for (std::size_t i = 0; i < m_memory.size(); ++i) {
        spill(m_memory[i]);
      }
      m_memory.clear();
      m_memory.shrink_to_fit();
    }
  });
  if (m_file && (std::fflush(m_file.get()) != 0 || std::fseek(m_file.get(), 0, SEEK_SET) != 0)) {
    fail_path_spool("cannot write", errno);
  }
}

ObjectPathSpool::~ObjectPathSpool() = default;

// A path a line: a path holds no newline (the list was split at them).
void
ObjectPathSpool::spill(std::string_view path)
{
  if (std::fwrite(path.data(), 1, path.size(), m_file.get()) != path.size()
      || std::fputc('\n', m_file.get()) == EOF) {
    fail_path_spool("cannot write", errno);
  }
}

const ObjectPaths&
ObjectPathSpool::next_batch(std::size_t count)
{
  m_batch.clear();
  const std::size_t end = std::min(m_count, m_next + count);
  for (; m_next < end; ++m_next) {
    if (!m_file) {
      m_batch.push_back(m_memory[m_next]);
      continue;
    }
    m_line.clear();
    std::FILE* file = m_file.get();
    for (int c = ::getc_unlocked(file); c != '\n'; c = ::getc_unlocked(file)) {
      if (c == EOF) {
        fail_path_spool("cannot read", std::ferror(file) ? errno : EIO);
      }
      m_line += static_cast<char>(c);
    }
    m_batch.push_back(m_line);
  }
  return m_batch;
}

Request
read_object_lines(std::istream& in, Operation operation)
{
  const ObjectPaths paths = read_object_paths(in);
  Request request;
  request.operation = operation;
  request.objects.reserve(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    request.objects.push_back({std::string(paths[i]), Request::k_any_device});
  }
  return request;
}

} // namespace hlm::protocol
