#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hlm::config {

enum class TransportKind { local, ssh };

// How one storage host is reached and how hlm-handler runs there.
struct NodeAccess
{
  TransportKind transport = TransportKind::ssh;
  std::string address; // where to connect; empty: the ring's IP
  int port = 22;
  std::string user = "swift";
  std::filesystem::path identity_file = "/etc/hlm/id_ed25519";
  std::filesystem::path known_hosts = "/etc/hlm/known_hosts";
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds io_timeout{60'000};
  std::string handler = "hlm-handler";
  // Passed to the handler as --object-server-conf each; empty: its default.
  std::vector<std::string> object_server_confs;

  // The handler's command line on the node.
  std::vector<std::string> handler_argv() const;
};

// hlm's own configuration: only what Swift's files do not already say
// (swift.conf, rings and object-server.conf are read where they are).
struct HlmConf
{
  std::filesystem::path source; // empty when built-in defaults are used
  std::filesystem::path swift_dir = "/etc/swift";

  // [dispatch]
  std::size_t batch_size = 10'000;
  std::size_t max_parallel_nodes = 8;
  std::chrono::seconds interval{30};
  std::filesystem::path lock_file = "/run/lock/hlm-dispatch.lock";

  // [nodes] and [node:<ip>]
  std::vector<std::string> local_addresses = {"127.0.0.1", "::1"};
  NodeAccess node_defaults;
  std::map<std::string, NodeAccess> nodes;

  // How to reach the storage host the rings call `ring_ip`: its
  // [node:<ip>] section, else [nodes]; ring IPs listed in local_addresses
  // use the local transport.
  NodeAccess access_for(const std::string& ring_ip) const;
};

inline constexpr const char* k_default_conf_path = "/etc/hlm/hlm.conf";

// Loads the configuration: `explicit_path` (--config) if given, else
// $HLM_CONF, else /etc/hlm/hlm.conf; the built-in defaults when that default
// file does not exist. Throws hlm::ConfigError naming the file and key for
// unknown sections or keys (with "did you mean"), bad values, or a file
// given explicitly that cannot be read.
HlmConf load_hlm_conf(const std::optional<std::filesystem::path>& explicit_path,
                      const char* env_value);
HlmConf parse_hlm_conf(const std::string& text, const std::string& source);

} // namespace hlm::config
