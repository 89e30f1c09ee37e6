// Test tool: looks names up with libhlm's ring code, one JSON line in, one
// out, so the integration suite can compare thousands of lookups with
// Swift's own Ring.get_nodes in one process each.
//
//   ring_lookup SWIFT_DIR RING < names.jsonl
//   input:  ["account", "container" | null, "object" | null]
//   output: {"partition": P, "hash": "…", "nodes": [device ids]}

#include <hlm/ring/ring.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/hex.hpp>

#include <nlohmann/json.hpp>

#include <iostream>

int
main(int argc, char** argv)
{
  using namespace hlm::ring;
  if (argc != 3) {
    std::cerr << "usage: ring_lookup SWIFT_DIR RING\n";
    return 2;
  }
  const std::filesystem::path swift_dir = argv[1];
  const auto conf = load_swift_conf(swift_dir);
  const Ring ring = Ring::load(swift_dir / (std::string(argv[2]) + ".ring.gz"));
  const HashSecret secret{conf.hash_path_prefix, conf.hash_path_suffix};

  std::string line;
  while (std::getline(std::cin, line)) {
    const auto name = nlohmann::json::parse(line);
    const auto part = [&](std::size_t i) {
      return name[i].is_null() ? std::string() : name[i].get<std::string>();
    };
    const auto digest = hash_path(secret, part(0), part(1), part(2));
    const auto partition = ring.partition(digest);
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto* device : ring.primary_nodes(partition)) {
      nodes.push_back(device->id);
    }
    std::cout << nlohmann::json{{"partition", partition},
                                {"hash", hlm::to_hex(digest)},
                                {"nodes", nodes}}
                   .dump()
              << '\n';
  }
  return 0;
}
