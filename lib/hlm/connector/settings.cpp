#include <hlm/connector/settings.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace hlm::connector {

Settings::Settings(std::string origin,
                   std::vector<std::pair<std::string, std::string>> values)
  : m_origin(std::move(origin)),
    m_values(std::move(values))
{
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

void
Settings::check_all_used() const
{
  for (const auto& [name, value] : m_values) {
    if (std::find(m_taken.begin(), m_taken.end(), name) != m_taken.end()) {
      continue;
    }
    std::string message =
      fmt::format("unknown key \"{}\" in {}", printable(name), m_origin);
    if (const auto hint = closest_match(name, m_taken)) {
      message += fmt::format(", did you mean \"{}\"?", *hint);
    }
    throw ConfigError(message);
  }
}

} // namespace hlm::connector
