#pragma once

#include <hlm/connector/connector.hpp>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

// Version 1 of the protocol between hlm and an exec connector program, as
// hlm-connector(7) specifies it.
namespace hlm::connector::exec {

inline constexpr int k_protocol_version = 1;
inline constexpr std::string_view k_protocol_name = "hlm-connector";

// The request document: protocol, version, operation and one entry per
// item, in order, each file once. One line of JSON with no newline.
// Objects and files must be valid UTF-8 (JSON cannot carry other bytes).
std::string encode_request(Operation operation, std::span<const Item> items);

// What the program said about one file.
struct Answer
{
  ObjectState state = ObjectState::unknown;
  std::optional<std::string> error;
};

using Answers = std::map<std::string, Answer, std::less<>>;

// Decodes the response to a request for `files`, keyed by file. A problem
// with one entry (a status that is no state, an error that is neither null
// nor a string, a file answered twice) becomes that file's Answer error;
// files without an entry are absent. Throws hlm::InputError with the reason
// when the text is not a version-1 response at all: not JSON (or holding a
// number beyond a double, such as 1e999), nested more than 64 levels deep,
// not an object, another version, no "objects" list, or an entry that is
// not an object, lacks a string "file" or names a file that was not
// requested. Messages quote at most 60 bytes of the response or a value.
Answers decode_response(std::string_view text, const std::set<std::string, std::less<>>& files);

} // namespace hlm::connector::exec
