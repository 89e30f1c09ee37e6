#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlm {

struct ProcessOptions
{
  // Ends a program that runs longer: SIGTERM, then SIGKILL after
  // `kill_grace`. Unset: no limit. The timeout holds until the program has
  // exited, also after it closed its stdout and stderr.
  std::optional<std::chrono::milliseconds> timeout;
  // Also how long a program gets to exit after SIGKILL before it is given
  // up (ProcessResult::abandoned).
  std::chrono::milliseconds kill_grace{2'000};
  // Starts the program as the leader of a new process group, so that ending
  // it (timeout, stop) also ends whatever it started and left in the group.
  // It also bounds the wait for a program that exited while something it
  // started still holds its stdout or stderr open: after `kill_grace` the
  // group is killed. Off, the program stays in the caller's group (and
  // gets the terminal's Ctrl-C), only the program itself is signalled, and
  // such leftovers are waited for until the timeout (output_held_open).
  bool own_process_group = true;
  // Set in the program's environment on top of this process's environment,
  // replacing variables of the same name.
  std::vector<std::pair<std::string, std::string>> environment;
  // How much of the end of stderr is kept.
  std::size_t error_output_cap = 64 * 1024;
};

// How a program ended.
struct ProcessResult
{
  std::optional<int> exit_status;    // set when it exited
  std::optional<std::string> signal; // set when a signal ended it ("KILL")
  std::string error_output;          // the last `error_output_cap` bytes of stderr
  // The program exited or closed its stdin before taking all of the input.
  // Not an error by itself: the exit status says whether it failed.
  bool input_truncated = false;
  bool timed_out = false; // the timeout ended it
  bool stopped = false;   // the output callback asked to stop; it was killed
  // It exited, but processes it started kept its stdout or stderr open for
  // `kill_grace` (or, without its own group, until the timeout); they were
  // killed (in its group) or left alone (outside), and their later output
  // is lost.
  bool output_held_open = false;
  // It did not exit within `kill_grace` after SIGKILL (stuck in the kernel,
  // e.g. on a hung file system) and was given up, not waited for: neither
  // exit_status nor signal is set, and it stays behind as a zombie of this
  // process once it does exit.
  bool abandoned = false;

  bool
  succeeded() const
  {
    return exit_status && *exit_status == 0 && !timed_out && !stopped;
  }
};

// Receives each chunk of the program's stdout as it arrives; returns false
// to stop reading, which kills the program.
using OutputSink = std::function<bool(std::string_view chunk)>;

// Runs `argv` as a child process (posix_spawnp: found through PATH when
// argv[0] has no slash; no shell), writing `input` to its stdin while
// reading its stdout and stderr, so that a large input or output never
// deadlocks, and returns when it has ended and been reaped, or been given
// up (abandoned). The program gets the default action of SIGTERM, SIGINT,
// SIGHUP, SIGQUIT, SIGCHLD and SIGPIPE whatever this process ignores. A
// SIGPIPE from writing to a program that stopped reading is absorbed
// (input_truncated), without changing the process-wide disposition; with
// SIGCHLD ignored in this process (SIG_IGN or SA_NOCLDWAIT) nothing is
// started, since the program's exit could not be waited for. Its exit is
// noticed through a pidfd, or where the kernel gives none by polling every
// 100 ms at most. Throws hlm::TransportError (not transient) when the
// program cannot be started (the message names it and the cause: "cannot
// run \"x\": No such file or directory") or the pipes fail; an exception
// from `on_output` propagates after the program is killed and reaped (or
// abandoned). Thread-safe: concurrent calls do not leak pipes into each
// other's children.
ProcessResult run_process(const std::vector<std::string>& argv,
                          std::string_view input,
                          const OutputSink& on_output,
                          const ProcessOptions& options = {});

// A program started with its stdin kept open, for a conversation with one
// process: input is sent piece by piece (send) while its stdout streams to
// `on_output` and its stderr is kept, and the caller can wait for an answer
// (wait_for) before sending more. run_process is one send() and finish().
// Everything run_process says about starting, signals, SIGPIPE, the exit
// and errors holds here; `options.timeout` counts from the start and ends
// the whole session. Not thread-safe: one thread drives a session (SIGPIPE
// is blocked in that thread while send writes). After finish(), or after a
// call threw (the program was killed), every call throws
// hlm::TransportError.
class ProcessSession
{
public:
  // Starts the program. Throws hlm::TransportError (not transient) when it
  // cannot be started.
  ProcessSession(const std::vector<std::string>& argv,
                 OutputSink on_output,
                 const ProcessOptions& options = {});
  // Unless finished: kills the program (SIGKILL) and reaps it, waiting at
  // most `kill_grace`.
  ~ProcessSession();
  ProcessSession(const ProcessSession&) = delete;
  ProcessSession& operator=(const ProcessSession&) = delete;

  // Writes `data` to the program's stdin, reading its output meanwhile, and
  // returns once all of it is written: true, or false when the program no
  // longer takes input (it exited or closed its stdin: input_truncated; or
  // the timeout or the output sink ended it). An exception (a pipe error,
  // or one from `on_output`) propagates after the program was killed.
  bool send(std::string_view data);
  // Reads the program's output until `done()` returns true (checked before
  // waiting and after each chunk of output) or the program has ended;
  // returns done().
  bool wait_for(const std::function<bool()>& done);
  // wait_for, returning (done()) once `limit` has passed too.
  bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit);
  // Closes stdin and returns how the program ended, as run_process does.
  // Call once; send and wait_for are not called after it.
  ProcessResult finish();

private:
  class Impl;
  std::unique_ptr<Impl> m_impl;
};

struct CapturedProcess
{
  ProcessResult result;
  std::string output;
  // The program wrote more than `max_output` bytes on stdout: it was killed
  // (result.stopped), `output` holds the first `max_output` bytes and
  // result.error_output what stderr held by then.
  bool output_overflow = false;
};

// run_process, collecting stdout up to `max_output` bytes.
CapturedProcess run_process_captured(const std::vector<std::string>& argv,
                                     std::string_view input,
                                     std::size_t max_output,
                                     const ProcessOptions& options = {});

} // namespace hlm
