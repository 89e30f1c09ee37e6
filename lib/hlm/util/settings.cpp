#include <hlm/util/settings.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace hlm {

SettingError::SettingError(const std::string& what,
                           std::string key,
                           std::string value,
                           std::string expected)
  : ConfigError(what),
    m_key(std::move(key)),
    m_value(std::move(value)),
    m_expected(std::move(expected))
{
}

const std::string&
SettingError::key() const
{
  return m_key;
}

const std::string&
SettingError::value() const
{
  return m_value;
}

const std::string&
SettingError::expected() const
{
  return m_expected;
}

Settings::Settings(std::string origin, Values values)
  : m_origin(std::move(origin)),
    m_values(std::move(values))
{
}

Settings
Settings::from_section(const IniFile& ini, const std::string& section)
{
  Values values;
  if (const auto* entries = ini.section(section)) {
    for (const auto& [key, value] : *entries) {
      values.emplace_back(key, trim(value));
    }
  }
  Settings settings(fmt::format("[{}]", section), std::move(values));
  settings.m_prefix = ini.source() + ": ";
  return settings;
}

const std::string&
Settings::origin() const
{
  return m_origin;
}

std::optional<std::string>
Settings::take(std::string_view key)
{
  m_taken.emplace_back(key);
  for (const auto& [name, value] : m_values) {
    if (name == key) {
      return value;
    }
  }
  return std::nullopt;
}

std::string
Settings::take_or(std::string_view key, std::string_view fallback)
{
  auto value = take(key);
  return value ? *value : std::string(fallback);
}

std::optional<std::string>
Settings::take_last_of(std::initializer_list<std::string_view> keys)
{
  for (const auto key : keys) {
    m_taken.emplace_back(key);
  }
  std::optional<std::string> last;
  for (const auto& [name, value] : m_values) {
    if (std::find(keys.begin(), keys.end(), name) != keys.end()) {
      last = value;
    }
  }
  return last;
}

std::string
Settings::require(std::string_view key, std::string_view why)
{
  auto value = take(key);
  if (!value) {
    throw ConfigError(fmt::format("{}missing \"{}\" in {}: {}", m_prefix, key, m_origin, why));
  }
  return *value;
}

std::optional<std::string>
Settings::take_trimmed(std::string_view key)
{
  auto value = take(key);
  if (value) {
    *value = std::string(trim(*value));
  }
  return value;
}

long long
Settings::number(std::string_view key, long long fallback, long long min, long long max)
{
  const auto text = take_trimmed(key);
  if (!text) {
    return fallback;
  }
  const auto value = parse_int(*text);
  if (!value || *value < min || *value > max) {
    reject(key, *text, fmt::format("a number from {} to {}", min, max));
  }
  return *value;
}

long long
Settings::count(std::string_view key, long long fallback, long long max)
{
  const auto text = take_trimmed(key);
  if (!text) {
    return fallback;
  }
  const auto value = parse_int(*text);
  if (!value || *value < 1 || *value > max) {
    reject(key, *text, fmt::format("a whole number from 1 to {}", max));
  }
  return *value;
}

std::chrono::seconds
Settings::duration(std::string_view key,
                   std::chrono::seconds fallback,
                   std::chrono::seconds min,
                   std::chrono::seconds max)
{
  const auto text = take_trimmed(key);
  if (!text) {
    return fallback;
  }
  const auto value = parse_int(*text);
  if (!value || *value < min.count() || *value > max.count()) {
    reject(key, *text, fmt::format("a number of seconds from {} to {}", min.count(), max.count()));
  }
  return std::chrono::seconds(*value);
}

double
Settings::real(std::string_view key, double fallback, Minimum minimum)
{
  const auto text = take_trimmed(key);
  if (!text) {
    return fallback;
  }
  double value = 0;
  const char* end = text->data() + text->size();
  const auto [stop, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || stop != end || !std::isfinite(value) || value < 0
      || (minimum == Minimum::above_zero && value == 0)) {
    reject(key, *text, minimum == Minimum::above_zero ? "a positive number" : "a number >= 0");
  }
  return value;
}

std::uint64_t
Settings::size(std::string_view key, std::uint64_t fallback, Minimum minimum)
{
  const auto text = take_trimmed(key);
  if (!text) {
    return fallback;
  }
  std::string_view digits = *text;
  std::uint64_t multiplier = 1;
  if (!digits.empty()) {
    const auto last = static_cast<char>(std::toupper(static_cast<unsigned char>(digits.back())));
    if (const auto suffix = std::string_view("KMGT").find(last); suffix != std::string_view::npos) {
      multiplier = std::uint64_t{1} << (10 * (suffix + 1));
      digits.remove_suffix(1);
    }
  }
  const auto number = parse_int(digits);
  const long long least = minimum == Minimum::zero ? 0 : 1;
  if (!number || *number < least || static_cast<std::uint64_t>(*number) > UINT64_MAX / multiplier) {
    reject(key, *text, "a size in bytes such as 1073741824, 64M or 1G");
  }
  return static_cast<std::uint64_t>(*number) * multiplier;
}

bool
Settings::boolean(std::string_view key, bool fallback)
{
  const auto text = take_trimmed(key);
  if (!text) {
    return fallback;
  }
  const std::string lower = to_lower(*text);
  for (const std::string_view word : {"true", "1", "yes", "on", "t", "y"}) {
    if (lower == word) {
      return true;
    }
  }
  for (const std::string_view word : {"false", "0", "no", "off", "f", "n"}) {
    if (lower == word) {
      return false;
    }
  }
  reject(key, *text, "true or false");
}

std::vector<std::string>
Settings::list(std::string_view key, std::vector<std::string> fallback)
{
  const auto text = take(key);
  return text ? split_list(*text) : fallback;
}

void
Settings::reject(std::string_view key, std::string_view value, std::string_view expected) const
{
  throw SettingError(fmt::format("{}{} = \"{}\" in {}: expected {}",
                                 m_prefix,
                                 key,
                                 printable(value),
                                 m_origin,
                                 expected),
                     std::string(key),
                     std::string(value),
                     std::string(expected));
}

void
Settings::check_all_used() const
{
  for (const auto& [name, value] : m_values) {
    if (std::find(m_taken.begin(), m_taken.end(), name) == m_taken.end()) {
      throw ConfigError(fmt::format("{}unknown key \"{}\" in {}{}",
                                    m_prefix,
                                    printable(name),
                                    m_origin,
                                    did_you_mean(name, m_taken)));
    }
  }
}

std::string
describe_choices(const std::vector<std::string_view>& names, ChoiceNames how)
{
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      text += i + 1 == names.size() ? " or " : ", ";
    }
    text += how == ChoiceNames::quoted ? fmt::format("\"{}\"", names[i]) : std::string(names[i]);
  }
  return text;
}

} // namespace hlm
