// The system calls an hlm-handler status makes per replica, and nothing
// else: no ring, no parsing, no connector, no output. For each .data file
// named in FILES (one path per line, read in that order): open its hash
// directory, read it with getdents64 until a read returns nothing, close
// it, then getxattr its Swift metadata and its checksum. bench/scale.sh
// prints the fastest of RUNS rounds beside the handler's row: the kernel's
// share of a status, which no user-space change removes.
//
//   bench_disk_floor FILES [RUNS]
//
// Prints one JSON object: replicas, calls (system calls made per round),
// seconds (the fastest round's wall time) and cpu_seconds (its user and
// system time).

#include <hlm/diskfile/diskfile.hpp>
#include <hlm/diskfile/metadata.hpp>

#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

struct Replica
{
  std::string dir;
  std::string file;
};

double
cpu_seconds()
{
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The replicas named in `path`, one .data file per line; nullopt when it
// cannot be read.
std::optional<std::vector<Replica>>
read_replicas(const char* path)
{
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::vector<Replica> replicas;
  std::string line;
  while (std::getline(in, line)) {
    const auto slash = line.rfind('/');
    if (slash != std::string::npos && slash != 0) {
      replicas.push_back({line.substr(0, slash), line});
    }
  }
  return replicas;
}

// What one round does per replica, with the handler's buffers
// (ReplicaScanner, MetadataReader): 32 KiB for the directory, 1 KiB for
// the metadata to begin with, grown to a power of two when a value does
// not fit, and 64 bytes for the checksum. The kernel allocates and zeroes
// as much as getxattr is offered, so a buffer sized for Swift's largest
// chunk (64 KiB) would cost more than the value's read.
class Round
{
public:
  void
  read(const Replica& replica)
  {
    const int fd = ::open(replica.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ++calls;
    if (fd < 0) {
      ++missing;
      return;
    }
    for (;;) {
      ++calls;
      if (::getdents64(fd, m_entries.data(), m_entries.size()) <= 0) {
        break;
      }
    }
    ::close(fd);
    calls += 3;
    const char* file = replica.file.c_str();
    ssize_t got = ::getxattr(file, k_metadata, m_value.data(), m_value.size());
    if (got < 0 && errno == ERANGE) {
      calls += 2;
      const ssize_t size = ::getxattr(file, k_metadata, nullptr, 0);
      m_value.resize(std::bit_ceil(static_cast<std::size_t>(std::max<ssize_t>(size, 1))));
      got = ::getxattr(file, k_metadata, m_value.data(), m_value.size());
    }
    if (got < 0 || ::getxattr(file, k_checksum, m_checksum.data(), m_checksum.size()) < 0) {
      ++missing;
    }
  }

  std::size_t calls = 0;
  std::size_t missing = 0;

private:
  static constexpr const char* k_metadata = "user.swift.metadata";
  static constexpr const char* k_checksum = "user.swift.metadata_checksum";
  std::vector<char> m_entries = std::vector<char>(
    hlm::diskfile::ReplicaScanner::k_default_buffer_bytes);
  std::vector<char> m_value = std::vector<char>(
    hlm::diskfile::MetadataReader::k_initial_buffer_bytes);
  std::array<char, 64> m_checksum{}; // as MetadataReader::read_checksum's
};

} // namespace

int
main(int argc, char** argv)
{
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: bench_disk_floor FILES [RUNS]\n";
    return 2;
  }
  const int runs = argc == 3 ? std::max(1, std::atoi(argv[2])) : 3;
  const auto replicas = read_replicas(argv[1]);
  if (!replicas) {
    std::cerr << "bench_disk_floor: cannot read " << argv[1] << "\n";
    return 1;
  }
  double best = 0;
  double best_cpu = 0;
  Round last;
  for (int run = 0; run < runs; ++run) {
    Round round;
    const double cpu_before = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    for (const auto& replica : *replicas) {
      round.read(replica);
    }
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
    const double cpu = cpu_seconds() - cpu_before;
    if (run == 0 || wall.count() < best) {
      best = wall.count();
      best_cpu = cpu;
    }
    last = round;
  }
  std::cout << nlohmann::json{{"replicas", replicas->size()},
                              {"missing", last.missing},
                              {"calls", last.calls},
                              {"seconds", best},
                              {"cpu_seconds", best_cpu}}
                 .dump()
            << "\n";
  return 0;
}
