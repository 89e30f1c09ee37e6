#pragma once

#include <hlm/swift/auth.hpp>

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
  // Streaming (hlmctl status, hlm-dispatch): replicas per request document
  // to a node, and the most objects held between listing and outcome.
  std::size_t session_chunk = 2'000;
  std::size_t window = 50'000;
  std::chrono::seconds interval{30};
  std::filesystem::path lock_file = "/run/lock/hlm-dispatch.lock";
  // A request is tried up to max_attempts times; after the n-th failed
  // attempt the next waits retry_delay * 2^(n-1), at most retry_delay_max.
  int max_attempts = 5;
  std::chrono::seconds retry_delay{60};
  std::chrono::seconds retry_delay_max{3600};
  // The replicas per object a recall entry without `--copies` brings back
  // (queue::k_all_copies: all). 1: one on-disk replica serves every GET
  // where guarded reads are configured; where a node says they are not,
  // the dispatcher recalls every replica anyway.
  std::size_t recall_copies = 1;
  // A container request whose objects partly failed: up to this many failed
  // objects become requests of their own and the container request is
  // done; more (or 0 here) keep the container request whole.
  std::size_t max_failed_objects = 1'000;
  // A program hlm-dispatch runs for each request that completes or finally
  // fails (completion_hook.hpp): its argv (on_complete split at white
  // space; empty: none), and how long each run may take.
  std::vector<std::string> on_complete;
  // Batching thresholds, per operation, for each group of one storage
  // policy (CTA's mount criteria): its requests wait until they hold at
  // least min_objects objects or the oldest has waited max_wait; 0
  // objects: never held. A request queued with --priority high or above is
  // never held, and neither is a container request (a batch of its own).
  struct BatchThreshold
  {
    std::size_t min_objects = 0;
    std::uint64_t min_bytes = 0; // of the object requests' objects, as their rows list them
    std::chrono::seconds max_wait{1800};
  };
  BatchThreshold migrate_batch;
  BatchThreshold recall_batch;
  // A pending request gains one priority level per priority_aging waited
  // (0: never), so that low priority cannot starve.
  std::chrono::seconds priority_aging{3600};
  std::chrono::seconds on_complete_timeout{60};
  // The most days a `recall --days` may ask for (0: no limit), and what
  // hlmctl does with more: truncate to it (and say so) or refuse. The
  // dispatcher truncates a queued request's days over it either way (a
  // request accepted once is not refused later).
  int max_restore_days = 0;
  bool refuse_over_max_restore_days = false;

  // [hlmctl]
  // The objects of one container in a -f list from which hlmctl migrate or
  // recall queues them as list requests (list_manifest.hpp) instead of one
  // row each; 0: never, every object its own row.
  std::size_t list_min_objects = 100;

  // [nodes] and [node:<ip>]
  std::vector<std::string> local_addresses = {"127.0.0.1", "::1"};
  NodeAccess node_defaults;
  std::map<std::string, NodeAccess> nodes;

  // How to reach the storage host the rings call `ring_ip`: its
  // [node:<ip>] section, else [nodes]; ring IPs listed in local_addresses
  // use the local transport.
  NodeAccess access_for(const std::string& ring_ip) const;

  // [auth]: Swift credentials for hlmctl (a cron job that submits
  // requests, say), named like python-swiftclient's variables in lower
  // case (os_auth_token is `token`, os_storage_url `storage_url`). Each
  // field is unset when the file does not give it or gives it empty; the
  // environment and the command line win over it.
  swift::AuthOptions auth;
};

// The [auth] keys holding secrets that `auth` sets, of key, os_password
// and os_auth_token, in that order.
std::vector<std::string> auth_secrets(const swift::AuthOptions& auth);

inline constexpr const char* k_default_conf_path = "/etc/hlm/hlm.conf";

// Loads the configuration: `explicit_path` (--config) if given, else
// $HLM_CONF, else /etc/hlm/hlm.conf; the built-in defaults when that default
// file does not exist. Throws hlm::ConfigError naming the file and key for
// unknown sections or keys (with "did you mean"), bad values, a file
// given explicitly that cannot be read, or a file whose [auth] holds a
// secret while others may read or write it (see check_secret_file).
HlmConf load_hlm_conf(const std::optional<std::filesystem::path>& explicit_path,
                      const char* env_value);
HlmConf parse_hlm_conf(const std::string& text, const std::string& source);

// Throws hlm::ConfigError naming the file, the secrets, its mode and the
// chmod that fixes it when `conf` (read from `path`) holds secrets in
// [auth] and others (not owner, not group) may read or write the file
// (mode & 006). Group read stays allowed, for a root:swift 0640 file.
void check_secret_file(const std::filesystem::path& path, const HlmConf& conf);

} // namespace hlm::config
