#pragma once

#include <hlm/ring/hash_path.hpp>

#include <array>
#include <cstddef>
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

// The most replica rows a ring may have. Swift allows more than 3 (and an
// erasure-coded policy has one row per fragment, e.g. 10+4); Ring::load
// refuses a ring with more rows than this, so a NodeList always fits.
inline constexpr std::size_t k_max_replicas = 64;

// The primary devices of one partition, held inline so that a lookup does
// not allocate. Filled by Ring::primary_nodes.
class NodeList
{
public:
  using const_iterator = const Device* const*;

  std::size_t
  size() const
  {
    return m_size;
  }
  bool
  empty() const
  {
    return m_size == 0;
  }
  const Device*
  operator[](std::size_t i) const
  {
    return m_devices[i];
  }
  const Device*
  front() const
  {
    return m_devices[0];
  }
  const_iterator
  begin() const
  {
    return m_devices.data();
  }
  const_iterator
  end() const
  {
    return m_devices.data() + m_size;
  }

  void
  clear()
  {
    m_size = 0;
  }
  // Appends `device` unless it is listed already. At most k_max_replicas
  // distinct devices fit, which Ring's load check guarantees.
  void
  add_unique(const Device* device)
  {
    for (std::size_t i = 0; i < m_size; ++i) {
      if (m_devices[i] == device) {
        return;
      }
    }
    m_devices.at(m_size) = device;
    ++m_size;
  }

private:
  std::array<const Device*, k_max_replicas> m_devices{};
  std::size_t m_size = 0;
};

// A Swift ring as Swift 2.30 serializes it (RingData.serialize_v1): read
// once, validated completely at load so that lookups cannot fail.
class Ring
{
public:
  // Throws hlm::ConfigError naming the file for an unreadable file, a file
  // that is not gzip, truncated data, wrong magic or version, bad JSON, or a
  // partition table that refers to a missing device, or more than
  // k_max_replicas replica rows.
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
  // The same into `nodes` (cleared first), without allocating: for per
  // object lookups.
  void primary_nodes(std::uint32_t partition, NodeList& nodes) const;

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
