#include <hlm/util/error.hpp>
#include <hlm/util/process.hpp>
#include <hlm/util/spawn.hpp>
#include <hlm/util/strings.hpp>
#include <hlm/util/tail_buffer.hpp>

#include <fmt/format.h>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace hlm {

namespace {

constexpr std::size_t k_read_chunk = 64 * 1024;
// Reads per stream after the final SIGKILL: enough for what the pipes hold,
// bounded against a writer that escaped the process group.
constexpr int k_final_reads = 16;
// Polling for the exit where there is no pidfd: from the first tick after
// the output closes (the exit is then usually imminent) up to the longest.
constexpr std::chrono::milliseconds k_first_tick{1};
constexpr std::chrono::milliseconds k_max_tick{100};

using Clock = std::chrono::steady_clock;

using spawn::Child;
using spawn::Fd;

std::string
errno_text(int error)
{
  return std::strerror(error);
}

} // namespace

// One session: the poll loop over stdin, stdout, stderr and the child's
// exit, with the deadline that ends it. The loop runs until the caller's
// condition holds, or to the end: the pipes are closed and the child has
// exited, or the child did not exit even after SIGKILL (given up).
class ProcessSession::Impl
{
public:
  Impl(const std::vector<std::string>& argv, OutputSink on_output, const ProcessOptions& options)
    : m_argv(argv),
      m_on_output(std::move(on_output)),
      m_options(options),
      m_error_output(options.error_output_cap),
      m_buffer(k_read_chunk)
  {
    spawn::Pipe in = spawn::make_pipe();
    spawn::Pipe out = spawn::make_pipe();
    spawn::Pipe err = spawn::make_pipe();
    const int fds[3] = {in.read.get(), out.write.get(), err.write.get()};
    {
      // Only for the mask the child gets: this thread's, without SIGPIPE.
      const spawn::SigpipeBlock sigpipe_block;
      m_child.emplace(spawn::spawn_child(m_argv,
                                         m_options.environment,
                                         fds,
                                         sigpipe_block.old_mask(),
                                         m_options.own_process_group));
    }
    if (m_options.timeout) {
      m_deadline = Clock::now() + *m_options.timeout;
    }
    m_to_child = std::move(in.write);
    m_from_stdout = std::move(out.read);
    m_from_stderr = std::move(err.read);
    guarded([&] { start(*m_child); });
  }

