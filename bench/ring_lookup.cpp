// Ring lookups per second with libhlm: hash the name, find its partition
// and primary nodes, the work `hlm-dispatch` does per object. Beside it,
// the floor: a one-shot MD5() of the very bytes hash_path hashes, over the
// same names. bench/ring_lookup.sh runs it next to Swift's Python
// Ring.get_nodes on the same rings and names.
//
//   bench_ring_lookup SWIFT_DIR RING NAMES.jsonl LOOKUPS
//
// The two loops alternate for k_rounds rounds of LOOKUPS / k_rounds each,
// so both see the same machine load; each rate is its best round.

// MD5() is deprecated in OpenSSL 3.0; it is the bare floor measured here.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <hlm/ring/ring.hpp>
#include <hlm/ring/swift_conf.hpp>

#include <nlohmann/json.hpp>
#include <openssl/md5.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>

namespace {

using namespace hlm::ring;

constexpr std::size_t k_rounds = 20;

struct Name
{
  std::string a, c, o;
};

std::vector<Name>
read_names(const char* file)
{
  std::vector<Name> names;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const auto part = [&](std::size_t i) {
      return j[i].is_null() ? std::string() : j[i].get<std::string>();
    };
    names.push_back({part(0), part(1), part(2)});
  }
  return names;
}

// The bytes hash_path hashes for `n`.
std::string
hash_key(const HashSecret& secret, const Name& n)
{
  std::string key = secret.prefix + "/" + n.a;
  if (!n.c.empty()) {
    key += "/" + n.c;
  }
  if (!n.o.empty()) {
    key += "/" + n.o;
  }
  return key + secret.suffix;
}

// Seconds that `body(i)` takes for i in [first, first + count).
template<typename Body>
double
timed(std::size_t first, std::size_t count, Body body)
{
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = first; i < first + count; ++i) {
    body(i);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

int
main(int argc, char** argv)
{
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

  const auto names = read_names(argv[3]);
  const auto lookups = std::stoull(argv[4]);
  if (names.empty() || lookups < k_rounds) {
    std::cerr << "no names or fewer lookups than rounds\n";
    return 2;
  }
  std::vector<std::string> keys;
  for (const auto& n : names) {
    keys.push_back(hash_key(secret, n));
  }

  const PathHasher hasher(secret);
  NodeList nodes;
  std::size_t checksum = 0; // keeps the work observable
  const auto lookup = [&](std::size_t i) {
    const auto& n = names[i % names.size()];
    const auto part = ring.partition(hasher(n.a, n.c, n.o));
    ring.primary_nodes(part, nodes);
    checksum += part + static_cast<std::size_t>(nodes.front()->id);
  };
  const auto bare_md5 = [&](std::size_t i) {
    const auto& key = keys[i % keys.size()];
    unsigned char digest[MD5_DIGEST_LENGTH];
    MD5(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
    checksum += digest[0];
  };

  const std::size_t per_round = lookups / k_rounds;
  double best_lookup = 1e300, best_md5 = 1e300, total = 0;
  for (std::size_t r = 0; r < k_rounds; ++r) {
    best_md5 = std::min(best_md5, timed(r * per_round, per_round, bare_md5));
    const double seconds = timed(r * per_round, per_round, lookup);
    best_lookup = std::min(best_lookup, seconds);
    total += seconds;
  }
  const auto rate = [&](double seconds) { return static_cast<double>(per_round) / seconds; };
  std::cout << nlohmann::json{{"lookups", per_round * k_rounds},
                              {"seconds", total},
                              {"per_second", rate(best_lookup)},
                              {"md5_per_second", rate(best_md5)},
                              {"ring_load_seconds", load_time.count()},
                              {"checksum", checksum}}
                 .dump()
            << '\n';
  return 0;
}
