#pragma once

#include <hlm/util/ini.hpp>
#include <hlm/util/settings.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::handler {

// What hlm-handler needs from a storage node's object-server.conf: Swift's
// own `devices`, `mount_check`, `bind_port` and `swift_dir`, and the [hlm]
// section (the seed's place for the handler's settings) with the connector
// choice. The connector's own settings live in section [hlm:<connector>].
struct ObjectServerConf
{
  std::filesystem::path path;
  std::filesystem::path devices = "/srv/node";
  bool mount_check = true;
  std::optional<int> bind_port;
  std::filesystem::path swift_dir = "/etc/swift";
  std::string connector = "dummy";
  std::string log_level = "INFO";
  // [pipeline:main] has a filter that is hlm_swift's guard
  // (use = egg:hlm_swift#guard, or its paste.filter_factory) before the app.
  bool read_guard = false;
  Settings connector_settings;
};

// Throws hlm::ConfigError naming the file for unreadable files, unknown
// [hlm] keys, or connector modules that are not built in.
ObjectServerConf load_object_server_conf(const std::filesystem::path& path);
ObjectServerConf parse_object_server_conf(const IniFile& ini);

// The Swift settings that keep migrated replicas safe on this node, as
// hlm-handler(8) gives them: what is missing, one sentence each (empty when
// nothing is). `diskfile_module` is the request's storage policy's.
inline constexpr std::string_view k_guard_filter = "egg:hlm_swift#guard";
inline constexpr std::string_view k_guard_diskfile = "egg:hlm_swift#replication.fs";
std::vector<std::string> guard_warnings(const ObjectServerConf& conf,
                                        int policy_index,
                                        std::string_view diskfile_module,
                                        const std::filesystem::path& swift_conf);

} // namespace hlm::handler
