#include <hlm/config/hlm_conf.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/ini.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace hlm::config {

namespace {

std::vector<std::string>
split_list(std::string_view text)
{
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = trim(text.substr(0, comma));
    if (!item.empty()) {
      out.emplace_back(item);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return out;
}

class SectionReader
{
public:
  SectionReader(const IniFile& ini, std::string section, std::vector<std::string> known)
    : m_ini(ini),
      m_section(std::move(section)),
      m_known(std::move(known))
  {
    if (const auto* entries = ini.section(m_section)) {
      for (const auto& [key, value] : *entries) {
        if (std::find(m_known.begin(), m_known.end(), key) == m_known.end()) {
          std::string message = fmt::format(
            "{}: unknown key \"{}\" in [{}]", ini.source(), printable(key), m_section);
          if (const auto hint = closest_match(key, m_known)) {
            message += fmt::format(", did you mean \"{}\"?", *hint);
          }
          throw ConfigError(message);
        }
      }
    }
  }

  std::optional<std::string>
  get(std::string_view key) const
  {
    auto value = m_ini.get(m_section, key);
    if (value) {
      *value = std::string(trim(*value));
    }
    return value;
  }

  long long
  number(std::string_view key, long long fallback, long long min, long long max) const
  {
    const auto value = get(key);
    if (!value) {
      return fallback;
    }
    const auto parsed = parse_int(*value);
    if (!parsed || *parsed < min || *parsed > max) {
      throw ConfigError(fmt::format("{}: [{}] {} = \"{}\": expected a number from {} to {}",
                                    m_ini.source(), m_section, key, printable(*value), min, max));
    }
    return *parsed;
  }

  [[noreturn]] void
  bad(std::string_view key, const std::string& value, std::string_view expected) const
  {
    throw ConfigError(fmt::format("{}: [{}] {} = \"{}\": expected {}",
                                  m_ini.source(), m_section, key, printable(value), expected));
  }

private:
  const IniFile& m_ini;
  std::string m_section;
  std::vector<std::string> m_known;
};

const std::vector<std::string> k_node_keys = {
  "transport", "address", "port", "user", "identity_file", "known_hosts",
  "connect_timeout", "io_timeout", "handler", "object_server_conf"};

void
read_node_access(const SectionReader& reader, NodeAccess& access)
{
  if (const auto transport = reader.get("transport")) {
    if (*transport == "ssh") {
      access.transport = TransportKind::ssh;
    } else if (*transport == "local") {
      access.transport = TransportKind::local;
    } else {
      reader.bad("transport", *transport, "\"ssh\" or \"local\"");
    }
  }
  if (auto address = reader.get("address")) {
    access.address = *address;
  }
  access.port = static_cast<int>(reader.number("port", access.port, 1, 65535));
  if (auto user = reader.get("user")) {
    access.user = *user;
  }
  if (auto identity = reader.get("identity_file")) {
    access.identity_file = *identity;
  }
  if (auto known = reader.get("known_hosts")) {
    access.known_hosts = *known;
  }
  access.connect_timeout = std::chrono::seconds(
    reader.number("connect_timeout", access.connect_timeout.count() / 1000, 1, 3600));
  access.io_timeout = std::chrono::seconds(
    reader.number("io_timeout", access.io_timeout.count() / 1000, 1, 86400));
  if (auto handler = reader.get("handler")) {
    access.handler = *handler;
  }
  if (auto confs = reader.get("object_server_conf")) {
    access.object_server_confs = split_list(*confs);
  }
}

const std::vector<std::string> k_auth_keys = {
  "auth_url", "user", "key", "auth_version", "os_auth_url", "os_username", "os_password",
  "os_project_name", "os_user_domain_name", "os_project_domain_name", "os_region_name",
  "os_interface", "os_auth_token", "os_storage_url"};

swift::AuthOptions
read_auth(const IniFile& ini)
{
  const SectionReader reader(ini, "auth", k_auth_keys);
  // Empty means unset, as for python-swiftclient's variables.
  const auto set = [](std::optional<std::string>& field, std::optional<std::string> value) {
    if (value && !value->empty()) {
      field = std::move(value);
    }
  };
  swift::AuthOptions auth;
  set(auth.auth_url, reader.get("auth_url"));
  set(auth.user, reader.get("user"));
  set(auth.key, reader.get("key"));
  set(auth.auth_version, reader.get("auth_version"));
  set(auth.os_auth_url, reader.get("os_auth_url"));
  set(auth.os_username, reader.get("os_username"));
  set(auth.os_password, reader.get("os_password"));
  set(auth.os_project_name, reader.get("os_project_name"));
  set(auth.os_user_domain_name, reader.get("os_user_domain_name"));
  set(auth.os_project_domain_name, reader.get("os_project_domain_name"));
  set(auth.os_region_name, reader.get("os_region_name"));
  set(auth.os_interface, reader.get("os_interface"));
  set(auth.token, reader.get("os_auth_token"));
  set(auth.storage_url, reader.get("os_storage_url"));
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
  if (std::find(local_addresses.begin(), local_addresses.end(), ring_ip)
      != local_addresses.end()) {
    access.transport = TransportKind::local;
  }
  return access;
}

HlmConf
parse_hlm_conf(const std::string& text, const std::string& source)
{
  const IniFile ini = IniFile::parse(text, source);
  HlmConf conf;
  conf.source = source;

  static const std::array<std::string, 4> k_sections = {"hlm", "dispatch", "nodes", "auth"};
  for (const auto& section : ini.section_names()) {
    if (section.starts_with("node:") || section == "DEFAULT"
        || std::find(k_sections.begin(), k_sections.end(), section) != k_sections.end()) {
      continue;
    }
    std::string message = fmt::format("{}: unknown section [{}]", source, printable(section));
    if (const auto hint = closest_match(section, k_sections)) {
      message += fmt::format(", did you mean [{}]?", *hint);
    }
    throw ConfigError(message);
  }

  const SectionReader hlm(ini, "hlm", {"swift_dir"});
  if (auto dir = hlm.get("swift_dir")) {
    conf.swift_dir = *dir;
  }

  const SectionReader dispatch(ini, "dispatch",
                               {"batch_size", "max_parallel_nodes", "interval", "lock_file",
                                "max_attempts", "retry_delay", "retry_delay_max"});
  conf.batch_size = static_cast<std::size_t>(
    dispatch.number("batch_size", static_cast<long long>(conf.batch_size), 1, 10'000'000));
  conf.max_parallel_nodes = static_cast<std::size_t>(dispatch.number(
    "max_parallel_nodes", static_cast<long long>(conf.max_parallel_nodes), 1, 1024));
  conf.interval = std::chrono::seconds(dispatch.number("interval", conf.interval.count(), 1, 86400));
  if (auto lock = dispatch.get("lock_file")) {
    conf.lock_file = *lock;
  }
  conf.max_attempts = static_cast<int>(dispatch.number("max_attempts", conf.max_attempts, 1, 1000));
  conf.retry_delay =
    std::chrono::seconds(dispatch.number("retry_delay", conf.retry_delay.count(), 0, 604'800));
  conf.retry_delay_max = std::chrono::seconds(
    dispatch.number("retry_delay_max", conf.retry_delay_max.count(), 0, 604'800));

  std::vector<std::string> node_keys = k_node_keys;
  node_keys.push_back("local_addresses");
  const SectionReader nodes(ini, "nodes", node_keys);
  if (auto local = nodes.get("local_addresses")) {
    conf.local_addresses = split_list(*local);
  }
  read_node_access(nodes, conf.node_defaults);

  for (const auto& section : ini.section_names()) {
    if (!section.starts_with("node:")) {
      continue;
    }
    const std::string ip = section.substr(5);
    if (ip.empty()) {
      throw ConfigError(fmt::format("{}: [node:] needs the node's ring IP", source));
    }
    NodeAccess access = conf.access_for(ip);
    read_node_access(SectionReader(ini, section, k_node_keys), access);
    conf.nodes[ip] = access;
  }

  conf.auth = read_auth(ini);
  return conf;
}

void
check_secret_file(const std::filesystem::path& path, const HlmConf& conf)
{
  const auto secrets = auth_secrets(conf.auth);
  struct stat status {};
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
