#include <hlm/queue/content_type.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/util/clock.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>
#include <hlm/util/utc_time.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <optional>
#include <vector>

namespace hlm::queue {

namespace {

constexpr std::string_view k_legacy_separator = "--";

bool
is_digit(char c)
{
  return c >= '0' && c <= '9';
}

bool
all_digits(std::string_view text)
{
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

// "YYYYmmddHHMMSS.mmm": the shape only. Names sort by it, so any 18 such
// characters order correctly; calendar checks would only reject entries an
// operator may still want to see and remove.
bool
is_submitted(std::string_view text)
{
  return text.size() == 18 && all_digits(text.substr(0, 14)) && text[14] == '.'
         && all_digits(text.substr(15));
}

class Decoder
{
public:
  explicit Decoder(std::string_view name)
    : m_name(name)
  {
  }

  [[noreturn]] void
  fail(std::string_view what) const
  {
    throw InputError(fmt::format("queue entry \"{}\": {}", printable(m_name), what));
  }

  Entry
  decode() const
  {
    if (!is_valid_utf8(m_name)) {
      throw InputError(fmt::format("queue entry \"{}\" is not valid UTF-8", printable(m_name)));
    }
    if (m_name.find('\0') != std::string_view::npos) {
      fail("contains a NUL byte");
    }
    if (!m_name.empty() && m_name.front() == '/') {
      return decode_fields(split(m_name.substr(1), "/"), "/");
    }
    if (m_name.find(k_legacy_separator) != std::string_view::npos) {
      return decode_fields(split(m_name, k_legacy_separator), k_legacy_separator);
    }
    fail("neither \"/<submitted>/<op>/<account>/<container>/<policy>[/<object>]\""
         " nor the legacy \"<submitted>--<op>--...\" form");
  }

private:
  struct Fields
  {
    std::vector<std::string_view> head; // submitted, op, account, container, policy
    std::optional<std::string_view> object;
  };

  // The first five fields, separated by `separator`, and the rest after one
  // more separator as the object.
  Fields
  split(std::string_view text, std::string_view separator) const
  {
    Fields fields;
    for (int i = 0; i < 4; ++i) {
      const auto end = text.find(separator);
      if (end == std::string_view::npos) {
        fail(
          fmt::format("has {} fields separated by \"{}\", expected at least 5", i + 1, separator));
      }
      fields.head.push_back(text.substr(0, end));
      text.remove_prefix(end + separator.size());
    }
    const auto end = text.find(separator);
    fields.head.push_back(text.substr(0, end));
    if (end != std::string_view::npos) {
      fields.object = text.substr(end + separator.size());
    }
    return fields;
  }

  Entry
  decode_fields(const Fields& fields, std::string_view separator) const
  {
    Entry entry;
    const auto submitted = fields.head[0];
    if (!is_submitted(submitted)) {
      fail(fmt::format("submitted time \"{}\" is not YYYYmmddHHMMSS.mmm", printable(submitted)));
    }
    entry.submitted = submitted;

    const auto op_text = fields.head[1];
    const auto operation = parse_operation(op_text);
    if (!operation || *operation == Operation::status) {
      fail(
        fmt::format("unknown operation \"{}\" (expected migrate or recall)", printable(op_text)));
    }
    entry.operation = *operation;

    if (fields.head[2].empty()) {
      fail("empty account");
    }
    if (fields.head[3].empty()) {
      fail("empty container");
    }
    if (fields.head[2].find('/') != std::string_view::npos) {
      fail(fmt::format("account \"{}\" contains '/'", printable(fields.head[2])));
    }
    if (fields.head[3].find('/') != std::string_view::npos) {
      fail(fmt::format("container \"{}\" contains '/'", printable(fields.head[3])));
    }
    entry.target.account = fields.head[2];
    entry.target.container = fields.head[3];

    const auto policy_text = fields.head[4];
    const auto policy = all_digits(policy_text) ? parse_int(policy_text) : std::nullopt;
    if (!policy) {
      fail(fmt::format("policy index \"{}\" is not a number", printable(policy_text)));
    }
    if (*policy > INT_MAX) {
      fail(fmt::format("policy index \"{}\" is out of range", printable(policy_text)));
    }
    entry.policy_index = static_cast<int>(*policy);

    if (fields.object) {
      if (fields.object->empty()) {
        fail(fmt::format("empty object name after \"{}\"", separator));
      }
      entry.target.object = *fields.object;
    }
    return entry;
  }

  std::string_view m_name;
};

[[noreturn]] void
encode_fail(std::string_view what)
{
  throw InputError(fmt::format("cannot encode queue entry: {}", what));
}

void
check_part(std::string_view kind, std::string_view value, bool slash_allowed)
{
  if (value.empty()) {
    encode_fail(fmt::format("empty {}", kind));
  }
  if (!is_valid_utf8(value)) {
    encode_fail(fmt::format("{} \"{}\" is not valid UTF-8", kind, printable(value)));
  }
  if (value.find('\0') != std::string_view::npos) {
    encode_fail(fmt::format("{} \"{}\" contains a NUL byte", kind, printable(value)));
  }
  if (!slash_allowed && value.find('/') != std::string_view::npos) {
    encode_fail(fmt::format("{} \"{}\" contains '/'", kind, printable(value)));
  }
}

} // namespace

std::string
encode_entry(const Entry& entry)
{
  if (!is_submitted(entry.submitted)) {
    encode_fail(
      fmt::format("submitted time \"{}\" is not YYYYmmddHHMMSS.mmm", printable(entry.submitted)));
  }
  if (entry.operation == Operation::status) {
    encode_fail("only migrate and recall requests are queued, not status");
  }
  if (entry.policy_index < 0) {
    encode_fail(fmt::format("negative policy index {}", entry.policy_index));
  }
  check_part("account", entry.target.account, false);
  check_part("container", entry.target.container, false);
  std::string name = fmt::format("/{}/{}/{}/{}/{}",
                                 entry.submitted,
                                 to_string(entry.operation),
                                 entry.target.account,
                                 entry.target.container,
                                 entry.policy_index);
  if (!entry.target.object.empty()) {
    check_part("object", entry.target.object, true);
    name += '/';
    name += entry.target.object;
  }
  return name;
}

Entry
decode_entry(std::string_view name)
{
  return Decoder(name).decode();
}

std::string
format_submitted(std::chrono::system_clock::time_point time)
{
  return format_utc(std::chrono::floor<std::chrono::microseconds>(time), "%Y%m%d%H%M%S.%3N");
}

bool
concerns(const Entry& entry, const Target& query)
{
  if (entry.target.account != query.account) {
    return false;
  }
  if (query.container.empty()) {
    return true; // the whole account
  }
  if (entry.target.container != query.container) {
    return false;
  }
  return query.object.empty() || entry.target.object.empty() || entry.target.object == query.object;
}

std::optional<std::size_t>
parse_copies(std::string_view text)
{
  if (text == "all") {
    return k_all_copies;
  }
  if (text.empty() || text.size() > 4
      || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::size_t value = 0;
  for (const char c : text) {
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  if (value < 1 || value > k_max_copies) {
    return std::nullopt;
  }
  return value;
}

std::string
format_copies(std::size_t copies)
{
  return copies == k_all_copies ? std::string("all") : std::to_string(copies);
}

std::optional<std::size_t>
copies_of(std::string_view content_type)
{
  const auto value = parameter_of(content_type, k_copies_parameter);
  return value ? parse_copies(*value) : std::nullopt;
}

std::string
with_copies(std::string content_type, std::optional<std::size_t> copies)
{
  if (copies) {
    content_type += fmt::format("; {}{}", k_copies_parameter, format_copies(*copies));
  }
  return content_type;
}

std::optional<int>
parse_priority(std::string_view text)
{
  if (text == "low") {
    return k_priority_low;
  }
  if (text == "normal") {
    return k_priority_normal;
  }
  if (text == "high") {
    return k_priority_high;
  }
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '0' + k_max_priority) {
    return text[0] - '0';
  }
  return std::nullopt;
}

int
default_priority(Operation operation)
{
  return operation == Operation::recall ? k_priority_high : k_priority_normal;
}

std::optional<int>
priority_of(std::string_view content_type)
{
  const auto value = parameter_of(content_type, k_priority_parameter);
  return value ? parse_priority(*value) : std::nullopt;
}

std::string
with_priority(std::string content_type, std::optional<int> priority)
{
  if (priority) {
    content_type += fmt::format("; {}{}", k_priority_parameter, *priority);
  }
  return content_type;
}

std::optional<int>
days_of(std::string_view content_type)
{
  const auto days = number_parameter(content_type, k_days_parameter, k_max_days);
  if (!days || *days < 1) {
    return std::nullopt;
  }
  return static_cast<int>(*days);
}

std::string
with_days(std::string content_type, std::optional<int> days)
{
  if (days) {
    content_type += fmt::format("; {}{}", k_days_parameter, *days);
  }
  return content_type;
}

std::optional<std::int64_t>
release_of(std::string_view content_type)
{
  const auto release = number_parameter(content_type, k_release_parameter, k_max_unix_seconds);
  if (!release) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*release);
}

std::string
with_release(std::string content_type, std::optional<std::int64_t> release)
{
  if (release) {
    content_type += fmt::format("; {}{}", k_release_parameter, *release);
  }
  return content_type;
}

std::string
with_parameters_of(std::string content_type, std::string_view from)
{
  return with_release(with_days(with_priority(with_copies(std::move(content_type), copies_of(from)),
                                              priority_of(from)),
                                days_of(from)),
                      release_of(from));
}

} // namespace hlm::queue
