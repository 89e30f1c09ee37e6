// What an exec connector program prints on stdout: decode_response and
// decode_estimate over any text, for a fixed request.
//
// Invariants checked (protocol.hpp): decode_response returns or throws
// hlm::InputError; every answer is for a requested file; an answer's error
// is printable, valid UTF-8 and bounded. decode_estimate returns (an
// estimate of at most the items asked about, finite and not negative) or
// throws hlm::InputError with a valid UTF-8 message.

#include "check.hpp"

#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <connectors/exec/protocol.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

using namespace hlm::connector::exec;

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  static const std::set<std::string, std::less<>> files = {
    "a",
    "b",
    "/srv/node/sdb1/objects/1/abc/0123456789abcdef0123456789abcabc/1700000000.00000.data",
    "/srv/node/sdb2/\xc3\xa9t\xc3\xa9.data",
  };
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    if (const auto estimate = decode_estimate(input, 4)) {
      HLM_FUZZ_CHECK(estimate->items <= 4);
      HLM_FUZZ_CHECK(estimate->drive_seconds >= 0 && estimate->wall_seconds >= 0);
      HLM_FUZZ_CHECK(std::isfinite(estimate->drive_seconds)
                     && std::isfinite(estimate->wall_seconds));
    }
  } catch (const hlm::InputError& e) {
    HLM_FUZZ_CHECK(hlm::is_valid_utf8(e.what()));
  }
  Answers answers;
  try {
    answers = decode_response(input, files);
  } catch (const hlm::InputError& e) {
    HLM_FUZZ_CHECK(hlm::is_valid_utf8(e.what()));
    return 0;
  }
  HLM_FUZZ_CHECK(answers.size() <= files.size());
  for (const auto& [file, answer] : answers) {
    HLM_FUZZ_CHECK(files.contains(file));
    if (answer.error) {
      HLM_FUZZ_CHECK(!answer.error->empty());
      HLM_FUZZ_CHECK(hlm::is_valid_utf8(*answer.error));
      HLM_FUZZ_CHECK(answer.error->size() <= 4 * 1000 + 16);
    }
  }
  return 0;
}
