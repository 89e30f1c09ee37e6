#pragma once

// Builds ring files in Swift's serialize_v1 layout, so unit tests can make
// well-formed and deliberately broken rings without Swift.

#include <nlohmann/json.hpp>

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace hlm::test {

struct RingSpec
{
  unsigned part_power = 4;
  std::vector<std::vector<std::uint16_t>> replica2part2dev;
  nlohmann::json devs = nlohmann::json::array();
  std::string byteorder = "little";
  std::string magic = "R1NG";
  std::uint16_t version = 1;
};

inline nlohmann::json
make_device(int id, int zone, int port, const std::string& name)
{
  return {{"id", id},
          {"region", 1},
          {"zone", zone},
          {"ip", "127.0.0.1"},
          {"port", port},
          {"replication_ip", "127.0.0.2"},
          {"replication_port", port + 1000},
          {"device", name},
          {"weight", 1.0},
          {"meta", ""}};
}

// Four devices, `replicas` rows, device of (replica r, partition p) =
// (p + r) % 4; device i listens on first_port + 10 * i.
inline RingSpec
simple_ring(unsigned part_power, unsigned replicas, int first_port = 6010)
{
  RingSpec spec;
  spec.part_power = part_power;
  for (int i = 0; i < 4; ++i) {
    spec.devs.push_back(make_device(i, i + 1, first_port + 10 * i, "sdb" + std::to_string(i + 1)));
  }
  const std::uint32_t parts = 1u << part_power;
  for (unsigned r = 0; r < replicas; ++r) {
    std::vector<std::uint16_t> row(parts);
    for (std::uint32_t p = 0; p < parts; ++p) {
      row[p] = static_cast<std::uint16_t>((p + r) % 4);
    }
    spec.replica2part2dev.push_back(row);
  }
  return spec;
}

inline std::string
serialize(const RingSpec& spec)
{
  std::string out = spec.magic;
  out.push_back(static_cast<char>(spec.version >> 8));
  out.push_back(static_cast<char>(spec.version & 0xff));
  const nlohmann::json meta = {{"byteorder", spec.byteorder},
                               {"devs", spec.devs},
                               {"part_shift", 32 - spec.part_power},
                               {"replica_count", spec.replica2part2dev.size()},
                               {"version", 3}};
  const std::string text = meta.dump();
  const auto length = static_cast<std::uint32_t>(text.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((length >> shift) & 0xff));
  }
  out += text;
  const bool big = spec.byteorder == "big";
  for (const auto& row : spec.replica2part2dev) {
    for (const auto id : row) {
      const char lo = static_cast<char>(id & 0xff);
      const char hi = static_cast<char>(id >> 8);
      out.push_back(big ? hi : lo);
      out.push_back(big ? lo : hi);
    }
  }
  return out;
}

inline void
write_gzip(const std::filesystem::path& file, const std::string& data)
{
  gzFile gz = gzopen(file.c_str(), "wb");
  if (!gz) {
    throw std::runtime_error("gzopen failed");
  }
  gzwrite(gz, data.data(), static_cast<unsigned>(data.size()));
  gzclose(gz);
}

} // namespace hlm::test
