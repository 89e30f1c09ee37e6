#pragma once

#include <hlm/connector/settings.hpp>
#include <hlm/util/ini.hpp>

#include <filesystem>
#include <optional>
#include <string>

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
  connector::Settings connector_settings;
};

// Throws hlm::ConfigError naming the file for unreadable files, unknown
// [hlm] keys, or connector modules that are not built in.
ObjectServerConf load_object_server_conf(const std::filesystem::path& path);
ObjectServerConf parse_object_server_conf(const IniFile& ini);

} // namespace hlm::handler
