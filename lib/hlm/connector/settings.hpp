#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlm::connector {

// The key/value settings of one connector's config section. A connector
// takes the keys it knows; check_all_used() then rejects whatever is left,
// so a misspelt key is an error and not a silently ignored line.
class Settings
{
public:
  Settings() = default;
  // `origin` names the section in messages, e.g. `[hlm:dummy] in
  // /etc/swift/object-server.conf`.
  Settings(std::string origin, std::vector<std::pair<std::string, std::string>> values);

  const std::string& origin() const;
  std::optional<std::string> take(std::string_view key);
  std::string take_or(std::string_view key, std::string_view fallback);
  // Throws hlm::ConfigError naming the first key nobody took, with a "did
  // you mean" hint drawn from the keys that were asked for.
  void check_all_used() const;

private:
  std::string m_origin;
  std::vector<std::pair<std::string, std::string>> m_values;
  std::vector<std::string> m_taken;
};

} // namespace hlm::connector
