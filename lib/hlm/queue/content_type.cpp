#include <hlm/queue/content_type.hpp>
#include <hlm/util/strings.hpp>

#include <algorithm>
#include <string>

namespace hlm::queue {

std::optional<std::string_view>
parameter_of(std::string_view content_type, std::string_view key)
{
  std::size_t pos = content_type.find(';');
  while (pos != std::string_view::npos) {
    auto parameter = content_type.substr(pos + 1);
    const auto next = parameter.find(';');
    parameter = trim(parameter.substr(0, next));
    if (parameter.substr(0, key.size()) == key) {
      return parameter.substr(key.size());
    }
    pos = next == std::string_view::npos ? next : pos + 1 + next;
  }
  return std::nullopt;
}

std::optional<long long>
number_parameter(std::string_view content_type, std::string_view key, long long max)
{
  const auto value = parameter_of(content_type, key);
  if (!value || value->empty() || value->size() > 12
      || !std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const auto number = parse_int(*value);
  if (!number || *number < 0 || *number > max) {
    return std::nullopt;
  }
  return number;
}

std::string
media_type_of(std::string_view content_type)
{
  return to_lower(trim(content_type.substr(0, content_type.find(';'))));
}

} // namespace hlm::queue
