// Queue row names and failed-row content types, as read back from container
// listings that anyone with access to the container servers could write.
//
// Invariants checked (from entry.hpp and queue.hpp):
//  * decode_entry either returns or throws hlm::InputError;
//  * a decoded entry is encodable, and decoding its encoding gives it back
//    (decode_entry is "the inverse of encode_entry"); the row name itself
//    need not come back byte for byte (legacy form, "007" as policy);
//  * a decoded entry concerns its own target;
//  * reason_of never throws and returns valid UTF-8;
//  * reason_of(failed_content_type(r)) gives r back when r is valid UTF-8
//    and fits, otherwise a prefix of r cut at a character boundary plus
//    "...".

#include "check.hpp"

#include <hlm/queue/entry.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace hlm::queue;

namespace {

void
check_entry(std::string_view name)
{
  Entry entry;
  try {
    entry = decode_entry(name);
  } catch (const hlm::InputError&) {
    return;
  }
  const std::string encoded = encode_entry(entry); // must not throw
  HLM_FUZZ_CHECK(!encoded.empty() && encoded.front() == '/');
  HLM_FUZZ_CHECK(decode_entry(encoded) == entry);
  HLM_FUZZ_CHECK(concerns(entry, entry.target));
  HLM_FUZZ_CHECK(concerns(entry, Target{entry.target.account, entry.target.container, {}}));
}

void
check_reason(std::string_view text)
{
  const auto parsed = reason_of(text);
  if (parsed) {
    HLM_FUZZ_CHECK(hlm::is_valid_utf8(*parsed));
  }

  const std::string type = failed_content_type(text);
  HLM_FUZZ_CHECK(type.starts_with(k_entry_content_type));
  const auto back = reason_of(type);
  if (text.empty()) {
    HLM_FUZZ_CHECK(type == k_entry_content_type && !back);
    return;
  }
  HLM_FUZZ_CHECK(back.has_value());
  HLM_FUZZ_CHECK(type.size() <= k_entry_content_type.size() + 9 + k_max_reason_bytes);
  if (!hlm::is_valid_utf8(text)) {
    return;
  }
  if (*back == text) {
    return;
  }
  // Cut: a prefix of the reason at a character boundary, then "...".
  HLM_FUZZ_CHECK(back->ends_with("..."));
  const std::string_view kept(back->data(), back->size() - 3);
  HLM_FUZZ_CHECK(text.starts_with(kept));
  HLM_FUZZ_CHECK(hlm::is_valid_utf8(kept));
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_entry(input);
  check_reason(input);
  return 0;
}
