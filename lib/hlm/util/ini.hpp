#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlm {

// An INI file as Swift reads its own: Python's configparser.ConfigParser as
// readconf() and paste.deploy create it. Sections in file order; keys
// lower-cased, section names not; "key = value" or "key: value", the key
// ending at the first delimiter; whole-line comments only ('#' or ';'
// after any indentation), so "x = 1  # note" is the value "1  # note";
// lines of any length; an indented line continues the value above it
// (joined with newlines); a section or a key given twice is an error
// (strict), except [DEFAULT] headers; values with "%(" are interpolated as
// Swift's NicerInterpolation does ("%(name)s", "%%"). No [DEFAULT]
// inheritance is applied: callers that want Swift's fallback ask for it
// explicitly with get_with_default().
class IniFile
{
public:
  using Entries = std::vector<std::pair<std::string, std::string>>;

  // Throws hlm::ConfigError naming the file (and line) when it cannot be
  // read or parsed.
  static IniFile load(const std::filesystem::path& path);
  static IniFile parse(std::string_view text, std::string source);

  const std::string& source() const;
  bool has_section(std::string_view name) const;
  std::vector<std::string> section_names() const;
  // Null when the section does not exist.
  const Entries* section(std::string_view name) const;
  std::optional<std::string> get(std::string_view section, std::string_view key) const;
  // `section`'s value, else [DEFAULT]'s, as paste.deploy resolves it.
  std::optional<std::string> get_with_default(std::string_view section, std::string_view key) const;

private:
  std::string m_source;
  std::vector<std::pair<std::string, Entries>> m_sections;
};

} // namespace hlm
