#include <hlm/util/error.hpp>
#include <hlm/util/ini.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <fmt/std.h>
#include <ini.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hlm {

int
ini_handler(void* user, const char* section, const char* name, const char* value)
{
  auto& ini = *static_cast<IniFile*>(user);
  if (ini.m_sections.empty() || ini.m_sections.back().first != section) {
    ini.m_sections.emplace_back(section, IniFile::Entries{});
  }
  if (!name) {
    return 1; // a section header with no keys yet
  }
  auto& entries = ini.m_sections.back().second;
  std::string key = to_lower(name);
  for (auto& [existing, existing_value] : entries) {
    if (existing == key) {
      existing_value = value;
      return 1;
    }
  }
  entries.emplace_back(std::move(key), value);
  return 1;
}

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

IniFile
IniFile::parse(std::string_view text, std::string source)
{
  IniFile ini;
  ini.m_source = std::move(source);
  const std::string copy(text); // inih wants a NUL-terminated string
  const int result = ini_parse_string(copy.c_str(), ini_handler, &ini);
  if (result > 0) {
    throw ConfigError(
      fmt::format("cannot parse \"{}\": line {}: not a section header, "
                  "`key = value` or comment",
                  ini.m_source,
                  result));
  }
  if (result < 0) {
    throw ConfigError(fmt::format("cannot parse \"{}\"", ini.m_source));
  }
  // Sections repeated later in the file were appended as new entries;
  // merge them so each name appears once.
  std::vector<std::pair<std::string, Entries>> merged;
  for (auto& [name, entries] : ini.m_sections) {
    // Captured by name: clang before 16 cannot capture structured bindings.
    auto it = std::find_if(merged.begin(), merged.end(), [&name = name](const auto& s) {
      return s.first == name;
    });
    if (it == merged.end()) {
      merged.emplace_back(name, std::move(entries));
      continue;
    }
    for (auto& [key, value] : entries) {
      auto kv = std::find_if(it->second.begin(),
                             it->second.end(),
                             [&key = key](const auto& e) { return e.first == key; });
      if (kv == it->second.end()) {
        it->second.emplace_back(key, value);
      } else {
        kv->second = value;
      }
    }
  }
  ini.m_sections = std::move(merged);
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
