#include <hlm/util/error.hpp>
#include <hlm/util/ini.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <fmt/std.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace hlm {

namespace {

// Python's str.strip() for the whitespace a config line can hold.
constexpr std::string_view k_space = " \t\r\f\v";

std::string_view
strip(std::string_view text)
{
  const auto begin = text.find_first_not_of(k_space);
  if (begin == std::string_view::npos) {
    return {};
  }
  return text.substr(begin, text.find_last_not_of(k_space) - begin + 1);
}

// Swift's NicerInterpolation over configparser's BasicInterpolation: a value
// without "%(" is taken as it is; otherwise "%%" is a percent sign and
// "%(name)s" the value of `name` in the same section or [DEFAULT].
std::string
interpolate(const IniFile& ini,
            const std::string& section,
            const std::string& key,
            const std::string& value,
            int depth = 0)
{
  if (value.find("%(") == std::string::npos) {
    return value;
  }
  const auto bad = [&](std::string_view why) {
    return ConfigError(fmt::format("cannot parse \"{}\": [{}] {} = {}: {}",
                                   ini.source(),
                                   section,
                                   key,
                                   printable(value),
                                   why));
  };
  if (depth > 10) {
    throw bad("interpolation nested more than 10 deep");
  }
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    if (i + 1 < value.size() && value[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    const auto close = value.find(")s", i);
    if (i + 1 >= value.size() || value[i + 1] != '(' || close == std::string::npos) {
      throw bad("'%' must be followed by '%' or '(name)s'");
    }
    const std::string name = to_lower(value.substr(i + 2, close - i - 2));
    const auto referenced = ini.get_with_default(section, name);
    if (!referenced) {
      throw bad(fmt::format("no option \"{}\" to interpolate", printable(name)));
    }
    out += interpolate(ini, section, name, *referenced, depth + 1);
    i = close + 1;
  }
  return out;
}

} // namespace

IniFile
IniFile::load(const std::filesystem::path& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string());
}

