#include "ssh_session.hpp"

#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>

namespace hlm::transport::detail {

namespace {

// libssh 0.10 sends no client keepalives. These make the kernel give up on
// a peer that stops acknowledging (blackhole, link down) long before the
// application idle timer; 4 s proved too short at 30 % packet loss.
constexpr unsigned k_tcp_user_timeout_ms = 20'000;
constexpr int k_keepalive_idle_s = 10;
constexpr int k_keepalive_interval_s = 5;
constexpr int k_keepalive_count = 3;

// Best effort: a socket that is not TCP just keeps its defaults.
void
tune_socket(socket_t fd)
{
  const int on = 1;
  const unsigned user_timeout = k_tcp_user_timeout_ms;
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &k_keepalive_idle_s, sizeof k_keepalive_idle_s);
  setsockopt(fd,
             IPPROTO_TCP,
             TCP_KEEPINTVL,
             &k_keepalive_interval_s,
             sizeof k_keepalive_interval_s);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &k_keepalive_count, sizeof k_keepalive_count);
}

template<typename T>
void
set_option(ssh_session session,
           ssh_options_e option,
           const T* value,
           const char* name,
           const std::string& peer)
{
  if (ssh_options_set(session, option, value) != SSH_OK) {
    throw TransportError(fmt::format("cannot set ssh option {} for {}: {}",
                                     name,
                                     peer,
                                     error_text(session, "invalid value")),
                         false);
  }
}

void
configure(ssh_session session, const SshOptions& options, const std::string& peer)
{
  const bool process_config = false; // ~/.ssh/config must not apply
  const int on = 1;
  const long timeout_s = static_cast<long>(options.connect_timeout.count() / 1000);
  const long timeout_us = static_cast<long>(options.connect_timeout.count() % 1000) * 1000;
  const std::string known_hosts = options.known_hosts_file.string();
  set_option(session, SSH_OPTIONS_HOST, options.host.c_str(), "host", peer);
  set_option(session, SSH_OPTIONS_PORT, &options.port, "port", peer);
  if (!options.user.empty()) {
    set_option(session, SSH_OPTIONS_USER, options.user.c_str(), "user", peer);
  }
  set_option(session, SSH_OPTIONS_PROCESS_CONFIG, &process_config, "process_config", peer);
  set_option(session, SSH_OPTIONS_KNOWNHOSTS, known_hosts.c_str(), "knownhosts", peer);
  set_option(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null", "global_knownhosts", peer);
  set_option(session, SSH_OPTIONS_STRICTHOSTKEYCHECK, &on, "stricthostkeycheck", peer);
  // Without it Nagle's algorithm roughly doubles connect-to-exec latency.
  set_option(session, SSH_OPTIONS_NODELAY, &on, "nodelay", peer);
  set_option(session, SSH_OPTIONS_TIMEOUT, &timeout_s, "timeout", peer);
  set_option(session, SSH_OPTIONS_TIMEOUT_USEC, &timeout_us, "timeout_usec", peer);
}

void
check_host_key(ssh_session session, const SshOptions& options, const std::string& peer)
{
  const std::string file = printable(options.known_hosts_file.string());
  // ssh_get_error() says nothing for all but SSH_KNOWN_HOSTS_ERROR.
  switch (ssh_session_is_known_server(session)) {
  case SSH_KNOWN_HOSTS_OK:
    return;
  case SSH_KNOWN_HOSTS_CHANGED:
    throw TransportError(
      fmt::format("host key for {} does not match known_hosts \"{}\": refusing", peer, file),
      false);
  case SSH_KNOWN_HOSTS_OTHER:
    throw TransportError(fmt::format("host key for {} is of another type than the one in "
                                     "known_hosts \"{}\": refusing",
                                     peer,
                                     file),
                         false);
  case SSH_KNOWN_HOSTS_UNKNOWN:
    // libssh 0.10 reports a missing file as an unknown host.
    if (std::error_code ec; !std::filesystem::exists(options.known_hosts_file, ec)) {
      throw TransportError(
        fmt::format("known_hosts \"{}\" does not exist: refusing to connect to {}", file, peer),
        false);
    }
    throw TransportError(fmt::format("host {} is not in known_hosts \"{}\": refusing", peer, file),
                         false);
  case SSH_KNOWN_HOSTS_NOT_FOUND:
    throw TransportError(
      fmt::format("known_hosts \"{}\" does not exist: refusing to connect to {}", file, peer),
      false);
  case SSH_KNOWN_HOSTS_ERROR:
    break;
  }
  throw TransportError(fmt::format("cannot check the host key of {} against known_hosts "
                                   "\"{}\": {}",
                                   peer,
                                   file,
                                   error_text(session, "unknown error")),
                       false);
}

void
authenticate(ssh_session session, const SshOptions& options, const std::string& peer, ssh_key key)
{
  const auto what = [&] {
    return fmt::format("public key authentication{} at {} with identity \"{}\"",
                       options.user.empty() ? "" : " as \"" + printable(options.user) + "\"",
                       peer,
                       printable(options.identity_file.string()));
  };
  switch (ssh_userauth_publickey(session, nullptr, key)) {
  case SSH_AUTH_SUCCESS:
    return;
  case SSH_AUTH_DENIED:
    throw TransportError(what() + " was denied", false);
  case SSH_AUTH_PARTIAL:
    throw TransportError(what() + " succeeded but the server wants more methods", false);
  case SSH_AUTH_AGAIN:
    throw TransportError(what() + " timed out after " + seconds_text(options.connect_timeout),
                         true);
  default:
    break;
  }
  throw TransportError(what() + " failed: " + error_text(session, "unknown error"), true);
}

} // namespace

