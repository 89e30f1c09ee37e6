#include <hlm/handler/object_server_conf.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <array>

namespace hlm::handler {

namespace {

constexpr std::string_view k_app_section = "app:object-server";

// The seed named Python modules; map the ones it shipped to our built-in
// connectors so an upgraded node keeps its configuration.
std::string
connector_from_seed_module(const IniFile& ini, std::string_view module)
{
  if (module == "swifthlm.dummy_connector") {
    return "dummy";
  }
  if (module == "swifthlm.ltfsdm_connector") {
    return "ltfsdm";
  }
  throw ConfigError(fmt::format(
    "{}: [hlm] swifthlm_connector_module = {}: Python connector modules are "
    "not supported; set `connector = NAME` to a built-in connector, or use "
    "`connector = exec` to run your own program",
    ini.source(),
    printable(module)));
}

} // namespace

ObjectServerConf
load_object_server_conf(const std::filesystem::path& path)
{
  return parse_object_server_conf(IniFile::load(path));
}

ObjectServerConf
parse_object_server_conf(const IniFile& ini)
{
  ObjectServerConf conf;
  conf.path = ini.source();
  if (auto devices = ini.get_with_default(k_app_section, "devices")) {
    conf.devices = std::string(trim(*devices));
  }
  if (auto mount_check = ini.get_with_default(k_app_section, "mount_check")) {
    conf.mount_check = config_true_value(*mount_check);
  }
  if (auto swift_dir = ini.get_with_default(k_app_section, "swift_dir")) {
    conf.swift_dir = std::string(trim(*swift_dir));
  }
  if (auto port = ini.get_with_default(k_app_section, "bind_port")) {
    const auto number = parse_int(trim(*port));
    if (!number || *number <= 0 || *number > 65535) {
      throw ConfigError(fmt::format(
        "{}: bind_port \"{}\" is not a port number", ini.source(), printable(*port)));
    }
    conf.bind_port = static_cast<int>(*number);
  }

  if (const auto* hlm = ini.section("hlm")) {
    std::optional<std::string> connector;
    std::optional<std::string> module;
    for (const auto& [key, value] : *hlm) {
      if (key == "connector") {
        connector = std::string(trim(value));
      } else if (key == "swifthlm_connector_module") {
        module = std::string(trim(value));
      } else if (key == "log_level" || key == "set log_level") {
        conf.log_level = std::string(trim(value));
      } else {
        static const std::array<std::string, 4> k_known = {
          "connector", "swifthlm_connector_module", "log_level", "set log_level"};
        std::string message = fmt::format(
          "{}: unknown key \"{}\" in [hlm]", ini.source(), printable(key));
        if (const auto hint = closest_match(key, k_known)) {
          message += fmt::format(", did you mean \"{}\"?", *hint);
        }
        throw ConfigError(message);
      }
    }
    if (connector && module) {
      throw ConfigError(fmt::format(
        "{}: [hlm] sets both connector and swifthlm_connector_module; keep one",
        ini.source()));
    }
    if (connector) {
      conf.connector = *connector;
    } else if (module) {
      conf.connector = connector_from_seed_module(ini, *module);
    }
  }

  const std::string section = "hlm:" + conf.connector;
  std::vector<std::pair<std::string, std::string>> values;
  if (const auto* entries = ini.section(section)) {
    values = *entries;
  }
  conf.connector_settings = connector::Settings(
    fmt::format("[{}] in {}", section, ini.source()), std::move(values));
  return conf;
}

} // namespace hlm::handler
