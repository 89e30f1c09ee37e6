#include <hlm/util/error.hpp>
#include <hlm/util/spawn.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>

extern char** environ;

namespace hlm::spawn {

namespace {

using Clock = std::chrono::steady_clock;

// Polling for the exit where there is no pidfd.
constexpr std::chrono::milliseconds k_first_tick{1};
constexpr std::chrono::milliseconds k_max_tick{100};
constexpr std::chrono::milliseconds k_destructor_wait{2'000};

std::atomic<bool> g_exit_fd_disabled{false};

std::string
errno_text(int error)
{
  return std::strerror(error);
}

// Becomes readable when the child exits, without reaping it. Invalid where
// the kernel lacks pidfd_open (before Linux 5.3) or a seccomp filter
// refuses it.
Fd
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
  if (!g_exit_fd_disabled) {
    return Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  }
#endif
  (void)pid;
  return Fd();
}

// With SIGCHLD ignored (SIG_IGN, or SA_NOCLDWAIT) the kernel reaps
// children at once: their exit status is lost, waitpid fails with ECHILD,
// and their pids may be reused while we would still signal them.
bool
sigchld_ignored()
{
  struct sigaction action
  {};
  if (::sigaction(SIGCHLD, nullptr, &action) != 0) {
    return false;
  }
  const bool ignored = (action.sa_flags & SA_SIGINFO) == 0 && action.sa_handler == SIG_IGN;
  return ignored || (action.sa_flags & SA_NOCLDWAIT) != 0;
}

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
    // the default actions of the signals that end or manage programs, even
    // where this process ignores them (as inherited from its own parent):
    // SIGPIPE, so that it dies quietly when its reader goes away, as from
    // a shell; SIGTERM, so that the timeout ends it without waiting for
    // SIGKILL; SIGINT, SIGHUP and SIGQUIT, so that an operator can; SIGCHLD,
    // so that it can wait for its own children.
    sigset_t defaults;
    sigemptyset(&defaults);
    for (const int number : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGPIPE}) {
      sigaddset(&defaults, number);
    }
    posix_spawnattr_setsigmask(&m_attr, &mask);
    posix_spawnattr_setsigdefault(&m_attr, &defaults);
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
      throw TransportError(fmt::format("bad environment variable name \"{}\"", printable(name)),
                           false);
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

} // namespace

Pipe
make_pipe()
{
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw TransportError("cannot create a pipe: " + errno_text(errno), false);
  }
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

void
set_nonblocking(int fd)
{
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    throw TransportError("cannot make a pipe non-blocking: " + errno_text(errno), false);
  }
}

SigpipeBlock::SigpipeBlock()
{
  sigemptyset(&m_sigpipe);
  sigaddset(&m_sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &m_sigpipe, &m_old_mask);
  sigset_t pending;
  sigpending(&pending);
  m_was_pending = sigismember(&pending, SIGPIPE) == 1;
}

SigpipeBlock::~SigpipeBlock()
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

Child::Child(pid_t pid, bool own_group)
  : m_pid(pid),
    m_own_group(own_group),
    m_exit_fd(open_pidfd(pid))
{
}

Child::Child(Child&& other) noexcept
  : m_pid(std::exchange(other.m_pid, -1)),
    m_own_group(other.m_own_group),
    m_exit_fd(std::move(other.m_exit_fd))
{
}

Child::~Child()
{
  kill_and_reap(k_destructor_wait);
}

void
Child::kill_and_reap(std::chrono::milliseconds grace) noexcept
{
  if (m_pid <= 0) {
    return;
  }
  try {
    signal(SIGKILL);
    if (wait_exit(grace)) {
      reap();
      return;
    }
  } catch (const TransportError&) {
    // Given up below: waiting failed, the program cannot be reaped.
  }
  release();
}

bool
Child::exited() const
{
  // WNOWAIT: noticed, not reaped.
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno != EINTR) {
      throw TransportError("cannot wait for child process: " + errno_text(errno), false);
    }
  }
  return info.si_pid != 0;
}

bool
Child::wait_exit(std::chrono::milliseconds limit) const
{
  const auto deadline = Clock::now() + limit;
  auto tick = k_first_tick;
  while (!exited()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return false;
    }
    if (m_exit_fd.valid()) {
      pollfd fd{m_exit_fd.get(), POLLIN, 0};
      ::poll(&fd,
             1,
             static_cast<int>(std::min<std::chrono::milliseconds::rep>(left.count(), 60'000)));
    } else {
      std::this_thread::sleep_for(std::min(tick, left));
      tick = std::min(2 * tick, k_max_tick);
    }
  }
  return true;
}

void
Child::signal(int number) const
{
  if (m_pid <= 0) {
    return; // reaped or released: never kill(-1) or a reused pid
  }
  if (m_own_group) {
    ::kill(-m_pid, number);
  }
  ::kill(m_pid, number);
}

int
Child::reap()
{
  if (m_pid <= 0) {
    throw TransportError("child process was already reaped", false);
  }
  int status = 0;
  while (::waitpid(m_pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw TransportError("cannot wait for child process: " + errno_text(errno), false);
    }
  }
  m_pid = -1;
  m_exit_fd.reset();
  return status;
}

void
Child::release()
{
  m_pid = -1;
  m_exit_fd.reset();
}

Child
spawn_child(const std::vector<std::string>& argv,
            const std::vector<std::pair<std::string, std::string>>& environment,
            const int (&fds)[3],
            const sigset_t& mask,
            bool own_group)
{
  if (argv.empty()) {
    throw TransportError("cannot run an empty command", false);
  }
  if (sigchld_ignored()) {
    throw TransportError(
      fmt::format("cannot run \"{}\": SIGCHLD is ignored in this process, so its exit could "
                  "not be waited for",
                  printable(argv[0])),
      false);
  }
  auto c_argv = c_strings(argv);
  const auto child_env = child_environment(environment);
  auto c_env = c_strings(child_env);
  SpawnActions actions;
  actions.dup2(fds[0], STDIN_FILENO);
  actions.dup2(fds[1], STDOUT_FILENO);
  actions.dup2(fds[2], STDERR_FILENO);
  const SpawnAttributes attributes(mask, own_group);
  pid_t pid = -1;
  // glibc reports exec failures (ENOENT, EACCES) here, not as exit 127.
  if (const int rc =
        posix_spawnp(&pid, c_argv[0], actions.get(), attributes.get(), c_argv.data(), c_env.data());
      rc != 0) {
    throw TransportError(fmt::format("cannot run \"{}\": {}", printable(argv[0]), errno_text(rc)),
                         false);
  }
  return Child(pid, own_group);
}

std::string
signal_name(int number)
{
  if (const char* name = sigabbrev_np(number)) {
    return name;
  }
  return std::to_string(number);
}

void
disable_exit_fd_for_testing(bool disabled)
{
  g_exit_fd_disabled = disabled;
}

} // namespace hlm::spawn
