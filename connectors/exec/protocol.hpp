#pragma once

#include <hlm/connector/connector.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

// The protocol between hlm and an exec connector program, as
// hlm-connector(7) specifies it: version 1 (migrate, recall, status) and
// version 2, which adds the estimate request.
namespace hlm::connector::exec {

// The version of migrate, recall and status requests: what every program
// written for version 1 takes.
inline constexpr int k_protocol_version = 1;
// The version of estimate requests, which a version-1 program refuses.
inline constexpr int k_estimate_version = 2;
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

// The estimate request (version 2): what `operation` (migrate or recall)
// on `items` would cost, each file once, as encode_request lists them. The
// list is the estimate's "objects", not a top-level "objects" as in the
// other requests, so that a program that heeds neither version nor
// operation finds nothing to act on.
std::string encode_estimate_request(Operation operation, std::span<const Item> items);

// Every number of an estimate is at most this (2^53, the largest whole
// number a double holds exactly): room to add up many without overflow.
inline constexpr std::uint64_t k_max_estimate_number = 1ULL << 53;

// Decodes the answer to an estimate request for `items` files: the
// estimate, or nullopt when the program says it cannot estimate
// ("estimate": null). Throws hlm::InputError with the reason when the text
// is no version-2 answer: not JSON (as decode_response), not an object,
// another version, no "estimate", an "estimate" that is neither null nor
// an object, or one missing a field, or giving a field that is not a
// number from 0 to k_max_estimate_number (items, bytes, cartridges and
// mounts whole numbers; drive_seconds and wall_seconds any), or more items
// than asked about. Other keys are ignored.
std::optional<Estimate> decode_estimate(std::string_view text, std::size_t items);

} // namespace hlm::connector::exec
