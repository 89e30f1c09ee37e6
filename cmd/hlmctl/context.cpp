#include "context.hpp"

#include <hlm/swift/http.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace hlm::ctl {

const config::HlmConf&
Context::conf()
{
  if (!m_conf) {
    m_conf = config::load_hlm_conf(common.config, std::getenv("HLM_CONF"));
  }
  return *m_conf;
}

const ring::SwiftConf&
Context::swift_conf()
{
  if (!m_swift_conf) {
    m_swift_conf = ring::load_swift_conf(conf().swift_dir);
  }
  return *m_swift_conf;
}

swift::HttpOptions
Context::http_options() const
{
  swift::HttpOptions options;
  if (common.debug) {
    options.debug = [](const std::string& line) {
      std::fputs(fmt::format("hlmctl: debug: {}\n", line).c_str(), stderr);
    };
  }
  return options;
}

swift::Client&
Context::client()
{
  if (!m_client) {
    swift::global_init();
    // Field by field: flags win over the environment, which wins over
    // hlm.conf's [auth].
    m_client = std::make_unique<swift::Client>(
      swift::make_curl_client(http_options()),
      swift::overlay(swift::overlay(conf().auth, swift::auth_options_from_env()), common.auth));
  }
  return *m_client;
}

queue::RequestQueue&
Context::requests()
{
  if (!m_requests) {
    swift::global_init();
    m_queue_http = swift::make_curl_client(http_options());
    // swift.conf as swift_conf() read it: once per process.
    m_requests = std::make_unique<queue::RequestQueue>(*m_queue_http,
                                                       conf().swift_dir,
                                                       swift_conf());
  }
  return *m_requests;
}

swift::HttpClient&
Context::queue_http()
{
  requests();
  return *m_queue_http;
}

const dispatch::Fanout&
Context::fanout()
{
  if (!m_fanout) {
    m_fanout = std::make_unique<dispatch::Fanout>(
      conf(),
      dispatch::default_transport_factory(),
      [](const std::string& warning) {
        std::fputs(fmt::format("hlmctl: warning: {}\n", warning).c_str(), stderr);
      });
  }
  return *m_fanout;
}

queue::Target
Context::own_account(queue::Target target)
{
  if (target.account.empty()) {
    target.account = client().account();
  }
  return target;
}

Service&
Context::service()
{
  if (m_service) {
    return *m_service;
  }
  bool cluster = common.via == "cluster";
  std::string why;
  if (common.via == "auto") {
    const auto ring = conf().swift_dir / "container.ring.gz";
    std::error_code error;
    cluster = std::filesystem::exists(ring, error);
    why = cluster ? fmt::format(" ({} is here)", ring.string())
                  : fmt::format(" (no {}: not a host of the cluster)", ring.string());
  }
  if (cluster) {
    const auto& source = conf().source;
    m_service = cluster_service(
      client(),
      conf(),
      swift_conf(),
      fanout(),
      requests(),
      fmt::format("the cluster's own path (hlm.conf: {}; rings in {})",
                  source.empty() ? std::string("built-in defaults") : source.string(),
                  conf().swift_dir.string()));
    m_cluster = true;
  } else {
    m_service = interface_service(client());
  }
  if (common.verbose) {
    std::fputs(fmt::format("hlmctl: using {}{}\n", m_service->describe(), why).c_str(), stderr);
  }
  return *m_service;
}

void
add_common_options(CLI::App& cmd, CommonOptions& options)
{
  cmd.add_option("--config",
                 options.config,
                 "hlm.conf (default: $HLM_CONF, else /etc/hlm/hlm.conf)");
  cmd.add_flag("--json", options.json, "print JSON");
  cmd.add_flag("-v,--verbose", options.verbose, "say which path to hlm is used");
  cmd.add_flag("--debug",
               options.debug,
               "print each HTTP request to Swift with its status and time (never a secret)");
  cmd
    .add_option("--via",
                options.via,
                "reach hlm through the cluster itself or the proxy's HTTP interface "
                "(default auto: the cluster where its container ring is)")
    ->check(CLI::IsMember({"auto", "cluster", "interface"}));
  auto& auth = options.auth;
  const std::string group =
    "Authentication (default: python-swiftclient's environment variables, then hlm.conf [auth])";
  cmd.add_option("-A,--auth", auth.auth_url, "v1 auth URL ($ST_AUTH)")->group(group);
  cmd.add_option("-U,--user", auth.user, "v1 user, account:user ($ST_USER)")->group(group);
  cmd.add_option("-K,--key", auth.key, "v1 key ($ST_KEY)")->group(group);
  cmd
    .add_option("--auth-version", auth.auth_version, "1 or 3 ($ST_AUTH_VERSION, $OS_AUTH_VERSION)")
    ->group(group);
  cmd.add_option("--os-auth-url", auth.os_auth_url, "Keystone URL ($OS_AUTH_URL)")->group(group);
  cmd.add_option("--os-username", auth.os_username, "($OS_USERNAME)")->group(group);
  cmd.add_option("--os-password", auth.os_password, "($OS_PASSWORD)")->group(group);
  cmd.add_option("--os-project-name", auth.os_project_name, "($OS_PROJECT_NAME)")->group(group);
  cmd.add_option("--os-user-domain-name", auth.os_user_domain_name, "($OS_USER_DOMAIN_NAME)")
    ->group(group);
  cmd
    .add_option("--os-project-domain-name",
                auth.os_project_domain_name,
                "($OS_PROJECT_DOMAIN_NAME)")
    ->group(group);
  cmd.add_option("--os-auth-token", auth.token, "existing token ($OS_AUTH_TOKEN)")->group(group);
  cmd
    .add_option("--os-storage-url", auth.storage_url, "storage URL for the token ($OS_STORAGE_URL)")
    ->group(group);
}

} // namespace hlm::ctl
