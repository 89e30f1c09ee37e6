#include "tail_buffer.hpp"

#include <hlm/transport/transport.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

extern char** environ;

namespace hlm::transport {

namespace {

constexpr std::size_t k_error_output_cap = 64 * 1024;
constexpr std::size_t k_read_chunk = 64 * 1024;

std::string
errno_text(int error)
{
  return std::strerror(error);
}

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
// does not inherit (and hold open) our ends.
Pipe
make_pipe()
{
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw TransportError("cannot create a pipe: " + errno_text(errno), true);
  }
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

void
set_nonblocking(int fd)
{
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    throw TransportError("cannot make a pipe non-blocking: " + errno_text(errno), true);
  }
}

// Blocks SIGPIPE in the calling thread while alive, so that writing to a
// child that stopped reading fails with EPIPE instead of killing the whole
// process, without changing the process-wide disposition behind the
// application's back. A SIGPIPE that our writes raised is discarded before
// the old mask comes back.
class SigpipeBlock
{
public:
  SigpipeBlock()
  {
    sigemptyset(&m_sigpipe);
    sigaddset(&m_sigpipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &m_sigpipe, &m_old_mask);
    sigset_t pending;
    sigpending(&pending);
    m_was_pending = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlock()
  {
    if (!m_was_pending) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec no_wait{};
        sigtimedwait(&m_sigpipe, nullptr, &no_wait);
      }
    }
    pthread_sigmask(SIG_SETMASK, &m_old_mask, nullptr);
  }
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

// Kills and reaps the child unless wait() reaped it, so that an exception
// (e.g. from the output callback) leaves no zombie or orphan behind.
class Child
{
public:
  explicit Child(pid_t pid)
    : m_pid(pid)
  {
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child()
  {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      int status = 0;
      while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  int
  wait()
  {
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0) {
      if (errno != EINTR) {
        throw TransportError("cannot wait for child process: " + errno_text(errno), false);
      }
    }
    m_pid = -1;
    return status;
  }

private:
  pid_t m_pid;
};

class SpawnActions
{
public:
  SpawnActions()
  {
    posix_spawn_file_actions_init(&m_actions);
  }
  ~SpawnActions()
  {
    posix_spawn_file_actions_destroy(&m_actions);
  }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;

  void
  dup2(int fd, int target)
  {
    if (const int rc = posix_spawn_file_actions_adddup2(&m_actions, fd, target); rc != 0) {
      throw TransportError("cannot set up child process: " + errno_text(rc), false);
    }
  }

