#pragma once

// Private to the ssh transport: opening an authenticated libssh session.

#include <hlm/transport/transport.hpp>

#include <libssh/libssh.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace hlm::transport::detail {

struct SessionFree
{
  void
  operator()(ssh_session session) const noexcept
  {
    // Sends SSH_MSG_DISCONNECT without waiting and frees the session's
    // remaining channels.
    ssh_disconnect(session);
    ssh_free(session);
  }
};
using SessionPtr = std::unique_ptr<ssh_session_struct, SessionFree>;

struct KeyFree
{
  void
  operator()(ssh_key key) const noexcept
  {
    ssh_key_free(key);
  }
};
using KeyPtr = std::unique_ptr<ssh_key_struct, KeyFree>;

// "host:port" for messages, "[host]:port" for an IPv6 literal.
std::string peer_name(const SshOptions& options);

// Throws hlm::TransportError, not transient, when `identity_file` grants
// any permission to its group or others (mode & 077), naming the file, its
// mode and the chmod that fixes it. A file that does not exist passes.
void check_identity_permissions(const std::filesystem::path& identity_file);

// Reads options.identity_file (unencrypted). Throws hlm::TransportError,
// not transient, when it is missing, accessible by others (see
// check_identity_permissions) or not a private key.
KeyPtr load_identity(const SshOptions& options);

// Connects (connect_timeout bounds TCP connect plus key exchange, and later
// each blocking libssh call), accepts only a host key listed in
// options.known_hosts_file, sets TCP keepalive and TCP_USER_TIMEOUT on the
// socket and authenticates with `key`. Returns the session in blocking
// mode. Throws hlm::TransportError: transient when the host cannot be
// reached or does not answer in time, not transient for a host key
// mismatch, an unknown host or refused authentication.
SessionPtr open_session(const SshOptions& options, ssh_key key);

// ssh_get_error(), or `fallback` where libssh left it empty.
std::string error_text(ssh_session session, std::string_view fallback);

// "1.5 s"
std::string seconds_text(std::chrono::milliseconds duration);

} // namespace hlm::transport::detail
