// List manifests (queue/list_manifest.hpp) as read back from the object
// servers, which anyone with access to them could write, fed to the reader
// in two pieces split where the first byte says; and list rows' progress
// parameters from their content type.
//
// Invariants checked:
//  * ManifestReader either takes the manifest or throws hlm::InputError;
//  * the names it hands on are non-empty, valid UTF-8 without NUL, at most
//    k_max_listed_name_bytes long, strictly ascending, as many as finish()
//    returns;
//  * a manifest it takes, written again by ManifestWriter from its header
//    and names, reads back to the same header and names (whatever the
//    split);
//  * list_progress_of never throws; what it returns has done <= count and
//    failed <= done, and list_content_type of it reads back the same.

#include "check.hpp"

#include <hlm/queue/list_manifest.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace hlm::queue;

namespace {

struct Read
{
  ListHeader header;
  std::vector<std::string> names;
};

std::optional<Read>
read(std::string_view text, std::size_t split)
{
  Read out;
  ManifestReader reader("fuzz", [&](std::string_view name) { out.names.emplace_back(name); });
  try {
    reader.feed(text.substr(0, split));
    reader.feed(text.substr(split));
    const std::uint64_t count = reader.finish();
    HLM_FUZZ_CHECK(count == out.names.size());
  } catch (const hlm::InputError&) {
    return std::nullopt;
  }
  HLM_FUZZ_CHECK(reader.header().has_value());
  out.header = *reader.header();
  return out;
}

void
check_manifest(std::string_view text, std::size_t split)
{
  const auto taken = read(text, split);
  if (!taken) {
    return;
  }
  for (std::size_t i = 0; i < taken->names.size(); ++i) {
    const std::string& name = taken->names[i];
    HLM_FUZZ_CHECK(!name.empty() && name.size() <= k_max_listed_name_bytes);
    HLM_FUZZ_CHECK(hlm::is_valid_utf8(name) && name.find('\0') == std::string::npos);
    HLM_FUZZ_CHECK(i == 0 || taken->names[i - 1] < name);
  }
  std::string again;
  ManifestWriter writer(taken->header, [&](std::string_view bytes) { again.append(bytes); });
  for (const auto& name : taken->names) {
    writer.add(name); // must not throw
  }
  HLM_FUZZ_CHECK(writer.finish() == taken->names.size());
  const auto back = read(again, split % (again.size() + 1));
  HLM_FUZZ_CHECK(back.has_value());
  HLM_FUZZ_CHECK(back->header == taken->header);
  HLM_FUZZ_CHECK(back->names == taken->names);
}

void
check_progress(std::string_view content_type)
{
  const auto progress = list_progress_of(content_type);
  if (!progress) {
    return;
  }
  HLM_FUZZ_CHECK(progress->done <= progress->count && progress->failed <= progress->done);
  HLM_FUZZ_CHECK(list_progress_of(list_content_type(*progress)) == progress);
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_manifest(text, data[0] % (text.size() + 1));
  check_progress(text);
  return 0;
}