namespace {

using Sections = std::vector<std::pair<std::string, IniFile::Entries>>;

// The first line of `text`, without its line ending, taken off `text`.
std::string_view
take_line(std::string_view& text)
{
  const auto newline = text.find('\n');
  std::string_view line = text.substr(0, newline);
  text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

// The sections and raw (not yet interpolated) values of one file, read
// line by line as configparser's _read() does.
class RawParser
{
public:
  explicit RawParser(const std::string& source)
    : m_source(source)
  {
  }

  void read_line(std::size_t number, std::string_view line);
  // The sections, multi-line values joined.
  Sections finish();

private:
  // Takes a [section] header; false when `stripped` is none.
  bool read_header(std::size_t number, std::string_view stripped);
  // Takes a `key = value` or `key: value` line.
  void read_entry(std::size_t number, std::string_view stripped);
  ConfigError error(std::size_t line, std::string_view what) const;

  const std::string& m_source;
  Sections m_sections;
  std::size_t m_section = 0; // index in m_sections, valid once one was named
  bool m_in_section = false;
  std::string m_section_name;
  std::set<std::string> m_seen_sections;                     // strict: no section twice
  std::set<std::pair<std::string, std::string>> m_seen_keys; // nor a key twice in one
  std::vector<std::string>* m_value = nullptr;               // the lines of the value being read
  std::vector<std::vector<std::string>> m_lines_of; // parallel to the entries, joined at the end
  std::vector<std::pair<std::size_t, std::size_t>> m_places; // section, entry
  std::size_t m_indent_level = 0;
};

ConfigError
RawParser::error(std::size_t line, std::string_view what) const
{
  return ConfigError(fmt::format("cannot parse \"{}\": line {}: {}", m_source, line, what));
}

void
RawParser::read_line(std::size_t number, std::string_view line)
{
  const auto stripped = strip(line);
  const bool comment = !stripped.empty() && (stripped.front() == '#' || stripped.front() == ';');
  if (stripped.empty() || comment) {
    if (!comment && m_value) {
      m_value->emplace_back(); // a blank line inside a value, kept if more follows
    }
    return;
  }
  const std::size_t indent = line.find_first_not_of(k_space);
  if (m_value && indent > m_indent_level) {
    m_value->emplace_back(stripped); // a continuation line
    return;
  }
  m_indent_level = indent;
  m_value = nullptr;
  if (read_header(number, stripped)) {
    return;
  }
  if (!m_in_section) {
    throw error(number, "a key before any [section] header");
  }
  read_entry(number, stripped);
}

bool
RawParser::read_header(std::size_t number, std::string_view stripped)
{
  if (stripped.front() != '[' || stripped.find(']', 1) == std::string_view::npos) {
    return false;
  }
  // configparser's "\[(?P<header>.+)\]": up to the last ']' on the line.
  const auto close = stripped.rfind(']');
  if (close <= 1) {
    return false;
  }
  m_section_name = std::string(stripped.substr(1, close - 1));
  if (m_section_name != "DEFAULT" && !m_seen_sections.insert(m_section_name).second) {
    throw error(number, fmt::format("section [{}] appears twice", printable(m_section_name)));
  }
  const auto it = std::find_if(m_sections.begin(), m_sections.end(), [&](const auto& s) {
    return s.first == m_section_name;
  });
  m_section = static_cast<std::size_t>(it - m_sections.begin());
  if (it == m_sections.end()) {
    m_sections.emplace_back(m_section_name, IniFile::Entries{});
  }
  m_in_section = true;
  return true;
}

void
RawParser::read_entry(std::size_t number, std::string_view stripped)
{
  // configparser's OPTCRE: the key is what precedes the first '=' or ':'.
  const auto delimiter = stripped.find_first_of("=:");
  const auto key_text = delimiter == std::string_view::npos ? std::string_view{}
                                                            : strip(stripped.substr(0, delimiter));
  if (key_text.empty()) {
    throw error(number, "not a [section] header, `key = value` or comment");
  }
  std::string key = to_lower(key_text);
  if (!m_seen_keys.emplace(m_section_name, key).second) {
    throw error(
      number,
      fmt::format("\"{}\" appears twice in [{}]", printable(key), printable(m_section_name)));
  }
  auto& entries = m_sections[m_section].second;
  entries.emplace_back(std::move(key), std::string{});
  m_lines_of.push_back({std::string(strip(stripped.substr(delimiter + 1)))});
  m_places.emplace_back(m_section, entries.size() - 1);
  m_value = &m_lines_of.back();
}

Sections
RawParser::finish()
{
  // Multi-line values: joined with newlines, trailing blank lines dropped
  // (configparser's _join_multiline_values).
  for (std::size_t i = 0; i < m_places.size(); ++i) {
    auto& lines = m_lines_of[i];
    while (lines.size() > 1 && lines.back().empty()) {
      lines.pop_back();
    }
    std::string joined;
    for (std::size_t k = 0; k < lines.size(); ++k) {
      joined += (k ? "\n" : "") + lines[k];
    }
    m_sections[m_places[i].first].second[m_places[i].second].second = std::move(joined);
  }
  m_value = nullptr;
  return std::move(m_sections);
}

} // namespace

// Python's configparser.ConfigParser as Swift's readconf() and paste.deploy
// create it (strict, no inline comments, "=" or ":" delimiters), read line by
// line as its _read() does.
IniFile
IniFile::parse(std::string_view text, std::string source)
{
  IniFile ini;
  ini.m_source = std::move(source);
  RawParser parser(ini.m_source);
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    parser.read_line(number, take_line(text));
  }
  ini.m_sections = parser.finish();
  // Interpolation needs every raw value.
  IniFile raw = ini;
  for (auto& [name, entries] : ini.m_sections) {
    for (auto& [key, text_value] : entries) {
      text_value = interpolate(raw, name, key, text_value);
    }
  }
  return ini;
}

const std::string&
IniFile::source() const
{
  return m_source;
}

bool
IniFile::has_section(std::string_view name) const
{
  return section(name) != nullptr;
}

std::vector<std::string>
IniFile::section_names() const
{
  std::vector<std::string> names;
  for (const auto& [name, entries] : m_sections) {
    names.push_back(name);
  }
  return names;
}

const IniFile::Entries*
IniFile::section(std::string_view name) const
{
  for (const auto& [section_name, entries] : m_sections) {
    if (section_name == name) {
      return &entries;
    }
  }
  return nullptr;
}

std::optional<std::string>
IniFile::get(std::string_view section_name, std::string_view key) const
{
  const Entries* entries = section(section_name);
  if (!entries) {
    return std::nullopt;
  }
  const std::string lower = to_lower(key);
  for (const auto& [name, value] : *entries) {
    if (name == lower) {
      return value;
    }
  }
  return std::nullopt;
}

std::optional<std::string>
IniFile::get_with_default(std::string_view section_name, std::string_view key) const
{
  if (auto value = get(section_name, key)) {
    return value;
  }
  return get("DEFAULT", key);
}

} // namespace hlm
