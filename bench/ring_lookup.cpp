// Ring lookups per second with libhlm: hash_path + partition + primary
// nodes, the work `hlm-dispatch` does per object. bench/ring_lookup.sh runs
// it beside Swift's Python Ring.get_nodes on the same rings and names.
//
//   bench_ring_lookup SWIFT_DIR RING NAMES.jsonl LOOKUPS

#include <hlm/ring/ring.hpp>
#include <hlm/ring/swift_conf.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

int
main(int argc, char** argv)
{
  using namespace hlm::ring;
  if (argc != 5) {
    std::cerr << "usage: bench_ring_lookup SWIFT_DIR RING NAMES.jsonl LOOKUPS\n";
    return 2;
  }
  const std::filesystem::path swift_dir = argv[1];
  const auto conf = load_swift_conf(swift_dir);
  const HashSecret secret{conf.hash_path_prefix, conf.hash_path_suffix};
  const auto load_start = std::chrono::steady_clock::now();
  const Ring ring = Ring::load(swift_dir / (std::string(argv[2]) + ".ring.gz"));
  const std::chrono::duration<double> load_time = std::chrono::steady_clock::now() - load_start;

  struct Name
  {
    std::string a, c, o;
  };
  std::vector<Name> names;
  std::ifstream in(argv[3]);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const auto part = [&](std::size_t i) {
      return j[i].is_null() ? std::string() : j[i].get<std::string>();
    };
    names.push_back({part(0), part(1), part(2)});
  }
  const auto lookups = std::stoull(argv[4]);
  if (names.empty() || lookups == 0) {
    std::cerr << "no names or no lookups\n";
    return 2;
  }

  std::size_t checksum = 0; // keeps the work observable
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < lookups; ++i) {
    const auto& n = names[i % names.size()];
    const auto part = ring.partition(hash_path(secret, n.a, n.c, n.o));
    const auto nodes = ring.primary_nodes(part);
    checksum += part + static_cast<std::size_t>(nodes.front()->id);
  }
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
  std::cout << nlohmann::json{{"lookups", lookups},
                              {"seconds", seconds.count()},
                              {"per_second", static_cast<double>(lookups) / seconds.count()},
                              {"ring_load_seconds", load_time.count()},
                              {"checksum", checksum}}
                 .dump()
            << '\n';
  return 0;
}
