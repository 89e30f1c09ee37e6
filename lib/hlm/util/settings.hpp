#pragma once

#include <hlm/util/error.hpp>
#include <hlm/util/ini.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlm {

// A setting's value that its getter refuses. what() is the reader's
// message; the parts are there for a caller that words it otherwise.
class SettingError : public ConfigError
{
public:
  SettingError(const std::string& what, std::string key, std::string value, std::string expected);

  const std::string& key() const;
  const std::string& value() const; // as given, not made printable
  const std::string& expected() const;

private:
  std::string m_key;
  std::string m_value;
  std::string m_expected;
};

// How a choice's accepted names appear in its message: `migrate or
// premigrate`, or quoted, `"ssh" or "local"`.
enum class ChoiceNames { plain, quoted };

// The key/value settings of one config section (hlm.conf's [dispatch], an
// object server's [hlm], a connector's [hlm:NAME]). Each key is read once
// by a getter, which marks it as known; check_all_used() then rejects what
// is left, so a misspelt key is an error, never a silently ignored line.
//
// Getters return the fallback when the key is absent. For a value they
// cannot read they throw SettingError:
//   `<prefix>KEY = "VALUE" in <origin>: expected WHAT`
// where <prefix> is "FILE: " for from_section() and empty otherwise. Typed
// getters ignore spaces around the value; take() returns it as given.
class Settings
{
public:
  using Values = std::vector<std::pair<std::string, std::string>>;

  Settings() = default;
  // `origin` names the values in messages, e.g. `[hlm:dummy] in
  // /etc/swift/object-server.conf`.
  Settings(std::string origin, Values values);
  // Section `section` of `ini` (no values when it is absent), its values
  // trimmed. Messages start with the file and call the section
  // `[section]`: `hlm.conf: unknown key "x" in [dispatch]`.
  static Settings from_section(const IniFile& ini, const std::string& section);

  const std::string& origin() const;

  std::optional<std::string> take(std::string_view key);
  std::string take_or(std::string_view key, std::string_view fallback);
  // The value of whichever of `keys` (spellings of one setting) the
  // section gives last, as if they were one key.
  std::optional<std::string> take_last_of(std::initializer_list<std::string_view> keys);
  // The value; throws hlm::ConfigError `missing "KEY" in <origin>: WHY`
  // when it is absent.
  std::string require(std::string_view key, std::string_view why);

  // A whole number from `min` to `max` ("a number from MIN to MAX").
  long long number(std::string_view key, long long fallback, long long min, long long max);
  // How many or how much: a whole number from 1 to `max` ("a whole number
  // from 1 to MAX"; no units, no fractions).
  long long count(std::string_view key, long long fallback, long long max);
  // Whole seconds from `min` to `max` ("a number of seconds from MIN to MAX").
  std::chrono::seconds duration(std::string_view key,
                                std::chrono::seconds fallback,
                                std::chrono::seconds min,
                                std::chrono::seconds max);
  // A finite decimal number, at least 0 ("a number >= 0") or, for
  // `above_zero`, more than 0 ("a positive number").
  enum class Minimum { zero, above_zero };
  double real(std::string_view key, double fallback, Minimum minimum);
  // Bytes, with an optional binary suffix: "1073741824", "64M", "1G",
  // "18T" (K, M, G, T; any case). More than 0, or at least 0 with
  // Minimum::zero.
  std::uint64_t size(std::string_view key,
                     std::uint64_t fallback,
                     Minimum minimum = Minimum::above_zero);
  // Swift's true words ("true", "1", "yes", "on", "t", "y") or false words
  // ("false", "0", "no", "off", "f", "n"), any case; anything else is an
  // error, unlike Swift's config_true_value.
  bool boolean(std::string_view key, bool fallback);
  // Comma-separated items, trimmed, empty items dropped (split_list).
  std::vector<std::string> list(std::string_view key, std::vector<std::string> fallback);
  // The value `choices` pairs with the given name ("NAME or NAME").
  template<typename T>
  T choice(std::string_view key,
           T fallback,
           std::initializer_list<std::pair<std::string_view, T>> choices,
           ChoiceNames names = ChoiceNames::plain);

  // Throws the SettingError for `key` = `value`, saying what was expected:
  // for checks of a caller's own.
  [[noreturn]] void reject(std::string_view key,
                           std::string_view value,
                           std::string_view expected) const;
  // Throws hlm::ConfigError `<prefix>unknown key "KEY" in <origin>` for the
  // first key nobody took, with a "did you mean" drawn from the keys that
  // were asked for.
  void check_all_used() const;

private:
  std::optional<std::string> take_trimmed(std::string_view key);

  std::string m_prefix;
  std::string m_origin;
  Values m_values;
  std::vector<std::string> m_taken;
};

// "a or b", "a, b or c"; each name quoted for ChoiceNames::quoted.
std::string describe_choices(const std::vector<std::string_view>& names, ChoiceNames how);

template<typename T>
T
Settings::choice(std::string_view key,
                 T fallback,
                 std::initializer_list<std::pair<std::string_view, T>> choices,
                 ChoiceNames names)
{
  const auto value = take_trimmed(key);
  if (!value) {
    return fallback;
  }
  std::vector<std::string_view> accepted;
  for (const auto& [name, result] : choices) {
    if (*value == name) {
      return result;
    }
    accepted.push_back(name);
  }
  reject(key, *value, describe_choices(accepted, names));
}

} // namespace hlm
