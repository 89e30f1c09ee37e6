// hlm-handler's standard input, both forms: the JSON request document and
// the plain object lines.
//
// Invariants checked (request.hpp): the readers return or throw
// hlm::InputError, nothing else; every object they return is a valid
// "/a/c/o" path (split_object_path accepts it); every device index refers
// to a device name that check_device_name accepts.

#include "check.hpp"

#include <hlm/protocol/request.hpp>
#include <hlm/util/error.hpp>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

using namespace hlm;
using namespace hlm::protocol;
using namespace hlm::protocol;

namespace {

void
check_request(const Request& request)
{
  for (const auto& device : request.devices) {
    check_device_name(device); // throws, and so crashes, when invalid
  }
  for (const auto& object : request.objects) {
    split_object_path(object.path);
    HLM_FUZZ_CHECK(object.device == Request::k_any_device
                   || object.device < request.devices.size());
  }
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string input(reinterpret_cast<const char*>(data), size);
  try {
    std::istringstream in(input);
    check_request(read_request_document(in));
  } catch (const hlm::InputError&) {
  }
  try {
    std::istringstream in(input);
    const auto request = read_object_lines(in, hlm::Operation::recall);
    HLM_FUZZ_CHECK(request.operation == hlm::Operation::recall);
    HLM_FUZZ_CHECK(request.devices.empty());
    check_request(request);
  } catch (const hlm::InputError&) {
  }
  return 0;
}
