#include <hlm/handler/object_server_conf.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

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
  throw ConfigError(
    fmt::format("{}: [hlm] swifthlm_connector_module = {}: Python connector modules are "
                "not supported; set `connector = NAME` to a built-in connector, or use "
                "`connector = exec` to run your own program",
                ini.source(),
                printable(module)));
}

// Whether a paste filter section loads hlm_swift's guard ("egg:hlm_swift#guard",
// the distribution also spelled hlm-swift, or the factory named directly).
bool
is_guard_filter(const IniFile& ini, std::string_view name)
{
  const std::string section = fmt::format("filter:{}", name);
  if (const auto use = ini.get(section, "use")) {
    std::string value(trim(*use));
    std::replace(value.begin(), value.end(), '-', '_');
    return value == k_guard_filter;
  }
  const auto factory = ini.get(section, "paste.filter_factory");
  return factory && trim(*factory) == "hlm_swift.guard:filter_factory";
}

bool
pipeline_has_guard(const IniFile& ini)
{
  const auto pipeline = ini.get("pipeline:main", "pipeline");
  if (!pipeline) {
    return false;
  }
  std::vector<std::string> names;
  std::istringstream words{std::string(*pipeline)};
  for (std::string word; words >> word;) {
    names.push_back(std::move(word));
  }
  // The last element is the app; a filter after it would never run.
  for (std::size_t i = 0; i + 1 < names.size(); ++i) {
    if (is_guard_filter(ini, names[i])) {
      return true;
    }
  }
  return false;
}

// [hlm]: the connector (or the seed's module naming one) and the log level.
void
read_hlm_section(const IniFile& ini, ObjectServerConf& conf)
{
  auto hlm = Settings::from_section(ini, "hlm");
  const auto connector = hlm.take("connector");
  const auto module = hlm.take("swifthlm_connector_module");
  conf.log_level = hlm.take_last_of({"log_level", "set log_level"}).value_or(conf.log_level);
  hlm.check_all_used();
  if (connector && module) {
    throw ConfigError(
      fmt::format("{}: [hlm] sets both connector and swifthlm_connector_module; keep one",
                  ini.source()));
  }
  if (connector) {
    conf.connector = *connector;
  } else if (module) {
    conf.connector = connector_from_seed_module(ini, *module);
  }
}

} // namespace

std::vector<std::string>
guard_warnings(const ObjectServerConf& conf,
               int policy_index,
               std::string_view diskfile_module,
               const std::filesystem::path& swift_conf)
{
  std::vector<std::string> warnings;
  if (!conf.read_guard) {
    warnings.push_back(fmt::format(
      "reads of migrated objects on this node are not guarded: {} has no {} filter in its "
      "pipeline, so a GET of a tape stub is served as zeros or recalls it from tape "
      "(hlm-handler(8), GUARDED READS)",
      conf.path.string(),
      k_guard_filter));
  }
  if (diskfile_module != k_guard_diskfile) {
    warnings.push_back(fmt::format(
      "Swift's daemons on this node do not leave tape stubs alone: storage policy {} in {} "
      "does not set diskfile_module = {}, so the object auditor quarantines migrated "
      "replicas and the replicator may copy their zeros (hlm-handler(8), GUARDED READS)",
      policy_index,
      swift_conf.string(),
      k_guard_diskfile));
  }
  return warnings;
}

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
      throw ConfigError(
        fmt::format("{}: bind_port \"{}\" is not a port number", ini.source(), printable(*port)));
    }
    conf.bind_port = static_cast<int>(*number);
  }

  conf.read_guard = pipeline_has_guard(ini);

  read_hlm_section(ini, conf);
  const std::string section = "hlm:" + conf.connector;
  Settings::Values values;
  if (const auto* entries = ini.section(section)) {
    values = *entries;
  }
  conf.connector_settings = Settings(fmt::format("[{}] in {}", section, ini.source()),
                                     std::move(values));
  return conf;
}

} // namespace hlm::handler
