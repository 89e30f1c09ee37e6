#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace hlm::ring {

namespace {

constexpr std::string_view k_policy_prefix = "storage-policy:";

int
require_positive_int(const IniFile& ini, const std::string& section, std::string_view key)
{
  const auto value = ini.get(section, key);
  const auto number = value ? parse_int(trim(*value)) : std::nullopt;
  if (!number || *number <= 0 || *number > 1'000'000) {
    throw ConfigError(
      fmt::format("{}: [{}] needs a positive integer {}", ini.source(), section, key));
  }
  return static_cast<int>(*number);
}

StoragePolicy
parse_policy(const IniFile& ini, const std::string& section)
{
  const std::string_view suffix = std::string_view(section).substr(k_policy_prefix.size());
  const auto index = parse_int(suffix);
  if (!index || *index < 0 || *index > 0x7fffffff) {
    throw ConfigError(
      fmt::format("{}: invalid storage policy index in [{}]", ini.source(), section));
  }

  StoragePolicy policy;
  policy.index = static_cast<int>(*index);
  const auto name = ini.get(section, "name");
  policy.name = name ? std::string(trim(*name)) : (policy.index == 0 ? "Policy-0" : "");
  if (policy.name.empty()) {
    throw ConfigError(fmt::format("{}: [{}] has no name", ini.source(), section));
  }
  policy.aliases.push_back(policy.name);
  if (const auto aliases = ini.get(section, "aliases")) {
    for (auto& alias : split_list(*aliases)) {
      if (std::find(policy.aliases.begin(), policy.aliases.end(), alias) == policy.aliases.end()) {
        policy.aliases.push_back(std::move(alias));
      }
    }
  }
  policy.is_default = config_true_value(ini.get(section, "default").value_or(""));
  policy.diskfile_module = std::string(trim(ini.get(section, "diskfile_module").value_or("")));
  policy.deprecated = config_true_value(ini.get(section, "deprecated").value_or(""));

  const std::string type = to_lower(trim(ini.get(section, "policy_type").value_or("replication")));
  if (type == "replication") {
    policy.type = PolicyType::replication;
  } else if (type == "erasure_coding") {
    policy.type = PolicyType::erasure_coding;
    policy.ec_type = std::string(trim(ini.get(section, "ec_type").value_or("")));
    if (policy.ec_type.empty()) {
      throw ConfigError(fmt::format("{}: [{}] needs ec_type", ini.source(), section));
    }
    policy.ec_num_data_fragments = require_positive_int(ini, section, "ec_num_data_fragments");
    policy.ec_num_parity_fragments = require_positive_int(ini, section, "ec_num_parity_fragments");
    if (ini.get(section, "ec_object_segment_size")) {
      policy.ec_object_segment_size = static_cast<std::uint64_t>(
        require_positive_int(ini, section, "ec_object_segment_size"));
    }
  } else {
    throw ConfigError(fmt::format("{}: [{}] has unknown policy_type \"{}\" (replication or "
                                  "erasure_coding)",
                                  ini.source(),
                                  section,
                                  type));
  }
  return policy;
}

} // namespace

SwiftConf
load_swift_conf(const std::filesystem::path& swift_dir)
{
  return parse_swift_conf(IniFile::load(swift_dir / "swift.conf"));
}

SwiftConf
parse_swift_conf(const IniFile& ini)
{
  SwiftConf conf;
  conf.path = ini.source();
  conf.hash_path_prefix = ini.get("swift-hash", "swift_hash_path_prefix").value_or("");
  conf.hash_path_suffix = ini.get("swift-hash", "swift_hash_path_suffix").value_or("");
  if (conf.hash_path_prefix.empty() && conf.hash_path_suffix.empty()) {
    throw ConfigError(fmt::format("{}: [swift-hash]: both swift_hash_path_suffix and "
                                  "swift_hash_path_prefix are missing",
                                  ini.source()));
  }

  for (const auto& section : ini.section_names()) {
    if (section.starts_with(k_policy_prefix)) {
      conf.policies.push_back(parse_policy(ini, section));
    }
  }
  if (conf.policies.empty()) {
    // Swift's implicit legacy policy.
    StoragePolicy legacy;
    legacy.name = "Policy-0";
    legacy.aliases = {legacy.name};
    legacy.is_default = true;
    conf.policies.push_back(legacy);
  }
  std::sort(conf.policies.begin(), conf.policies.end(), [](const auto& a, const auto& b) {
    return a.index < b.index;
  });

  std::vector<std::string> seen_names;
  for (std::size_t i = 0; i < conf.policies.size(); ++i) {
    if (i > 0 && conf.policies[i].index == conf.policies[i - 1].index) {
      throw ConfigError(
        fmt::format("{}: duplicate storage policy index {}", ini.source(), conf.policies[i].index));
    }
    for (const auto& alias : conf.policies[i].aliases) {
      const std::string lower = to_lower(alias);
      if (std::find(seen_names.begin(), seen_names.end(), lower) != seen_names.end()) {
        throw ConfigError(
          fmt::format("{}: duplicate storage policy name \"{}\"", ini.source(), alias));
      }
      seen_names.push_back(lower);
    }
  }

  const auto defaults = std::count_if(conf.policies.begin(),
                                      conf.policies.end(),
                                      [](const auto& p) { return p.is_default; });
  if (defaults > 1) {
    throw ConfigError(
      fmt::format("{}: more than one storage policy is marked default", ini.source()));
  }
  if (defaults == 0) {
    if (conf.policies.size() == 1) {
      conf.policies.front().is_default = true;
    } else {
      throw ConfigError(fmt::format("{}: no storage policy is marked default", ini.source()));
    }
  }
  if (conf.default_policy().deprecated) {
    throw ConfigError(fmt::format("{}: the default storage policy is deprecated", ini.source()));
  }
  return conf;
}

const StoragePolicy&
SwiftConf::default_policy() const
{
  for (const auto& policy : policies) {
    if (policy.is_default) {
      return policy;
    }
  }
  throw ConfigError(fmt::format("{}: no default storage policy", path.string()));
}

const StoragePolicy*
SwiftConf::policy_by_index(int index) const
{
  for (const auto& policy : policies) {
    if (policy.index == index) {
      return &policy;
    }
  }
  return nullptr;
}

const StoragePolicy&
SwiftConf::find_policy(std::string_view name_or_index) const
{
  if (const auto index = parse_int(name_or_index)) {
    if (*index >= 0 && *index <= 0x7fffffff) {
      if (const auto* policy = policy_by_index(static_cast<int>(*index))) {
        return *policy;
      }
    }
  }
  const std::string wanted = to_lower(name_or_index);
  std::vector<std::string> names;
  for (const auto& policy : policies) {
    for (const auto& alias : policy.aliases) {
      if (to_lower(alias) == wanted) {
        return policy;
      }
      names.push_back(alias);
    }
  }
  throw ConfigError(fmt::format("unknown storage policy \"{}\" in {}{}",
                                printable(name_or_index),
                                path.string(),
                                did_you_mean(name_or_index, names)));
}

} // namespace hlm::ring
