#include <hlm/config/hlm_conf.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/ini.hpp>
#include <hlm/util/settings.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace hlm::config {

namespace {

const std::vector<std::string> k_sections = {"hlm", "dispatch", "hlmctl", "nodes", "auth"};

void
check_sections(const IniFile& ini)
{
  for (const auto& section : ini.section_names()) {
    if (section.starts_with("node:") || section == "DEFAULT"
        || std::find(k_sections.begin(), k_sections.end(), section) != k_sections.end()) {
      continue;
    }
    std::string message = fmt::format("{}: unknown section [{}]", ini.source(), printable(section));
    if (const auto hint = closest_match(section, k_sections)) {
      message += fmt::format(", did you mean [{}]?", *hint);
    }
    throw ConfigError(message);
  }
}

// The keys of [nodes] and [node:IP], but [nodes]' local_addresses.
void
read_node_access(Settings& settings, NodeAccess& access)
{
  using std::chrono::seconds;
  access.transport = settings.choice("transport",
                                     access.transport,
                                     {{"ssh", TransportKind::ssh}, {"local", TransportKind::local}},
                                     ChoiceNames::quoted);
  access.address = settings.take_or("address", access.address);
  access.port = static_cast<int>(settings.number("port", access.port, 1, 65535));
  access.user = settings.take_or("user", access.user);
  access.identity_file = settings.take_or("identity_file", access.identity_file.string());
  access.known_hosts = settings.take_or("known_hosts", access.known_hosts.string());
  access.connect_timeout = settings.duration(
    "connect_timeout",
    std::chrono::duration_cast<seconds>(access.connect_timeout),
    seconds(1),
    seconds(3600));
  access.io_timeout = settings.duration("io_timeout",
                                        std::chrono::duration_cast<seconds>(access.io_timeout),
                                        seconds(1),
                                        seconds(86400));
  access.handler = settings.take_or("handler", access.handler);
  access.object_server_confs = settings.list("object_server_conf", access.object_server_confs);
}

void
read_dispatch(Settings& settings, HlmConf& conf)
{
  using std::chrono::seconds;
  conf.batch_size = static_cast<std::size_t>(
    settings.number("batch_size", static_cast<long long>(conf.batch_size), 1, 10'000'000));
  conf.max_parallel_nodes = static_cast<std::size_t>(
    settings.number("max_parallel_nodes",
                    static_cast<long long>(conf.max_parallel_nodes),
                    1,
                    1024));
  conf.session_chunk = static_cast<std::size_t>(
    settings.number("session_chunk", static_cast<long long>(conf.session_chunk), 1, 1'000'000));
  conf.window = static_cast<std::size_t>(
    settings.number("window", static_cast<long long>(conf.window), 1, 100'000'000));
  conf.interval = settings.duration("interval", conf.interval, seconds(1), seconds(86400));
  conf.lock_file = settings.take_or("lock_file", conf.lock_file.string());
  conf.max_attempts = static_cast<int>(settings.number("max_attempts", conf.max_attempts, 1, 1000));
  conf.retry_delay =
    settings.duration("retry_delay", conf.retry_delay, seconds(0), seconds(604'800));
  conf.retry_delay_max =
    settings.duration("retry_delay_max", conf.retry_delay_max, seconds(0), seconds(604'800));
  conf.max_failed_objects = static_cast<std::size_t>(
    settings.number("max_failed_objects",
                    static_cast<long long>(conf.max_failed_objects),
                    0,
                    1'000'000));
  // Each key literal, so that the man page test finds it.
  const auto min_objects = [](std::size_t value) { return static_cast<long long>(value); };
  conf.migrate_batch.min_objects = static_cast<std::size_t>(
    settings.number("migrate_min_objects",
                    min_objects(conf.migrate_batch.min_objects),
                    0,
                    100'000'000));
  conf.migrate_batch.max_wait = settings.duration("migrate_max_wait",
                                                  conf.migrate_batch.max_wait,
                                                  seconds(0),
                                                  seconds(31'536'000));
  conf.recall_batch.min_objects = static_cast<std::size_t>(
    settings.number("recall_min_objects",
                    min_objects(conf.recall_batch.min_objects),
                    0,
                    100'000'000));
  conf.recall_batch.max_wait = settings.duration("recall_max_wait",
                                                 conf.recall_batch.max_wait,
                                                 seconds(0),
                                                 seconds(31'536'000));
  conf.migrate_batch.min_bytes = settings.size("migrate_min_bytes",
                                               conf.migrate_batch.min_bytes,
                                               Settings::Minimum::zero);
  conf.recall_batch.min_bytes = settings.size("recall_min_bytes",
                                              conf.recall_batch.min_bytes,
                                              Settings::Minimum::zero);
  conf.priority_aging =
    settings.duration("priority_aging", conf.priority_aging, seconds(0), seconds(31'536'000));
  if (const auto hook = settings.take("on_complete")) {
    std::istringstream words{std::string(*hook)};
    for (std::string word; words >> word;) {
      conf.on_complete.push_back(word);
    }
  }
  conf.on_complete_timeout =
    settings.duration("on_complete_timeout", conf.on_complete_timeout, seconds(1), seconds(86400));
  conf.max_restore_days = static_cast<int>(
    settings.number("max_restore_days", conf.max_restore_days, 0, 36'500));
  if (const auto action = settings.take("max_restore_days_action")) {
    const std::string_view value = trim(*action);
    if (value != "truncate" && value != "refuse") {
      settings.reject("max_restore_days_action", *action, "\"truncate\" or \"refuse\"");
    }
    conf.refuse_over_max_restore_days = value == "refuse";
  }
  if (const auto copies = settings.take("recall_copies")) {
    const auto parsed = queue::parse_copies(trim(*copies));
    if (!parsed) {
      settings.reject("recall_copies",
                      *copies,
                      fmt::format("\"all\" or a whole number from 1 to {}", queue::k_max_copies));
    }
    conf.recall_copies = *parsed;
  }
}

// [auth]'s keys and the fields they fill.
const std::vector<std::pair<std::string_view, std::optional<std::string> swift::AuthOptions::*>>
  k_auth_keys = {
    {"auth_url", &swift::AuthOptions::auth_url},
    {"user", &swift::AuthOptions::user},
    {"key", &swift::AuthOptions::key},
    {"auth_version", &swift::AuthOptions::auth_version},
    {"os_auth_url", &swift::AuthOptions::os_auth_url},
    {"os_username", &swift::AuthOptions::os_username},
    {"os_password", &swift::AuthOptions::os_password},
    {"os_project_name", &swift::AuthOptions::os_project_name},
    {"os_user_domain_name", &swift::AuthOptions::os_user_domain_name},
    {"os_project_domain_name", &swift::AuthOptions::os_project_domain_name},
    {"os_region_name", &swift::AuthOptions::os_region_name},
    {"os_interface", &swift::AuthOptions::os_interface},
    {"os_auth_token", &swift::AuthOptions::token},
    {"os_storage_url", &swift::AuthOptions::storage_url},
};

swift::AuthOptions
read_auth(Settings& settings)
{
  swift::AuthOptions auth;
  for (const auto& [key, field] : k_auth_keys) {
    // Empty means unset, as for python-swiftclient's variables.
    if (auto value = settings.take(key); value && !value->empty()) {
      auth.*field = std::move(value);
    }
  }
  return auth;
}

} // namespace

std::vector<std::string>
auth_secrets(const swift::AuthOptions& auth)
{
  std::vector<std::string> names;
  for (const auto& [name, value] : {std::pair{"key", &auth.key},
                                    std::pair{"os_password", &auth.os_password},
                                    std::pair{"os_auth_token", &auth.token}}) {
    if (*value) {
      names.emplace_back(name);
    }
  }
  return names;
}

std::vector<std::string>
NodeAccess::handler_argv() const
{
  std::vector<std::string> argv = {handler};
  for (const auto& conf : object_server_confs) {
    argv.push_back("--object-server-conf");
    argv.push_back(conf);
  }
  return argv;
}

NodeAccess
HlmConf::access_for(const std::string& ring_ip) const
{
  if (const auto it = nodes.find(ring_ip); it != nodes.end()) {
    return it->second;
  }
  NodeAccess access = node_defaults;
  if (std::find(local_addresses.begin(), local_addresses.end(), ring_ip) != local_addresses.end()) {
    access.transport = TransportKind::local;
  }
  return access;
}

HlmConf
parse_hlm_conf(const std::string& text, const std::string& source)
{
  const IniFile ini = IniFile::parse(text, source);
  check_sections(ini);
  HlmConf conf;
  conf.source = source;

  auto hlm = Settings::from_section(ini, "hlm");
  conf.swift_dir = hlm.take_or("swift_dir", conf.swift_dir.string());
  hlm.check_all_used();

  auto dispatch = Settings::from_section(ini, "dispatch");
  read_dispatch(dispatch, conf);
  dispatch.check_all_used();

  auto hlmctl = Settings::from_section(ini, "hlmctl");
  conf.list_min_objects = static_cast<std::size_t>(
    hlmctl.number("list_min_objects",
                  static_cast<long long>(conf.list_min_objects),
                  0,
                  1'000'000'000));
  hlmctl.check_all_used();

  auto nodes = Settings::from_section(ini, "nodes");
  read_node_access(nodes, conf.node_defaults);
  conf.local_addresses = nodes.list("local_addresses", conf.local_addresses);
  nodes.check_all_used();

  for (const auto& section : ini.section_names()) {
    if (!section.starts_with("node:")) {
      continue;
    }
    const std::string ip = section.substr(5);
    if (ip.empty()) {
      throw ConfigError(fmt::format("{}: [node:] needs the node's ring IP", source));
    }
    NodeAccess access = conf.access_for(ip);
    auto node = Settings::from_section(ini, section);
    read_node_access(node, access);
    node.check_all_used();
    conf.nodes[ip] = access;
  }

  auto auth = Settings::from_section(ini, "auth");
  conf.auth = read_auth(auth);
  auth.check_all_used();
  return conf;
}

void
check_secret_file(const std::filesystem::path& path, const HlmConf& conf)
{
  const auto secrets = auth_secrets(conf.auth);
  struct stat status = {};
  if (secrets.empty() || ::stat(path.c_str(), &status) != 0) {
    return;
  }
  const unsigned mode = status.st_mode & 07777U;
  if ((mode & 006U) == 0) {
    return;
  }
  std::string names;
  for (const auto& name : secrets) {
    names += (names.empty() ? "" : ", ") + name;
  }
  const std::string file = printable(path.string());
  throw ConfigError(fmt::format("{}: [auth] holds secrets ({}) but others may {} the file (mode "
                                "{:04o}); chmod o-rwx \"{}\"",
                                file,
                                names,
                                (mode & 004U) ? "read" : "write",
                                mode,
                                file));
}

HlmConf
load_hlm_conf(const std::optional<std::filesystem::path>& explicit_path, const char* env_value)
{
  std::filesystem::path path = k_default_conf_path;
  bool required = true;
  if (explicit_path) {
    path = *explicit_path;
  } else if (env_value && *env_value) {
    path = env_value;
  } else {
    required = false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!required && errno == ENOENT) {
      return HlmConf{};
    }
    throw ConfigError(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto conf = parse_hlm_conf(text.str(), path.string());
  check_secret_file(path, conf);
  return conf;
}

} // namespace hlm::config
