#pragma once

// Parameters of a queue row's content type. Rows have no body, so what an
// entry needs beyond its name (a failure reason, the retry state, a list
// request's progress) rides in its content type as parameters, which Swift
// keeps as they are and listings return ("type;k=v;k2=v2").

#include <optional>
#include <string_view>

namespace hlm::queue {

// The value of the first parameter `key` ("name=") of a content type, as
// a listing shows it ("type;k=v;k2=v2") or as written ("type; k=v").
std::optional<std::string_view> parameter_of(std::string_view content_type, std::string_view key);

// A parameter that must be plain digits (at most 12) within `max`; nullopt
// otherwise.
std::optional<long long> number_parameter(std::string_view content_type,
                                          std::string_view key,
                                          long long max);

// The type without its parameters, trimmed and lower case.
std::string media_type_of(std::string_view content_type);

} // namespace hlm::queue
