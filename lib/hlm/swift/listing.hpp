#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::swift {

// Which part of a listing to walk, and how many names per request.
struct ListOptions
{
  std::string prefix;     // only names starting with this
  std::string marker;     // only names after this one
  std::string end_marker; // only names before this one
  int limit = 10'000;     // names per page: 1 to 10000 (Swift's maximum)
};

struct ObjectEntry
{
  std::string name;
  std::uint64_t bytes = 0;
  std::string hash; // the ETag: MD5 hex for plain objects
  std::string content_type;
  std::string last_modified; // as Swift gives it: "2024-05-01T12:00:00.123450"
};

struct ContainerEntry
{
  std::string name;
  std::uint64_t object_count = 0;
  std::uint64_t bytes = 0;
  std::string last_modified;
};

// The query string of one page's GET: "format=json&limit=...&marker=..."
// plus prefix and end_marker when set, each value percent-encoded.
std::string listing_query(const ListOptions& options, std::string_view marker);

// One page of a JSON listing (format=json). Entries without a name (the
// "subdir" rows of delimiter listings) are skipped. Throws hlm::InputError
// when `body` is not a JSON array of objects with the documented fields.
std::vector<ObjectEntry> parse_object_listing(std::string_view body);
std::vector<ContainerEntry> parse_container_listing(std::string_view body);

} // namespace hlm::swift
