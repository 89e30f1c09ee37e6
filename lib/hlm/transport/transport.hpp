#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::transport {

// How a remote program ended.
struct RunResult
{
  std::optional<int> exit_status; // set when it exited
  std::optional<std::string> signal; // set when a signal killed it ("KILL")
  std::string error_output;        // its stderr (capped, for messages)

  bool
  succeeded() const
  {
    return exit_status && *exit_status == 0;
  }
};

// Runs a program on a storage node with input on stdin and output streamed
// back. Implementations: local (a child process, argv only, no shell) and
// ssh (libssh).
class Transport
{
public:
  virtual ~Transport() = default;

  // A short description for messages, e.g. "ssh swift@10.0.0.5:22" or
  // "local".
  virtual std::string describe() const = 0;

  // Runs `argv` with `input` on its stdin, calling `on_output` with each
  // chunk of its stdout as it arrives (stdin is written while stdout is
  // read, so a large input or output never deadlocks), and returns when the
  // program has exited. Throws hlm::TransportError (transient() true for
  // timeouts and refused/reset connections) when the node cannot be reached,
  // authentication or the host key check fails, or the I/O idle timeout
  // passes.
  virtual RunResult run(const std::vector<std::string>& argv,
                        std::string_view input,
                        const std::function<void(std::string_view)>& on_output) = 0;
};

std::unique_ptr<Transport> make_local_transport();

struct SshOptions
{
  std::string host;
  int port = 22;
  std::string user;
  std::filesystem::path identity_file;     // private key
  std::filesystem::path known_hosts_file;  // required: keys are verified
  std::chrono::milliseconds connect_timeout{10'000};
  // No byte in either direction for this long fails the run.
  std::chrono::milliseconds io_timeout{60'000};
};

std::unique_ptr<Transport> make_ssh_transport(const SshOptions& options);

// Quotes `argv` for the remote shell that ssh's exec request runs.
std::string shell_quote(const std::vector<std::string>& argv);

} // namespace hlm::transport
