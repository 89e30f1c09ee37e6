#include <hlm/swift/http.hpp>
#include <hlm/swift/listing.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hlm::swift {

namespace {

nlohmann::json
parse_array(std::string_view body)
{
  auto document = nlohmann::json::parse(body, nullptr, false);
  if (document.is_discarded() || !document.is_array()) {
    throw InputError("listing is not a JSON array");
  }
  return document;
}

std::string
text(const nlohmann::json& row, const char* key, bool required)
{
  const auto it = row.find(key);
  if (it == row.end() || it->is_null()) {
    if (required) {
      throw InputError(fmt::format("listing row without \"{}\"", key));
    }
    return {};
  }
  if (!it->is_string()) {
    throw InputError(fmt::format("listing row with a non-string \"{}\"", key));
  }
  return it->get<std::string>();
}

std::uint64_t
count(const nlohmann::json& row, const char* key)
{
  const auto it = row.find(key);
  if (it == row.end() || it->is_null()) {
    return 0;
  }
  if (!it->is_number_unsigned()) {
    throw InputError(fmt::format("listing row with a bad \"{}\"", key));
  }
  return it->get<std::uint64_t>();
}

bool
is_named_row(const nlohmann::json& row)
{
  if (!row.is_object()) {
    throw InputError("listing row is not a JSON object");
  }
  return row.contains("name");
}

} // namespace

std::string
listing_query(const ListOptions& options, std::string_view marker)
{
  std::string query = fmt::format("format=json&limit={}", options.limit);
  if (!marker.empty()) {
    query += "&marker=" + encode_query_value(marker);
  }
  if (!options.prefix.empty()) {
    query += "&prefix=" + encode_query_value(options.prefix);
  }
  if (!options.end_marker.empty()) {
    query += "&end_marker=" + encode_query_value(options.end_marker);
  }
  return query;
}

std::vector<ObjectEntry>
parse_object_listing(std::string_view body)
{
  const auto document = parse_array(body);
  std::vector<ObjectEntry> entries;
  entries.reserve(document.size());
  for (const auto& row : document) {
    if (!is_named_row(row)) {
      continue;
    }
    ObjectEntry entry;
    entry.name = text(row, "name", true);
    entry.bytes = count(row, "bytes");
    entry.hash = text(row, "hash", false);
    entry.content_type = text(row, "content_type", false);
    entry.last_modified = text(row, "last_modified", false);
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<ContainerEntry>
parse_container_listing(std::string_view body)
{
  const auto document = parse_array(body);
  std::vector<ContainerEntry> entries;
  entries.reserve(document.size());
  for (const auto& row : document) {
    if (!is_named_row(row)) {
      continue;
    }
    ContainerEntry entry;
    entry.name = text(row, "name", true);
    entry.object_count = count(row, "count");
    entry.bytes = count(row, "bytes");
    entry.last_modified = text(row, "last_modified", false);
    entries.push_back(std::move(entry));
  }
  return entries;
}

} // namespace hlm::swift
