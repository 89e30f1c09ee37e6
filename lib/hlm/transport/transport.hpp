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
  std::optional<int> exit_status;    // set when it exited
  std::optional<std::string> signal; // set when a signal killed it ("KILL")
  std::string error_output;          // its stderr (capped, for messages)
  // True when the program exited or closed its stdin before taking all of
  // the input (EPIPE locally, a closed channel over ssh). Not an error by
  // itself: the exit status says whether the program failed.
  bool input_truncated = false;

  bool
  succeeded() const
  {
    return exit_status && *exit_status == 0;
  }
};

// Receives each chunk of a program's stdout as it arrives.
using OutputCallback = std::function<void(std::string_view)>;

// A program started on a storage node (Transport::start) with its stdin kept
// open, for a conversation: input is sent piece by piece while its stdout
// streams to the output callback, and the caller may wait for an answer
// before sending more. Output arrives only inside send, wait_for and finish,
// on the calling thread. Every call throws hlm::TransportError as
// Transport::run does (the node lost, the I/O idle timeout passed while the
// call waited); after an exception the channel is unusable. Destroying an
// unfinished channel ends the program (locally SIGKILL; over ssh the
// channel is closed).
class Channel
{
public:
  virtual ~Channel() = default;

  // Writes `data` to the program's stdin, delivering its output meanwhile
  // (so a large input never deadlocks), and returns once all of it is
  // written: true, or false when the program no longer takes input (it
  // exited or closed its stdin; RunResult::input_truncated then says so).
  virtual bool send(std::string_view data) = 0;
  // Delivers output until `done()` returns true (checked before waiting and
  // after each chunk) or the program has ended; returns done().
  virtual bool wait_for(const std::function<bool()>& done) = 0;
  // wait_for, returning (done()) once `limit` has passed too. By default
  // (a channel that cannot wait less) wait_for.
  virtual bool
  wait_for_at_most(const std::function<bool()>& done, std::chrono::milliseconds limit)
  {
    static_cast<void>(limit);
    return wait_for(done);
  }
  // Closes stdin (EOF), delivers the rest of the output, and returns how
  // the program ended. Call once, last.
  virtual RunResult finish() = 0;
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

  // Starts `argv` with its stdin open. One channel at a time per
  // transport: finish or destroy it before the next start (over ssh the
  // channels share one session). Throws hlm::TransportError
  // (transient() true for timeouts and refused/reset connections) when the
  // node cannot be reached, authentication or the host key check fails, or
  // the program cannot be started.
  virtual std::unique_ptr<Channel> start(const std::vector<std::string>& argv,
                                         OutputCallback on_output) = 0;

  // Runs `argv` with `input` on its stdin, calling `on_output` with each
  // chunk of its stdout as it arrives (stdin is written while stdout is
  // read, so a large input or output never deadlocks), and returns when the
  // program has exited: start, send and finish. Throws as start and the
  // channel's calls do.
  RunResult run(const std::vector<std::string>& argv,
                std::string_view input,
                const OutputCallback& on_output);
};

// Runs the program as a child process of this one, found through PATH
// (posix_spawnp, no shell). Keeps the last 64 KiB of its stderr. Throws
// hlm::TransportError (not transient) when the program cannot be started.
// Has no I/O timeout.
std::unique_ptr<Transport> make_local_transport();

struct SshOptions
{
  std::string host;
  int port = 22;
  std::string user;
  std::filesystem::path identity_file;    // private key
  std::filesystem::path known_hosts_file; // required: keys are verified
  std::chrono::milliseconds connect_timeout{10'000};
  // No byte in either direction for this long fails the run.
  std::chrono::milliseconds io_timeout{60'000};
};

// Connects on the first run() and reuses the session for later runs (one
// channel per run; a session found dead before the command starts is
// replaced once). `connect_timeout` bounds the TCP connect plus the SSH
// handshake and each later protocol exchange; `io_timeout` fails a run with
// no progress. Not thread-safe: use one transport per thread. Calls
// global_init() itself, but main should call it first, before any thread.
std::unique_ptr<Transport> make_ssh_transport(const SshOptions& options);

// Initialises libssh (ssh_init). Call once from main before any thread
// starts; later calls do nothing.
void global_init();

// Quotes `argv` for the remote shell that ssh's exec request runs.
// Each argument is POSIX single-quoted ('it'\''s'), joined by spaces.
// Throws hlm::InputError for an empty argv or a NUL byte in an argument.
std::string shell_quote(const std::vector<std::string>& argv);

} // namespace hlm::transport
