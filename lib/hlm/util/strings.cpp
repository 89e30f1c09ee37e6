#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <vector>

namespace hlm {

namespace {

// Length of the UTF-8 sequence at the start of `text`, or 0 when invalid.
std::size_t
utf8_sequence_length(std::string_view text)
{
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  const auto continuation = [&](std::size_t i) {
    return i < text.size() && (byte(i) & 0xc0) == 0x80;
  };
  const std::uint8_t lead = byte(0);
  if (lead < 0x80) {
    return 1;
  }
  if (lead >= 0xc2 && lead <= 0xdf) {
    return continuation(1) ? 2 : 0;
  }
  if (lead >= 0xe0 && lead <= 0xef) {
    if (!continuation(1) || !continuation(2)) {
      return 0;
    }
    if (lead == 0xe0 && byte(1) < 0xa0) {
      return 0; // overlong
    }
    if (lead == 0xed && byte(1) >= 0xa0) {
      return 0; // surrogate
    }
    return 3;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) {
      return 0;
    }
    if (lead == 0xf0 && byte(1) < 0x90) {
      return 0; // overlong
    }
    if (lead == 0xf4 && byte(1) >= 0x90) {
      return 0; // above U+10FFFF
    }
    return 4;
  }
  return 0;
}

} // namespace

bool
is_valid_utf8(std::string_view text)
{
  while (!text.empty()) {
    const std::size_t n = utf8_sequence_length(text);
    if (n == 0) {
      return false;
    }
    text.remove_prefix(n);
  }
  return true;
}

std::string
to_lower(std::string_view text)
{
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

std::string_view
trim(std::string_view text)
{
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<long long>
parse_int(std::string_view text)
{
  long long value = 0;
  const char* end = text.data() + text.size();
  if (text.empty()) {
    return std::nullopt;
  }
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

bool
config_true_value(std::string_view text)
{
  const std::string lower = to_lower(trim(text));
  return lower == "true" || lower == "1" || lower == "yes" || lower == "on" || lower == "t"
         || lower == "y";
}

std::optional<std::string>
closest_match(std::string_view name, std::span<const std::string> candidates)
{
  const auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
      row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  };

  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& candidate : candidates) {
    const std::size_t d = distance(name, candidate);
    if (!best || d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  // More than a third of the name changed is not a typo.
  if (best && best_distance * 3 <= std::max<std::size_t>(name.size(), 3)) {
    return best;
  }
  return std::nullopt;
}

std::string
did_you_mean(std::string_view name, std::span<const std::string> candidates)
{
  const auto hint = closest_match(name, candidates);
  return hint ? fmt::format(", did you mean \"{}\"?", *hint) : std::string();
}

std::vector<std::string>
split_list(std::string_view text)
{
  std::vector<std::string> items;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = trim(text.substr(0, comma));
    if (!item.empty()) {
      items.emplace_back(item);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return items;
}

std::string
printable(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t n = utf8_sequence_length(text);
    const auto c = static_cast<std::uint8_t>(text.front());
    if (n == 0) {
      out += fmt::format("\\x{:02x}", c);
      text.remove_prefix(1);
      continue;
    }
    if (n == 1 && (c < 0x20 || c == 0x7f || c == '\\')) {
      switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        out += fmt::format("\\x{:02x}", c);
      }
    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(n);
  }
  return out;
}

std::string
counted(std::size_t n, std::string_view singular, std::string_view plural)
{
  return fmt::format("{} {}", n, n == 1 ? singular : plural);
}

} // namespace hlm
