#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/ctl/service.hpp>
#include <hlm/dispatch/fanout.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/swift/client.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <optional>

namespace hlm::ctl {

// Options every Swift-facing subcommand takes (python-swiftclient's names).
struct CommonOptions
{
  std::optional<std::filesystem::path> config;
  swift::AuthOptions auth; // flags; the environment, then hlm.conf [auth], fill the rest
  bool json = false;
  bool verbose = false;
  bool debug = false;       // each HTTP exchange on stderr
  std::string via = "auto"; // auto, cluster or interface
};

// State shared by hlmctl's subcommands, built on first use so that a
// subcommand pays only for what it needs. A subcommand's callback sets
// `status` to its exit code.
class Context
{
public:
  int status = 0;
  CommonOptions common;

  const config::HlmConf& conf();
  const ring::SwiftConf& swift_conf();
  swift::Client& client();
  queue::RequestQueue& requests();
  // The HTTP client of requests() (the direct container-server protocol).
  swift::HttpClient& queue_http();
  const dispatch::Fanout& fanout();
  // The path to hlm (service.hpp): the cluster's own when hlm.conf's
  // swift_dir holds a container ring (a host of the cluster), else the
  // proxy's HTTP interface; --via chooses. -v says which.
  Service& service();
  // Whether service() is the cluster's own path (it reaches the queue and
  // the nodes).
  bool
  cluster()
  {
    service();
    return m_cluster;
  }
  // `target` with the caller's own account (the storage URL's) when it
  // names none.
  queue::Target own_account(queue::Target target);

private:
  swift::HttpOptions http_options() const;

  std::optional<config::HlmConf> m_conf;
  std::optional<ring::SwiftConf> m_swift_conf;
  std::unique_ptr<swift::Client> m_client;
  std::unique_ptr<swift::HttpClient> m_queue_http;
  std::unique_ptr<queue::RequestQueue> m_requests;
  std::unique_ptr<dispatch::Fanout> m_fanout;
  std::unique_ptr<Service> m_service;
  bool m_cluster = false;
};

// --config, --json and the authentication flags.
void add_common_options(CLI::App& cmd, CommonOptions& options);

} // namespace hlm::ctl