std::string
peer_name(const SshOptions& options)
{
  if (options.host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", options.host, options.port);
  }
  return fmt::format("{}:{}", options.host, options.port);
}

void
check_identity_permissions(const std::filesystem::path& identity_file)
{
  struct stat status = {};
  // A file that cannot be stat'ed is left to the import, which names it.
  if (::stat(identity_file.c_str(), &status) != 0) {
    return;
  }
  // As OpenSSH refuses an "UNPROTECTED PRIVATE KEY FILE", but for every
  // owner: whoever else can read the key can log in to every storage node.
  const unsigned mode = status.st_mode & 07777U;
  if ((mode & 077U) != 0) {
    const std::string file = printable(identity_file.string());
    throw TransportError(fmt::format("identity file \"{}\" is accessible by others (mode "
                                     "{:04o}); chmod 600 \"{}\"",
                                     file,
                                     mode,
                                     file),
                         false);
  }
}

KeyPtr
load_identity(const SshOptions& options)
{
  const std::string identity = options.identity_file.string();
  if (identity.empty()) {
    throw TransportError(fmt::format("no identity file given for {}", peer_name(options)), false);
  }
  check_identity_permissions(options.identity_file);
  ssh_key key = nullptr;
  if (ssh_pki_import_privkey_file(identity.c_str(), nullptr, nullptr, nullptr, &key) != SSH_OK) {
    throw TransportError(fmt::format("cannot read identity file \"{}\" for {} (missing, "
                                     "unreadable, encrypted or not a private key)",
                                     printable(identity),
                                     peer_name(options)),
                         false);
  }
  return KeyPtr(key);
}

SessionPtr
open_session(const SshOptions& options, ssh_key key)
{
  const std::string peer = peer_name(options);
  if (options.known_hosts_file.empty()) {
    throw TransportError(fmt::format("no known_hosts file given for {}", peer), false);
  }
  SessionPtr session(ssh_new());
  if (!session) {
    throw TransportError("cannot create an ssh session", false);
  }
  configure(session.get(), options, peer);
  if (ssh_connect(session.get()) != SSH_OK) {
    throw TransportError(
      fmt::format(
        "cannot connect to {}: {}",
        peer,
        error_text(session.get(), "timed out after " + seconds_text(options.connect_timeout))),
      true);
  }
  tune_socket(ssh_get_fd(session.get()));
  check_host_key(session.get(), options, peer);
  authenticate(session.get(), options, peer, key);
  return session;
}

std::string
error_text(ssh_session session, std::string_view fallback)
{
  const char* text = ssh_get_error(session);
  if (text && *text) {
    return text;
  }
  return std::string(fallback);
}

std::string
seconds_text(std::chrono::milliseconds duration)
{
  return fmt::format("{:g} s", static_cast<double>(duration.count()) / 1000.0);
}

} // namespace hlm::transport::detail