  const posix_spawn_file_actions_t*
  get() const
  {
    return &m_actions;
  }

private:
  posix_spawn_file_actions_t m_actions;
};

class SpawnAttributes
{
public:
  explicit SpawnAttributes(const sigset_t& mask)
  {
    posix_spawnattr_init(&m_attr);
    // The child gets the caller's mask (not ours with SIGPIPE blocked) and
    // the default SIGPIPE action even if this process ignores SIGPIPE, so
    // that it dies quietly when its reader goes away, as from a shell.
    sigset_t sigpipe;
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    posix_spawnattr_setsigmask(&m_attr, &mask);
    posix_spawnattr_setsigdefault(&m_attr, &sigpipe);
    posix_spawnattr_setflags(&m_attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnAttributes()
  {
    posix_spawnattr_destroy(&m_attr);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;

  const posix_spawnattr_t*
  get() const
  {
    return &m_attr;
  }

private:
  posix_spawnattr_t m_attr;
};

// "KILL" for SIGKILL, like ssh's exit-signal.
std::string
signal_name(int number)
{
  if (const char* name = sigabbrev_np(number)) {
    return name;
  }
  return std::to_string(number);
}

class LocalTransport : public Transport
{
public:
  std::string
  describe() const override
  {
    return "local";
  }

  RunResult run(const std::vector<std::string>& argv,
                std::string_view input,
                const std::function<void(std::string_view)>& on_output) override;
};

RunResult
LocalTransport::run(const std::vector<std::string>& argv,
                    std::string_view input,
                    const std::function<void(std::string_view)>& on_output)
{
  if (argv.empty()) {
    throw TransportError("cannot run an empty command", false);
  }
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const auto& arg : argv) {
    c_argv.push_back(const_cast<char*>(arg.c_str()));
  }
  c_argv.push_back(nullptr);

  const SigpipeBlock sigpipe_block;
  Pipe in = make_pipe();
  Pipe out = make_pipe();
  Pipe err = make_pipe();

  SpawnActions actions;
  actions.dup2(in.read.get(), STDIN_FILENO);
  actions.dup2(out.write.get(), STDOUT_FILENO);
  actions.dup2(err.write.get(), STDERR_FILENO);
  const SpawnAttributes attributes(sigpipe_block.old_mask());

  pid_t pid = -1;
  // glibc reports exec failures (ENOENT, EACCES) here, not as exit 127.
  if (const int rc = posix_spawnp(&pid, c_argv[0], actions.get(), attributes.get(),
                                  c_argv.data(), environ);
      rc != 0) {
    throw TransportError(
      fmt::format("cannot run \"{}\": {}", printable(argv[0]), errno_text(rc)), false);
  }
  Child child(pid);
  in.read.reset();
  out.write.reset();
  err.write.reset();

  Fd to_child = std::move(in.write);
  Fd from_stdout = std::move(out.read);
  Fd from_stderr = std::move(err.read);
  set_nonblocking(to_child.get());
  set_nonblocking(from_stdout.get());
  set_nonblocking(from_stderr.get());

  RunResult result;
  TailBuffer error_output(k_error_output_cap);
  std::size_t written = 0;
  if (input.empty()) {
    to_child.reset();
  }
  std::vector<char> buffer(k_read_chunk);

  // Reads until the pipe is empty; closes it at end of file.
  const auto drain = [&](Fd& fd, bool is_stderr) {
    while (true) {
      const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
      if (n > 0) {
        const std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
        if (is_stderr) {
          error_output.append(chunk);
        } else {
          on_output(chunk);
        }
        continue;
      }
      if (n == 0) {
        fd.reset();
        return;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        return;
      }
      throw TransportError(fmt::format("cannot read output of \"{}\": {}",
                                       printable(argv[0]), errno_text(errno)),
                           false);
    }
  };

  while (to_child.valid() || from_stdout.valid() || from_stderr.valid()) {
    pollfd fds[3];
    nfds_t count = 0;
    const auto add = [&](const Fd& fd, short events) {
      if (fd.valid()) {
        fds[count++] = pollfd{fd.get(), events, 0};
      }
    };
    add(to_child, POLLOUT);
    add(from_stdout, POLLIN);
    add(from_stderr, POLLIN);
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw TransportError("poll failed: " + errno_text(errno), false);
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      if (fds[i].fd == to_child.get()) {
        const ssize_t n = ::write(to_child.get(), input.data() + written, input.size() - written);
        if (n >= 0) {
          written += static_cast<std::size_t>(n);
          if (written == input.size()) {
            to_child.reset();
          }
        } else if (errno == EPIPE) {
          result.input_truncated = true;
          to_child.reset();
        } else if (errno != EAGAIN && errno != EINTR) {
          throw TransportError(fmt::format("cannot write input of \"{}\": {}",
                                           printable(argv[0]), errno_text(errno)),
                               false);
        }
      } else if (fds[i].fd == from_stdout.get()) {
        drain(from_stdout, false);
      } else if (fds[i].fd == from_stderr.get()) {
        drain(from_stderr, true);
      }
    }
  }

  const int status = child.wait();
  if (WIFEXITED(status)) {
    result.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = signal_name(WTERMSIG(status));
  }
  result.error_output = error_output.take();
  return result;
}

} // namespace

std::unique_ptr<Transport>
make_local_transport()
{
  return std::make_unique<LocalTransport>();
}

} // namespace hlm::transport
