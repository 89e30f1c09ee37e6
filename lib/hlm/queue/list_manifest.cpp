#include <hlm/queue/content_type.hpp>
#include <hlm/queue/list_manifest.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/json_text.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <random>
#include <utility>

namespace hlm::queue {

namespace {

// The longest line a manifest may hold: a name of k_max_listed_name_bytes
// bytes every one of which JSON escapes as \u00XX, with its quotes; the
// header's account and container are shorter than that in Swift.
constexpr std::size_t k_max_line_bytes = 6 * k_max_listed_name_bytes + 2;

constexpr std::size_t k_list_id_random_digits = 16;
constexpr std::string_view k_submitted_example = "20000101000000.000";

constexpr std::string_view k_count_parameter = "count=";
constexpr std::string_view k_done_parameter = "done=";
constexpr std::string_view k_failed_parameter = "failed=";
// Beyond any list a submission makes (a 10-million-line list is the largest
// tested), short of what parse_int takes.
constexpr long long k_max_count_read = 999'999'999'999;

// A name in a message: printable, cut after k_json_quote_bytes bytes.
std::string
brief_name(std::string_view name)
{
  if (name.size() <= k_json_quote_bytes) {
    return printable(name);
  }
  return printable(name.substr(0, k_json_quote_bytes)) + "...";
}

// encode_entry's checks on the header: an entry of the container, under
// any submission time, must encode.
void
check_header(const ListHeader& header)
{
  encode_entry(Entry{std::string(k_submitted_example),
                     header.operation,
                     Target{header.account, header.container, {}},
                     header.policy_index});
}

// Why `name` cannot be in a manifest, or "".
std::string
name_problem(std::string_view name)
{
  if (name.empty()) {
    return "an empty object name";
  }
  if (name.size() > k_max_listed_name_bytes) {
    return fmt::format("an object name of {} bytes (at most {})",
                       name.size(),
                       k_max_listed_name_bytes);
  }
  if (!is_valid_utf8(name) || name.find('\0') != std::string_view::npos) {
    return fmt::format("object name {} is not valid UTF-8 without NUL", brief_name(name));
  }
  return {};
}

} // namespace

std::string
make_list_id(std::string_view submitted)
{
  std::random_device random;
  const std::uint64_t value = (static_cast<std::uint64_t>(random()) << 32U) ^ random();
  return fmt::format("{}-{:016x}", submitted, value);
}

bool
is_list_id(std::string_view id)
{
  const std::size_t digits_at = k_submitted_example.size() + 1;
  if (id.size() != digits_at + k_list_id_random_digits || id[digits_at - 1] != '-') {
    return false;
  }
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 14) {
      if (c != '.') {
        return false;
      }
    } else if (i == digits_at - 1) {
      continue;
    } else if (i < digits_at ? (c < '0' || c > '9')
                             : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

ManifestWriter::ManifestWriter(const ListHeader& header, Sink sink)
  : m_sink(std::move(sink))
{
  check_header(header);
  const nlohmann::json line = {{"format", k_manifest_format},
                               {"operation", to_string(header.operation)},
                               {"account", header.account},
                               {"container", header.container},
                               {"policy", header.policy_index}};
  m_sink(line.dump() + '\n');
}

void
ManifestWriter::add(std::string_view name)
{
  if (m_finished) {
    throw InputError("a manifest takes no names after its last line");
  }
  if (auto problem = name_problem(name); !problem.empty()) {
    throw InputError(fmt::format("a list cannot hold {}", problem));
  }
  if (m_count > 0 && name <= m_last) {
    throw InputError(
      fmt::format("list names out of order: {} after {}", brief_name(name), brief_name(m_last)));
  }
  m_sink(nlohmann::json(name).dump() + '\n');
  m_last.assign(name);
  ++m_count;
}

std::uint64_t
ManifestWriter::finish()
{
  if (!m_finished) {
    m_finished = true;
    const nlohmann::json line = {{"end", true}, {"count", m_count}};
    m_sink(line.dump() + '\n');
  }
  return m_count;
}

ManifestReader::ManifestReader(std::string what, OnName on_name)
  : m_what(std::move(what)),
    m_on_name(std::move(on_name))
{
}

void
ManifestReader::feed(std::string_view bytes)
{
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    const auto piece = bytes.substr(0, newline);
    if (m_pending.size() + piece.size() > k_max_line_bytes) {
      ++m_line;
      refuse(fmt::format("a line longer than {} bytes", k_max_line_bytes));
    }
    if (newline == std::string_view::npos) {
      m_pending.append(piece);
      return;
    }
    ++m_line;
    if (m_pending.empty()) {
      take_line(piece);
    } else {
      m_pending.append(piece);
      take_line(m_pending);
      m_pending.clear();
    }
    bytes.remove_prefix(newline + 1);
  }
}

std::uint64_t
ManifestReader::finish()
{
  if (!m_pending.empty()) {
    ++m_line;
    refuse("the last line has no newline (the manifest was cut)");
  }
  if (!m_header) {
    refuse("it is empty");
  }
  if (!m_ended) {
    refuse(fmt::format("it ends after {} without its last line (the manifest was cut)",
                       counted(m_count, "name", "names")));
  }
  return m_count;
}

void
ManifestReader::take_line(std::string_view line)
{
  if (m_ended) {
    refuse("a line after the last line");
  }
  if (!m_header) {
    take_header(line);
  } else if (!line.empty() && line.front() == '"') {
    take_name(line);
  } else {
    take_end(line);
  }
}

void
ManifestReader::take_header(std::string_view line)
{
  const auto value = nlohmann::json::parse(line, nullptr, false);
  if (!value.is_object() || value.value("format", nlohmann::json()) != k_manifest_format) {
    refuse(
      fmt::format("not a format-{} manifest header: {}", k_manifest_format, quote_start(line)));
  }
  ListHeader header;
  try {
    const auto operation = parse_operation(value.at("operation").get<std::string>());
    if (!operation) {
      refuse(fmt::format("unknown operation in the header: {}", quote_start(line)));
    }
    header.operation = *operation;
    header.account = value.at("account").get<std::string>();
    header.container = value.at("container").get<std::string>();
    header.policy_index = value.at("policy").get<int>();
  } catch (const nlohmann::json::exception&) {
    refuse(fmt::format("a header without operation, account, container and policy: {}",
                       quote_start(line)));
  }
  try {
    check_header(header);
  } catch (const InputError& e) {
    refuse(e.what());
  }
  m_header = std::move(header);
}

void
ManifestReader::take_name(std::string_view line)
{
  const auto value = nlohmann::json::parse(line, nullptr, false);
  if (!value.is_string()) {
    refuse(fmt::format("not a JSON string: {}", quote_start(line)));
  }
  const auto& name = value.get_ref<const std::string&>();
  if (auto problem = name_problem(name); !problem.empty()) {
    refuse(problem);
  }
  if (m_count > 0 && name <= m_last) {
    refuse(fmt::format("{} is not after {} (names must be sorted, each once)",
                       brief_name(name),
                       brief_name(m_last)));
  }
  m_last = name;
  ++m_count;
  m_on_name(name);
}

void
ManifestReader::take_end(std::string_view line)
{
  const auto value = nlohmann::json::parse(line, nullptr, false);
  if (!value.is_object() || value.value("end", false) != true) {
    refuse(fmt::format("neither a name nor the last line: {}", quote_start(line)));
  }
  const auto count = value.value("count", nlohmann::json());
  if (!count.is_number_unsigned() || count.get<std::uint64_t>() != m_count) {
    refuse(
      fmt::format("the last line says {} names, the manifest holds {}", brief(count), m_count));
  }
  m_ended = true;
}

void
ManifestReader::refuse(std::string_view why) const
{
  throw InputError(fmt::format("{}, line {}: {}", m_what, m_line, why));
}

std::string
list_content_type(const ListProgress& progress)
{
  return fmt::format("{}; {}{}; {}{}; {}{}",
                     k_list_content_type,
                     k_count_parameter,
                     progress.count,
                     k_done_parameter,
                     progress.done,
                     k_failed_parameter,
                     progress.failed);
}

std::optional<ListProgress>
list_progress_of(std::string_view content_type)
{
  if (media_type_of(content_type) != k_list_content_type) {
    return std::nullopt;
  }
  const auto count = number_parameter(content_type, k_count_parameter, k_max_count_read);
  const auto done = number_parameter(content_type, k_done_parameter, k_max_count_read);
  const auto failed = number_parameter(content_type, k_failed_parameter, k_max_count_read);
  if (!count || !done || !failed || *done > *count || *failed > *done) {
    return std::nullopt;
  }
  return ListProgress{static_cast<std::uint64_t>(*count),
                      static_cast<std::uint64_t>(*done),
                      static_cast<std::uint64_t>(*failed)};
}

} // namespace hlm::queue
