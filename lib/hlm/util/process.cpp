#include <hlm/util/error.hpp>
#include <hlm/util/process.hpp>
#include <hlm/util/strings.hpp>
#include <hlm/util/tail_buffer.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

extern char** environ;

namespace hlm {

namespace {

constexpr std::size_t k_read_chunk = 64 * 1024;
// Reads per stream after the final SIGKILL: enough for what the pipes hold,
// bounded against a writer that escaped the process group.
constexpr int k_final_reads = 16;

using Clock = std::chrono::steady_clock;

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

// The spawned program. Kills and reaps it unless wait() reaped it, so that
// an exception (e.g. from the output callback) leaves no zombie or orphan
// behind. It is reaped only at the end, so its pid (and with it the process
// group id) cannot be reused while we may still signal the group.
class Child
{
public:
  Child(pid_t pid, bool own_group)
    : m_pid(pid),
      m_own_group(own_group)
  {
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child()
  {
    if (m_pid > 0) {
      signal(SIGKILL);
      int status = 0;
      while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  // Signals the program, or its whole process group.
  void
  signal(int number) const
  {
    if (m_own_group) {
      ::kill(-m_pid, number);
    }
    ::kill(m_pid, number);
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
  bool m_own_group;
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
  SpawnAttributes(const sigset_t& mask, bool own_group)
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
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (own_group) {
      posix_spawnattr_setpgroup(&m_attr, 0);
      flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&m_attr, flags);
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

// This process's environment with `overrides` set on top.
std::vector<std::string>
child_environment(const std::vector<std::pair<std::string, std::string>>& overrides)
{
  std::vector<std::string> result;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    const auto name = text.substr(0, text.find('='));
    const bool replaced = std::any_of(overrides.begin(), overrides.end(), [&](const auto& o) {
      return o.first == name;
    });
    if (!replaced) {
      result.emplace_back(text);
    }
  }
  for (const auto& [name, value] : overrides) {
    if (name.empty() || name.find('=') != std::string::npos) {
      throw TransportError(
        fmt::format("bad environment variable name \"{}\"", printable(name)), false);
    }
    result.push_back(name + "=" + value);
  }
  return result;
}

std::vector<char*>
c_strings(const std::vector<std::string>& strings)
{
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (const auto& text : strings) {
    result.push_back(const_cast<char*>(text.c_str()));
  }
  result.push_back(nullptr);
  return result;
}

// Becomes readable when the child exits, without reaping it. Invalid where
// the kernel lacks pidfd_open (before Linux 5.3): the exit is then noticed
// only when the output pipes close.
Fd
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
  return Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#else
  (void)pid;
  return Fd();
#endif
}

// One run: the poll loop over stdin, stdout, stderr and the child's exit,
// with the deadline that ends it.
class Runner
{
public:
  Runner(const std::vector<std::string>& argv,
         std::string_view input,
         const OutputSink& on_output,
         const ProcessOptions& options)
    : m_argv(argv),
      m_input(input),
      m_on_output(on_output),
      m_options(options),
      m_error_output(options.error_output_cap),
      m_buffer(k_read_chunk)
  {
  }

  ProcessResult run();

private:
  enum class Phase {
    running,     // until the timeout
    terminating, // SIGTERM sent, SIGKILL at the deadline
    exited,      // the child exited; its pipes may stay open until the deadline
  };

  void loop(Child& child);
  void write_input();
  bool drain(Fd& fd, bool is_stderr, int max_reads);
  void finish(Child& child);

  const std::vector<std::string>& m_argv;
  std::string_view m_input;
  const OutputSink& m_on_output;
  const ProcessOptions& m_options;
  ProcessResult m_result;
  TailBuffer m_error_output;
  std::vector<char> m_buffer;
  std::size_t m_written = 0;
  Fd m_to_child;
  Fd m_from_stdout;
  Fd m_from_stderr;
  Fd m_pidfd;
  Phase m_phase = Phase::running;
  Clock::time_point m_deadline = Clock::time_point::max();
};

ProcessResult
Runner::run()
{
  if (m_argv.empty()) {
    throw TransportError("cannot run an empty command", false);
  }
  auto c_argv = c_strings(m_argv);
  const auto environment = child_environment(m_options.environment);
  auto c_environment = c_strings(environment);

  const SigpipeBlock sigpipe_block;
  Pipe in = make_pipe();
  Pipe out = make_pipe();
  Pipe err = make_pipe();

  SpawnActions actions;
  actions.dup2(in.read.get(), STDIN_FILENO);
  actions.dup2(out.write.get(), STDOUT_FILENO);
  actions.dup2(err.write.get(), STDERR_FILENO);
  const SpawnAttributes attributes(sigpipe_block.old_mask(), m_options.own_process_group);

  pid_t pid = -1;
  // glibc reports exec failures (ENOENT, EACCES) here, not as exit 127.
  if (const int rc = posix_spawnp(&pid, c_argv[0], actions.get(), attributes.get(),
                                  c_argv.data(), c_environment.data());
      rc != 0) {
    throw TransportError(
      fmt::format("cannot run \"{}\": {}", printable(m_argv[0]), errno_text(rc)), false);
  }
  Child child(pid, m_options.own_process_group);
  if (m_options.timeout) {
    m_deadline = Clock::now() + *m_options.timeout;
  }
  in.read.reset();
  out.write.reset();
  err.write.reset();

  m_to_child = std::move(in.write);
  m_from_stdout = std::move(out.read);
  m_from_stderr = std::move(err.read);
  set_nonblocking(m_to_child.get());
  set_nonblocking(m_from_stdout.get());
  set_nonblocking(m_from_stderr.get());
  if (m_input.empty()) {
    m_to_child.reset();
  }
  // Without its own group the program's leftovers cannot be killed, so
  // its exit does not matter: we wait for the pipes to close, as a shell.
  if (m_options.own_process_group) {
    m_pidfd = open_pidfd(pid);
  }

  loop(child);

  const int status = child.wait();
  if (WIFEXITED(status)) {
    m_result.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    m_result.signal = signal_name(WTERMSIG(status));
  }
  m_result.error_output = m_error_output.take();
  return std::move(m_result);
}

void
Runner::loop(Child& child)
{
  while (m_to_child.valid() || m_from_stdout.valid() || m_from_stderr.valid()) {
    int wait_ms = -1;
    if (m_deadline != Clock::time_point::max()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(m_deadline - Clock::now());
      wait_ms = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 60'000));
    }
    std::array<pollfd, 4> fds{};
    nfds_t count = 0;
    const auto add = [&](const Fd& fd, short events) {
      if (fd.valid()) {
        fds[count++] = pollfd{fd.get(), events, 0};
      }
    };
    add(m_to_child, POLLOUT);
    add(m_from_stdout, POLLIN);
    add(m_from_stderr, POLLIN);
    add(m_pidfd, POLLIN);
    if (::poll(fds.data(), count, wait_ms) < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw TransportError("poll failed: " + errno_text(errno), false);
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      if (fds[i].fd == m_to_child.get()) {
        write_input();
      } else if (fds[i].fd == m_from_stdout.get()) {
        if (!drain(m_from_stdout, false, -1)) {
          m_result.stopped = true;
          child.signal(SIGKILL);
          m_to_child.reset();
          m_from_stdout.reset();
          m_from_stderr.reset();
          return;
        }
      } else if (fds[i].fd == m_from_stderr.get()) {
        drain(m_from_stderr, true, -1);
      } else if (fds[i].fd == m_pidfd.get()) {
        m_pidfd.reset();
        if (m_phase == Phase::running) {
          m_phase = Phase::exited;
          m_deadline = std::min(m_deadline, Clock::now() + m_options.kill_grace);
        }
      }
    }
    if (Clock::now() < m_deadline) {
      continue;
    }
    if (m_phase == Phase::running) {
      m_result.timed_out = true;
      m_phase = Phase::terminating;
      m_deadline = Clock::now() + m_options.kill_grace;
      m_to_child.reset();
      child.signal(SIGTERM);
      continue;
    }
    m_result.output_held_open = m_phase == Phase::exited;
    child.signal(SIGKILL);
    finish(child);
    return;
  }
}

void
Runner::write_input()
{
  const ssize_t n = ::write(m_to_child.get(), m_input.data() + m_written, m_input.size() - m_written);
  if (n >= 0) {
    m_written += static_cast<std::size_t>(n);
    if (m_written == m_input.size()) {
      m_to_child.reset();
    }
  } else if (errno == EPIPE) {
    m_result.input_truncated = true;
    m_to_child.reset();
  } else if (errno != EAGAIN && errno != EINTR) {
    throw TransportError(
      fmt::format("cannot write input of \"{}\": {}", printable(m_argv[0]), errno_text(errno)),
      false);
  }
}

// Reads until the pipe is empty (or `max_reads` reads, when not negative)
// and closes it at end of file. False when the output sink asked to stop.
bool
Runner::drain(Fd& fd, bool is_stderr, int max_reads)
{
  for (int reads = 0; max_reads < 0 || reads < max_reads; ++reads) {
    const ssize_t n = ::read(fd.get(), m_buffer.data(), m_buffer.size());
    if (n > 0) {
      const std::string_view chunk(m_buffer.data(), static_cast<std::size_t>(n));
      if (is_stderr) {
        m_error_output.append(chunk);
      } else if (!m_on_output(chunk)) {
        return false;
      }
      continue;
    }
    if (n == 0) {
      fd.reset();
      return true;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN) {
      return true;
    }
    throw TransportError(
      fmt::format("cannot read output of \"{}\": {}", printable(m_argv[0]), errno_text(errno)),
      false);
  }
  return true;
}

// After the final SIGKILL: keeps what the pipes already hold (the last
// words on stderr explain a timeout) and stops reading, since a process
// that left the group could keep them open forever.
void
Runner::finish(Child& child)
{
  m_to_child.reset();
  if (m_from_stdout.valid() && !drain(m_from_stdout, false, k_final_reads)) {
    m_result.stopped = true;
    child.signal(SIGKILL);
  }
  if (m_from_stderr.valid()) {
    drain(m_from_stderr, true, k_final_reads);
  }
  m_from_stdout.reset();
  m_from_stderr.reset();
}

} // namespace

ProcessResult
run_process(const std::vector<std::string>& argv,
            std::string_view input,
            const OutputSink& on_output,
            const ProcessOptions& options)
{
  return Runner(argv, input, on_output, options).run();
}

CapturedProcess
run_process_captured(const std::vector<std::string>& argv,
                     std::string_view input,
                     std::size_t max_output,
                     const ProcessOptions& options)
{
  CapturedProcess captured;
  captured.result = run_process(
    argv,
    input,
    [&](std::string_view chunk) {
      if (chunk.size() > max_output - captured.output.size()) {
        captured.output.append(chunk.substr(0, max_output - captured.output.size()));
        captured.output_overflow = true;
        return false;
      }
      captured.output.append(chunk);
      return true;
    },
    options);
  return captured;
}

} // namespace hlm
