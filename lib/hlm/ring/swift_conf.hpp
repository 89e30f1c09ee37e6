#pragma once

#include <hlm/util/ini.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::ring {

enum class PolicyType { replication, erasure_coding };

struct StoragePolicy
{
  int index = 0;
  std::string name;
  std::vector<std::string> aliases;
  bool is_default = false;
  bool deprecated = false;
  PolicyType type = PolicyType::replication;
  // The DiskFile implementation Swift's object servers and daemons use
  // for this policy ("egg:swift#replication.fs" unless set).
  std::string diskfile_module;
  // Erasure-coding parameters; meaningful only for erasure_coding.
  std::string ec_type;
  int ec_num_data_fragments = 0;
  int ec_num_parity_fragments = 0;
  std::uint64_t ec_object_segment_size = 1048576;
};

// What Swift's swift.conf says: the hash path prefix/suffix and the storage
// policies, validated as Swift validates them.
struct SwiftConf
{
  std::filesystem::path path;
  std::string hash_path_prefix;
  std::string hash_path_suffix;
  std::vector<StoragePolicy> policies; // sorted by index

  const StoragePolicy& default_policy() const;
  const StoragePolicy* policy_by_index(int index) const;
  // `name_or_index` is a policy index ("1") or a name or alias, matched
  // case-insensitively as Swift does. Throws hlm::ConfigError with a "did you
  // mean" hint when nothing matches.
  const StoragePolicy& find_policy(std::string_view name_or_index) const;
};

// Reads `<swift_dir>/swift.conf`. Throws hlm::ConfigError naming the file
// for an unreadable file, missing [swift-hash] values or invalid policies.
SwiftConf load_swift_conf(const std::filesystem::path& swift_dir);
SwiftConf parse_swift_conf(const IniFile& ini);

} // namespace hlm::ring
