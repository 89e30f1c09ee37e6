#pragma once

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

// The POSIX pieces under run_process (process.hpp): owned descriptors and
// pipes, and a child started with posix_spawnp. Use run_process instead.
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
// does not inherit (and hold open) our ends. Throws hlm::TransportError.
Pipe make_pipe();

// Throws hlm::TransportError.
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

// The spawned program. Kills (SIGKILL) and reaps it unless wait() reaped
// it, so that an exception leaves no zombie or orphan behind. Reaping only
// at the end also keeps its pid, and with it the process group id, from
// being reused while the group may still be signalled.
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

  // Signals the program and, when it leads its own group, the group.
  void signal(int number) const;
  // Waits for it to end; returns the waitpid status. Throws
  // hlm::TransportError.
  int wait();

private:
  pid_t m_pid;
  bool m_own_group;
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

} // namespace hlm::spawn
