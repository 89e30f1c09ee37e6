// The pickled metadata in user.swift.metadata xattrs, which any process
// that can write an object file's xattrs controls.
//
// Invariants checked (pickle.hpp, metadata.hpp): parse_metadata_pickle
// returns or throws hlm::InputError; the decoded keys and values together
// are no larger than the input; ObjectMetadata accepts the map or throws
// hlm::InputError, and its accessors agree with the map.

#include "check.hpp"

#include <hlm/diskfile/metadata.hpp>
#include <hlm/diskfile/pickle.hpp>
#include <hlm/util/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace hlm::diskfile;

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  MetadataMap map;
  try {
    map = parse_metadata_pickle(input);
  } catch (const hlm::InputError&) {
    return 0;
  }
  std::size_t decoded = 0;
  for (const auto& [key, value] : map) {
    decoded += key.size() + value.size();
  }
  HLM_FUZZ_CHECK(decoded <= size);

  try {
    const ObjectMetadata metadata(map);
    HLM_FUZZ_CHECK(metadata.name() == map.at("name"));
    HLM_FUZZ_CHECK(metadata.timestamp() == map.at("X-Timestamp"));
    HLM_FUZZ_CHECK(metadata.etag() == metadata.get("ETag"));
    HLM_FUZZ_CHECK(metadata.content_type() == metadata.get("Content-Type"));
    HLM_FUZZ_CHECK(metadata.content_length().has_value() == map.contains("Content-Length"));
    HLM_FUZZ_CHECK(metadata.raw() == map);
  } catch (const hlm::InputError&) {
  }
  return 0;
}