  ~Impl()
  {
    if (!m_finished) {
      abort();
    }
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  bool send(std::string_view data);
  bool wait_for(const std::function<bool()>& done, Clock::time_point until);
  ProcessResult finish();

private:
  enum class Phase {
    running,     // until the timeout
    terminating, // SIGTERM sent, SIGKILL at the deadline
    exited,      // the child exited; its pipes may stay open until the deadline
    killed,      // SIGKILL sent and pipes closed; the child is given up at the deadline
  };

  template<typename F>
  void guarded(F&& step);
  void abort() noexcept;
  void require_running() const;
  void start(Child& child);
  void loop(Child& child, const std::function<bool()>& until);
  void poll_once(Child& child, std::chrono::milliseconds& tick);
  int wait_ms(std::chrono::milliseconds& tick) const;
  void noticed_exit();
  bool on_deadline(Child& child);
  void stop(Child& child);
  void write_input();
  bool drain(Fd& fd, bool is_stderr, int max_reads);
  void finish_reading(Child& child);

  bool
  pipes_closed() const
  {
    return !m_to_child.valid() && !m_from_stdout.valid() && !m_from_stderr.valid();
  }

  bool
  input_pending() const
  {
    return m_written < m_input.size();
  }

  std::vector<std::string> m_argv;
  OutputSink m_on_output;
  ProcessOptions m_options;
  std::optional<Child> m_child;
  ProcessResult m_result;
  TailBuffer m_error_output;
  std::vector<char> m_buffer;
  // The piece send() is writing, and how much of it is written.
  std::string_view m_input;
  std::size_t m_written = 0;
  Fd m_to_child;
  Fd m_from_stdout;
  Fd m_from_stderr;
  bool m_exited = false;
  bool m_watch_exit_fd = false;
  bool m_given_up = false;
  bool m_finished = false;
  Phase m_phase = Phase::running;
  Clock::time_point m_deadline = Clock::time_point::max();
  Clock::time_point m_wait_until = Clock::time_point::max(); // a wait_for's limit
};

// Runs one step of the session; on an exception kills the program, reaps
// it (bounded) and rethrows.
template<typename F>
void
ProcessSession::Impl::guarded(F&& step)
{
  try {
    step();
  } catch (...) {
    abort();
    throw;
  }
}

// Kills the program and reaps it, bounded unlike a plain waitpid: the
// program may be unkillable.
void
ProcessSession::Impl::abort() noexcept
{
  m_finished = true;
  m_to_child.reset();
  m_from_stdout.reset();
  m_from_stderr.reset();
  m_child->kill_and_reap(m_options.kill_grace);
}

void
ProcessSession::Impl::require_running() const
{
  if (m_finished) {
    throw TransportError(
      fmt::format("\"{}\" has already ended (finished, or killed after an error)",
                  printable(m_argv[0])),
      false);
  }
}

bool
ProcessSession::Impl::send(std::string_view data)
{
  require_running();
  if (!m_to_child.valid()) {
    // The program exited (or the timeout closed its stdin) before this.
    m_result.input_truncated = m_result.input_truncated || !data.empty();
    return data.empty();
  }
  const spawn::SigpipeBlock sigpipe_block;
  m_input = data;
  m_written = 0;
  guarded([&] { loop(*m_child, [&] { return !input_pending() || !m_to_child.valid(); }); });
  const bool all = !input_pending();
  m_input = {};
  m_written = 0;
  return all;
}

bool
ProcessSession::Impl::wait_for(const std::function<bool()>& done, Clock::time_point until)
{
  require_running();
  m_wait_until = until;
  guarded([&] { loop(*m_child, [&] { return done() || Clock::now() >= m_wait_until; }); });
  m_wait_until = Clock::time_point::max();
  return done();
}

ProcessResult
ProcessSession::Impl::finish()
{
  require_running();
  m_to_child.reset();
  guarded([&] { loop(*m_child, [] { return false; }); });
  m_finished = true;
  if (m_exited) {
    const int status = m_child->reap();
    if (WIFEXITED(status)) {
      m_result.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      m_result.signal = spawn::signal_name(WTERMSIG(status));
    }
  } else {
    m_result.abandoned = true;
    m_child->release();
  }
  m_result.error_output = m_error_output.take();
  return std::move(m_result);
}

void
ProcessSession::Impl::start(Child& child)
{
  spawn::set_nonblocking(m_to_child.get());
  spawn::set_nonblocking(m_from_stdout.get());
  spawn::set_nonblocking(m_from_stderr.get());
  m_watch_exit_fd = child.exit_fd() >= 0;
}

void
ProcessSession::Impl::loop(Child& child, const std::function<bool()>& until)
{
  auto tick = k_first_tick;
  bool output_open = !pipes_closed();
  while (!m_given_up && !(pipes_closed() && m_exited) && !until()) {
    // Without a pidfd the exit is polled for, on a tick.
    if (!m_exited && !m_watch_exit_fd && child.exited()) {
      noticed_exit();
      continue;
    }
    poll_once(child, tick);
    if (output_open && pipes_closed()) {
      output_open = false;
      tick = k_first_tick;
    }
    if (Clock::now() >= m_deadline && !on_deadline(child)) {
      m_given_up = true;
    }
  }
}

// How long one poll may wait: until the deadline, and without a pidfd
// until the next tick.
int
ProcessSession::Impl::wait_ms(std::chrono::milliseconds& tick) const
{
  int wait = -1;
  const auto until = std::min(m_deadline, m_wait_until);
  if (until != Clock::time_point::max()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    wait = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 60'000));
  }
  if (!m_exited && !m_watch_exit_fd) {
    const auto tick_ms = static_cast<int>(tick.count());
    wait = wait < 0 ? tick_ms : std::min(wait, tick_ms);
    tick = std::min(2 * tick, k_max_tick);
  }
  return wait;
}

void
ProcessSession::Impl::poll_once(Child& child, std::chrono::milliseconds& tick)
{
  std::array<pollfd, 4> fds{};
  nfds_t count = 0;
  const auto add = [&](int fd, short events) {
    if (fd >= 0) {
      fds[count++] = pollfd{fd, events, 0};
    }
  };
  add(input_pending() ? m_to_child.get() : -1, POLLOUT);
  add(m_from_stdout.get(), POLLIN);
  add(m_from_stderr.get(), POLLIN);
  add(!m_exited && m_watch_exit_fd ? child.exit_fd() : -1, POLLIN);
  if (::poll(fds.data(), count, wait_ms(tick)) < 0) {
    if (errno == EINTR) {
      return;
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
        stop(child);
        return;
      }
    } else if (fds[i].fd == m_from_stderr.get()) {
      drain(m_from_stderr, true, -1);
    } else if (fds[i].fd == child.exit_fd()) {
      // A pidfd that claims an exit waitid does not see yet is not
      // watched again: polling on the tick takes over.
      m_watch_exit_fd = false;
      if (child.exited()) {
        noticed_exit();
      }
    }
  }
}

