#pragma once

#include <hlm/ring/hash_path.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::ring {

struct Device
{
  int id = 0;
  int region = 1;
  int zone = 0;
  std::string ip;
  int port = 0;
  std::string replication_ip;
  int replication_port = 0;
  std::string device;
  double weight = 0;
  std::string meta;
};

// A Swift ring as Swift 2.30 serializes it (RingData.serialize_v1): read
// once, validated completely at load so that lookups cannot fail.
class Ring
{
public:
  // Throws hlm::ConfigError naming the file for an unreadable file, a file
  // that is not gzip, truncated data, wrong magic or version, bad JSON, or a
  // partition table that refers to a missing device.
  static Ring load(const std::filesystem::path& file);
  // Same checks over the already decompressed bytes; `source` names them in
  // errors.
  static Ring parse(std::string_view data, const std::string& source);

  unsigned part_power() const;
  unsigned part_shift() const;
  std::uint32_t partition_count() const;
  std::size_t replica_rows() const;
  const std::vector<std::optional<Device>>& devices() const;

  std::uint32_t partition(const Md5Digest& digest) const;
  // The primary devices of `partition`, replica rows in order, a device that
  // holds several replicas listed once (Ring._get_part_nodes).
  std::vector<const Device*> primary_nodes(std::uint32_t partition) const;

private:
  unsigned m_part_shift = 32;
  std::vector<std::optional<Device>> m_devices;
  std::vector<std::vector<std::uint16_t>> m_replica2part2dev;
};

// Ring file names inside a swift_dir.
std::filesystem::path account_ring_path(const std::filesystem::path& swift_dir);
std::filesystem::path container_ring_path(const std::filesystem::path& swift_dir);
// object.ring.gz for policy 0, object-N.ring.gz otherwise.
std::filesystem::path object_ring_path(const std::filesystem::path& swift_dir, int policy_index);

} // namespace hlm::ring
