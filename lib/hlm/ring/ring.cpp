#include <hlm/ring/ring.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/gzip.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <utility>

namespace hlm::ring {

namespace {

// Rings beyond part power 24 do not exist in practice (Swift recommends at
// most ~2^23 partitions); refusing them bounds memory for a corrupt header.
constexpr unsigned k_max_part_power = 24;
constexpr std::size_t k_max_ring_bytes = std::size_t{1} << 30;

[[noreturn]] void
fail(const std::string& source, std::string_view what)
{
  throw ConfigError(fmt::format("cannot read ring \"{}\": {}", source, what));
}

std::uint32_t
read_be32(std::string_view data)
{
  return (std::uint32_t{static_cast<std::uint8_t>(data[0])} << 24)
         | (std::uint32_t{static_cast<std::uint8_t>(data[1])} << 16)
         | (std::uint32_t{static_cast<std::uint8_t>(data[2])} << 8)
         | std::uint32_t{static_cast<std::uint8_t>(data[3])};
}

// Swift writes these fields as Python ints. nlohmann's get<int>() would
// also take a float and cast it, undefined behaviour for 1e30, and wrap an
// integer too large for T; both are refused.
template<typename T>
T
integer(const nlohmann::json& value, std::string_view what, const std::string& source)
{
  if (value.is_number_unsigned() && std::in_range<T>(value.get<std::uint64_t>())) {
    return static_cast<T>(value.get<std::uint64_t>());
  }
  if (value.is_number_integer() && !value.is_number_unsigned()
      && std::in_range<T>(value.get<std::int64_t>())) {
    return static_cast<T>(value.get<std::int64_t>());
  }
  fail(source,
       fmt::format("{} is not an integer from {} to {}",
                   what,
                   std::numeric_limits<T>::min(),
                   std::numeric_limits<T>::max()));
}

Device
parse_device(const nlohmann::json& dev, std::size_t position, const std::string& source)
{
  try {
    const auto field = [&](std::string_view key) {
      return integer<int>(dev.at(key), fmt::format("device {} \"{}\"", position, key), source);
    };
    const auto optional_field = [&](std::string_view key, int fallback) {
      return dev.contains(key) ? field(key) : fallback;
    };
    Device d;
    d.id = field("id");
    if (d.id < 0 || static_cast<std::size_t>(d.id) != position) {
      fail(source, fmt::format("device at position {} has id {}", position, d.id));
    }
    d.region = optional_field("region", 1);
    d.zone = field("zone");
    d.ip = dev.at("ip").get<std::string>();
    d.port = field("port");
    d.replication_ip = dev.value("replication_ip", d.ip);
    d.replication_port = optional_field("replication_port", d.port);
    d.device = dev.at("device").get<std::string>();
    d.weight = dev.value("weight", 0.0);
    if (const auto meta = dev.find("meta"); meta != dev.end() && meta->is_string()) {
      d.meta = meta->get<std::string>();
    }
    return d;
  } catch (const nlohmann::json::exception& e) {
    fail(source, fmt::format("device {}: {}", position, e.what()));
  }
}

} // namespace

Ring
Ring::load(const std::filesystem::path& file)
{
  std::string data;
  try {
    data = read_gzip_file(file, k_max_ring_bytes);
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    throw ConfigError(e.what());
  }
  return parse(data, file.string());
}

namespace {

// The ring file's metadata JSON, after checking the header in front of
// it; `data` is left at the partition table.
nlohmann::json
read_metadata(std::string_view& data, const std::string& source)
{
  if (data.size() < 4 || data.substr(0, 4) != "R1NG") {
    // Rings older than Swift 1.x were pickles; Swift 2.30 still reads them,
    // we do not execute pickles.
    fail(source, "bad magic (not a Swift ring in R1NG format)");
  }
  if (data.size() < 10) {
    fail(source, "truncated header");
  }
  const unsigned version = (unsigned{static_cast<std::uint8_t>(data[4])} << 8)
                           | unsigned{static_cast<std::uint8_t>(data[5])};
  if (version != 1) {
    fail(source, fmt::format("unsupported ring format version {}", version));
  }
  const std::uint32_t json_length = read_be32(data.substr(6, 4));
  data.remove_prefix(10);
  if (json_length > data.size()) {
    fail(source, "truncated metadata");
  }

  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(data.substr(0, json_length));
  } catch (const nlohmann::json::exception& e) {
    fail(source, fmt::format("bad metadata JSON: {}", e.what()));
  }
  data.remove_prefix(json_length);
  return meta;
}

// What the metadata says, checked.
struct RingMeta
{
  unsigned part_shift = 32;
  std::size_t replica_count = 0;
  std::string byteorder;
  std::vector<std::optional<Device>> devices;
};

RingMeta
parse_meta(const nlohmann::json& meta, const std::string& source)
{
  RingMeta parsed;
  try {
    parsed.part_shift = integer<unsigned>(meta.at("part_shift"), "\"part_shift\"", source);
    parsed.replica_count = integer<std::size_t>(meta.at("replica_count"),
                                                "\"replica_count\"",
                                                source);
    parsed.byteorder = meta.value("byteorder", std::string("little"));
    const auto& devs = meta.at("devs");
    if (!devs.is_array()) {
      fail(source, "\"devs\" is not a list");
    }
    for (std::size_t i = 0; i < devs.size(); ++i) {
      if (devs[i].is_null()) {
        parsed.devices.emplace_back(std::nullopt);
      } else {
        parsed.devices.emplace_back(parse_device(devs[i], i, source));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    fail(source, fmt::format("bad metadata: {}", e.what()));
  }
  if (parsed.part_shift > 32 || 32 - parsed.part_shift > k_max_part_power) {
    fail(source, fmt::format("unsupported part_shift {}", parsed.part_shift));
  }
  if (parsed.byteorder != "little" && parsed.byteorder != "big") {
    fail(source, fmt::format("unknown byteorder \"{}\"", parsed.byteorder));
  }
  if (parsed.replica_count == 0) {
    fail(source, "unsupported replica_count 0");
  }
  if (parsed.replica_count > k_max_replicas) {
    fail(source,
         fmt::format("unsupported replica_count {}: at most {} replicas are supported",
                     parsed.replica_count,
                     k_max_replicas));
  }
  return parsed;
}

// Replica row `row` of the partition table at the front of `data`, which
// is left after it; each entry must name a device of `devices`.
std::vector<std::uint16_t>
read_replica_row(std::string_view& data,
                 std::size_t row,
                 const RingMeta& meta,
                 std::uint32_t partitions,
                 const std::string& source)
{
  const bool swap = (meta.byteorder == "little") != (std::endian::native == std::endian::little);
  // The last row may be shorter: Swift writes fractional replica counts
  // as a partial final row.
  const std::size_t available = std::min<std::size_t>(data.size() / 2, partitions);
  if (available < partitions && row + 1 < meta.replica_count) {
    fail(source, fmt::format("truncated partition table (replica row {})", row));
  }
  if (available == 0) {
    fail(source, fmt::format("replica row {} is empty", row));
  }
  std::vector<std::uint16_t> part2dev(available);
  for (std::size_t p = 0; p < available; ++p) {
    const auto lo = static_cast<std::uint8_t>(data[2 * p]);
    const auto hi = static_cast<std::uint8_t>(data[2 * p + 1]);
    const auto value = static_cast<std::uint16_t>(swap ? (lo << 8) | hi : (hi << 8) | lo);
    if (value >= meta.devices.size() || !meta.devices[value]) {
      fail(
        source,
        fmt::format("partition {} of replica row {} refers to missing device {}", p, row, value));
    }
    part2dev[p] = value;
  }
  data.remove_prefix(2 * available);
  return part2dev;
}

} // namespace

Ring
Ring::parse(std::string_view data, const std::string& source)
{
  auto meta = parse_meta(read_metadata(data, source), source);
  if (data.size() % 2 != 0) {
    fail(source, "truncated partition table (odd number of bytes)");
  }
  Ring ring;
  ring.m_part_shift = meta.part_shift;
  const std::uint32_t partitions = ring.partition_count();
  for (std::size_t row = 0; row < meta.replica_count; ++row) {
    ring.m_replica2part2dev.push_back(read_replica_row(data, row, meta, partitions, source));
  }
  if (!data.empty()) {
    fail(source, fmt::format("{} unexpected bytes after the partition table", data.size()));
  }
  ring.m_devices = std::move(meta.devices);
  return ring;
}

unsigned
Ring::part_power() const
{
  return 32 - m_part_shift;
}

unsigned
Ring::part_shift() const
{
  return m_part_shift;
}

std::uint32_t
Ring::partition_count() const
{
  return std::uint32_t{1} << part_power();
}

std::size_t
Ring::replica_rows() const
{
  return m_replica2part2dev.size();
}

const std::vector<std::optional<Device>>&
Ring::devices() const
{
  return m_devices;
}

std::uint32_t
Ring::partition(const Md5Digest& digest) const
{
  return partition_of(digest, m_part_shift);
}

void
Ring::primary_nodes(std::uint32_t part, NodeList& nodes) const
{
  nodes.clear();
  for (const auto& row : m_replica2part2dev) {
    if (part < row.size()) {
      nodes.add_unique(&*m_devices[row[part]]);
    }
  }
}

std::vector<const Device*>
Ring::primary_nodes(std::uint32_t part) const
{
  NodeList nodes;
  primary_nodes(part, nodes);
  return {nodes.begin(), nodes.end()};
}

std::filesystem::path
account_ring_path(const std::filesystem::path& swift_dir)
{
  return swift_dir / "account.ring.gz";
}

std::filesystem::path
container_ring_path(const std::filesystem::path& swift_dir)
{
  return swift_dir / "container.ring.gz";
}

std::filesystem::path
object_ring_path(const std::filesystem::path& swift_dir, int policy_index)
{
  return swift_dir
         / (policy_index == 0 ? std::string("object.ring.gz")
                              : fmt::format("object-{}.ring.gz", policy_index));
}

} // namespace hlm::ring
