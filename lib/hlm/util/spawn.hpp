#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <utility>
#include <vector>

// The POSIX pieces under run_process (process.hpp): owned descriptors and
// pipes, and a child started with posix_spawnp. Use run_process to run a
// program; Fd owns any descriptor.
namespace hlm::spawn {

// Owns a file descriptor.
class Fd
{
public:
  Fd() = default;
  explicit Fd(int fd)
    : m_fd(fd)
  {
  }
  Fd(Fd&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1))
  {
  }
  Fd&
  operator=(Fd&& other) noexcept
  {
    if (this != &other) {
      reset();
      m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd()
  {
    reset();
  }

  int
  get() const
  {
    return m_fd;
  }

  bool
  valid() const
  {
    return m_fd >= 0;
  }

  void
  reset()
  {
    if (m_fd >= 0) {
      ::close(m_fd);
      m_fd = -1;
    }
  }

private:
  int m_fd = -1;
};

struct Pipe
{
  Fd read;
  Fd write;
};

// Close-on-exec, so that a child spawned concurrently by another thread
// does not inherit (and hold open) our ends. Throws hlm::TransportError
// (not transient).
Pipe make_pipe();

// Throws hlm::TransportError (not transient).
void set_nonblocking(int fd);

// Blocks SIGPIPE in the calling thread while alive, so that writing to a
// child that stopped reading fails with EPIPE instead of killing the whole
// process, without changing the process-wide disposition behind the
// application's back. A SIGPIPE that our writes raised is discarded before
// the old mask comes back.
class SigpipeBlock
{
public:
  SigpipeBlock();
  ~SigpipeBlock();
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

  const sigset_t&
  old_mask() const
  {
    return m_old_mask;
  }

private:
  sigset_t m_sigpipe;
  sigset_t m_old_mask;
  bool m_was_pending = false;
};

// The spawned program. Its exit is noticed without reaping it (exited()),
// and it is reaped only at the end (reap()), so that its pid, and with it
// the process group id, cannot be reused while the group may still be
// signalled. Unless reaped or released, the destructor kills it (SIGKILL)
// and reaps it, waiting at most 2 seconds for it to exit, so that an
// exception leaves no orphan behind and never blocks for good.
class Child
{
public:
  Child(pid_t pid, bool own_group);
  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t
  pid() const
  {
    return m_pid;
  }

  // A descriptor (pidfd) that becomes readable once the program has
  // exited, for poll; -1 where the kernel gives none (pidfd_open fails with
  // ENOSYS before Linux 5.3, or EPERM under a seccomp filter): then poll
  // exited() on a timer.
  int
  exit_fd() const
  {
    return m_exit_fd.get();
  }

  // Whether the program has exited (it stays a zombie until reap()).
  // Throws hlm::TransportError.
  bool exited() const;
  // Waits up to `limit` for the program to exit; returns exited().
  bool wait_exit(std::chrono::milliseconds limit) const;
  // Signals the program and, when it leads its own group, the group.
  void signal(int number) const;
  // Reaps the program once exited() said so; returns the waitpid status.
  // Throws hlm::TransportError.
  int reap();
  // Gives the program up without reaping it (it did not exit even after
  // SIGKILL, e.g. stuck in a hung file system): it stays a zombie of this
  // process once it exits.
  void release();
  // Unless reaped or released: kills the program (SIGKILL) and reaps it
  // once it exits within `grace`, else (or when waiting fails) releases it.
  // What the destructor does.
  void kill_and_reap(std::chrono::milliseconds grace) noexcept;

private:
  pid_t m_pid;
  bool m_own_group;
  Fd m_exit_fd;
};

// Starts `argv` (posix_spawnp: PATH is searched when argv[0] has no slash)
// with stdin, stdout and stderr duplicated from `fds`, this process's
// environment with `environment` set on top, the signal mask `mask`, the
// default action for SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD and SIGPIPE
// (whatever this process ignores) and, with `own_group`, as the leader of
// a new process group. Throws hlm::TransportError naming the program and
// the cause when it cannot be started, and before starting it when
// SIGCHLD is ignored in this process (its exit could not be waited for).
Child spawn_child(const std::vector<std::string>& argv,
                  const std::vector<std::pair<std::string, std::string>>& environment,
                  const int (&fds)[3],
                  const sigset_t& mask,
                  bool own_group);

// "KILL" for SIGKILL, like ssh's exit-signal.
std::string signal_name(int number);

// For tests only: with `disabled`, children get no exit_fd(), as on a
// kernel without pidfd_open, so that the fallback is exercised.
void disable_exit_fd_for_testing(bool disabled);

} // namespace hlm::spawn
