// What a node's hlm-handler prints on stdout: decode_result over any text,
// as hlm-dispatch reads it.
//
// Invariants checked (result.hpp): decode_result returns or throws
// hlm::InputError (NotJson among them), with a printable, valid UTF-8 and
// bounded message; a document's summary counts its lines; every failure
// has a kind with a name; and a decoded document survives encode_result
// and decode_result unchanged.

#include "check.hpp"

#include <hlm/core/failure.hpp>
#include <hlm/protocol/result.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace hlm;
using namespace hlm::protocol;

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ResultDocument document;
  try {
    document = decode_result(input);
  } catch (const InputError& e) {
    const std::string_view message = e.what();
    HLM_FUZZ_CHECK(!message.empty());
    HLM_FUZZ_CHECK(is_valid_utf8(message));
    HLM_FUZZ_CHECK(message.size() <= 512);
    return 0;
  }
  std::size_t failed = 0;
  for (const auto& line : document.lines) {
    if (line.failure) {
      ++failed;
      HLM_FUZZ_CHECK(parse_failure_kind(to_string(line.failure->kind)) == line.failure->kind);
      HLM_FUZZ_CHECK(line.failure->node.empty());
    }
  }
  HLM_FUZZ_CHECK(document.summary.objects == document.lines.size());
  HLM_FUZZ_CHECK(document.summary.failed == failed);
  HLM_FUZZ_CHECK(document.summary.ok + document.summary.failed == document.summary.objects);
  HLM_FUZZ_CHECK(decode_result(encode_result(document)) == document);
  return 0;
}
