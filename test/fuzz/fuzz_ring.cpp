// Ring files: Ring::parse over the decompressed serialize_v1 bytes, or, for
// an input that starts with the gzip magic, Ring::load over the input as a
// file (a memfd, so nothing touches the disk), which adds the gzip reader.
//
// Invariants checked on a ring that loads (ring.hpp: "validated completely
// at load so that lookups cannot fail"): every partition a name hashes to
// is below partition_count(); primary_nodes() of any partition returns at
// most replica_rows() distinct devices, each one of devices().

#include "check.hpp"

#include <hlm/ring/hash_path.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/util/error.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

using namespace hlm::ring;

namespace {

std::optional<Ring>
load_gzip(std::string_view input)
{
  const int fd = memfd_create("fuzz-ring", 0);
  HLM_FUZZ_CHECK(fd >= 0);
  std::size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = write(fd, input.data() + written, input.size() - written);
    HLM_FUZZ_CHECK(n > 0);
    written += static_cast<std::size_t>(n);
  }
  std::optional<Ring> ring;
  try {
    ring = Ring::load("/proc/self/fd/" + std::to_string(fd));
  } catch (const hlm::ConfigError&) {
  }
  close(fd);
  return ring;
}

void
check_nodes(const Ring& ring, std::uint32_t partition)
{
  const auto nodes = ring.primary_nodes(partition);
  HLM_FUZZ_CHECK(nodes.size() <= ring.replica_rows());
  for (const Device* device : nodes) {
    HLM_FUZZ_CHECK(device != nullptr);
    const auto& devices = ring.devices();
    HLM_FUZZ_CHECK(std::any_of(devices.begin(), devices.end(), [&](const auto& d) {
      return d && &*d == device;
    }));
    HLM_FUZZ_CHECK(std::count(nodes.begin(), nodes.end(), device) == 1);
  }
}

void
check_ring(const Ring& ring)
{
  HLM_FUZZ_CHECK(ring.part_power() <= 32 && ring.replica_rows() >= 1);
  const HashSecret secret{"prefix", "suffix"};
  const struct
  {
    std::string_view account, container, object;
  } names[] = {{"AUTH_test", {}, {}},
               {"AUTH_test", "c", {}},
               {"AUTH_test", "c", "o"},
               {".swifthlm", "pending-hlm-requests", {}},
               {"AUTH_test", "c", "a/b/\xc3\xa9t\xc3\xa9"}};
  for (const auto& name : names) {
    const auto partition = ring.partition(
      hash_path(secret, name.account, name.container, name.object));
    HLM_FUZZ_CHECK(partition < ring.partition_count());
    check_nodes(ring, partition);
  }
  check_nodes(ring, 0);
  check_nodes(ring, ring.partition_count() - 1);
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::optional<Ring> ring;
  if (input.starts_with("\x1f\x8b")) {
    ring = load_gzip(input);
  } else {
    try {
      ring = Ring::parse(input, "fuzz input");
    } catch (const hlm::ConfigError&) {
    }
  }
  if (ring) {
    check_ring(*ring);
  }
  return 0;
}