void
ProcessSession::Impl::noticed_exit()
{
  m_exited = true;
  m_watch_exit_fd = false;
  if (!input_pending()) {
    // Nothing reads it any more, and an open stdin must not count as
    // output held open (wait_for between sends).
    m_to_child.reset();
  }
  if (m_phase != Phase::running || pipes_closed()) {
    return;
  }
  // Something it started holds its pipes. In its own group that can be
  // killed, so it gets `kill_grace`; otherwise only the timeout ends it.
  m_phase = Phase::exited;
  if (m_options.own_process_group) {
    m_deadline = std::min(m_deadline, Clock::now() + m_options.kill_grace);
  }
}

// The next step at the deadline; false to give the child up.
bool
ProcessSession::Impl::on_deadline(Child& child)
{
  switch (m_phase) {
  case Phase::running:
    m_result.timed_out = true;
    m_phase = Phase::terminating;
    m_deadline = Clock::now() + m_options.kill_grace;
    m_to_child.reset();
    child.signal(SIGTERM);
    return true;
  case Phase::terminating:
  case Phase::exited:
    m_result.output_held_open = m_phase == Phase::exited;
    child.signal(SIGKILL);
    finish_reading(child);
    m_phase = Phase::killed;
    m_deadline = m_exited ? Clock::time_point::max() : Clock::now() + m_options.kill_grace;
    return true;
  case Phase::killed:
    break;
  }
  return false;
}

// The output sink asked to stop: kills the program, keeping what stderr
// already holds (it may say why the output went wrong).
void
ProcessSession::Impl::stop(Child& child)
{
  m_result.stopped = true;
  child.signal(SIGKILL);
  m_to_child.reset();
  m_from_stdout.reset();
  if (m_from_stderr.valid()) {
    drain(m_from_stderr, true, k_final_reads);
  }
  m_from_stderr.reset();
  m_phase = Phase::killed;
  m_deadline = Clock::now() + m_options.kill_grace;
}

void
ProcessSession::Impl::write_input()
{
  const ssize_t n = ::write(m_to_child.get(),
                            m_input.data() + m_written,
                            m_input.size() - m_written);
  if (n >= 0) {
    m_written += static_cast<std::size_t>(n);
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
ProcessSession::Impl::drain(Fd& fd, bool is_stderr, int max_reads)
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
ProcessSession::Impl::finish_reading(Child& child)
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

ProcessSession::ProcessSession(const std::vector<std::string>& argv,
                               OutputSink on_output,
                               const ProcessOptions& options)
  : m_impl(std::make_unique<Impl>(argv, std::move(on_output), options))
{
}

ProcessSession::~ProcessSession() = default;

bool
ProcessSession::send(std::string_view data)
{
  return m_impl->send(data);
}

bool
ProcessSession::wait_for(const std::function<bool()>& done)
{
  return m_impl->wait_for(done, Clock::time_point::max());
}

bool
ProcessSession::wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit)
{
  return m_impl->wait_for(done, Clock::now() + limit);
}

ProcessResult
ProcessSession::finish()
{
  return m_impl->finish();
}

ProcessResult
run_process(const std::vector<std::string>& argv,
            std::string_view input,
            const OutputSink& on_output,
            const ProcessOptions& options)
{
  ProcessSession session(argv, on_output, options);
  session.send(input);
  return session.finish();
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
