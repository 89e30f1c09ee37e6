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

// One run: the poll loop over stdin, stdout, stderr and the child's exit,
// with the deadline that ends it. The loop ends when the pipes are closed
// and the child has exited, or when the child does not exit even after
// SIGKILL.
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
    killed,      // SIGKILL sent and pipes closed; the child is given up at the deadline
  };

  void start(Child& child);
  void loop(Child& child);
  void noticed_exit();
  bool on_deadline(Child& child);
  void stop(Child& child);
  void write_input();
  bool drain(Fd& fd, bool is_stderr, int max_reads);
  void finish(Child& child);

  bool
  pipes_closed() const
  {
    return !m_to_child.valid() && !m_from_stdout.valid() && !m_from_stderr.valid();
  }

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
  bool m_exited = false;
  bool m_watch_exit_fd = false;
  Phase m_phase = Phase::running;
  Clock::time_point m_deadline = Clock::time_point::max();
};

ProcessResult
Runner::run()
{
  const spawn::SigpipeBlock sigpipe_block;
  spawn::Pipe in = spawn::make_pipe();
  spawn::Pipe out = spawn::make_pipe();
  spawn::Pipe err = spawn::make_pipe();
  const int fds[3] = {in.read.get(), out.write.get(), err.write.get()};
  Child child = spawn::spawn_child(m_argv,
                                   m_options.environment,
                                   fds,
                                   sigpipe_block.old_mask(),
                                   m_options.own_process_group);
  if (m_options.timeout) {
    m_deadline = Clock::now() + *m_options.timeout;
  }
  in.read.reset();
  out.write.reset();
  err.write.reset();
  m_to_child = std::move(in.write);
  m_from_stdout = std::move(out.read);
  m_from_stderr = std::move(err.read);

  try {
    start(child);
    loop(child);
  } catch (...) {
    // Bounded, unlike a plain waitpid: the program may be unkillable.
    child.signal(SIGKILL);
    m_to_child.reset();
    m_from_stdout.reset();
    m_from_stderr.reset();
    try {
      if (child.wait_exit(m_options.kill_grace)) {
        child.reap();
      } else {
        child.release();
      }
    } catch (const TransportError&) {
      child.release(); // the first exception says more
    }
    throw;
  }

  if (m_exited) {
    const int status = child.reap();
    if (WIFEXITED(status)) {
      m_result.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      m_result.signal = spawn::signal_name(WTERMSIG(status));
    }
  } else {
    m_result.abandoned = true;
    child.release();
  }
  m_result.error_output = m_error_output.take();
  return std::move(m_result);
}

void
Runner::start(Child& child)
{
  spawn::set_nonblocking(m_to_child.get());
  spawn::set_nonblocking(m_from_stdout.get());
  spawn::set_nonblocking(m_from_stderr.get());
  if (m_input.empty()) {
    m_to_child.reset();
  }
  m_watch_exit_fd = child.exit_fd() >= 0;
}

void
Runner::loop(Child& child)
{
  auto tick = k_first_tick;
  bool output_open = true;
  while (!(pipes_closed() && m_exited)) {
    // Without a pidfd the exit is polled for, on a tick.
    if (!m_exited && !m_watch_exit_fd && child.exited()) {
      noticed_exit();
      continue;
    }
    int wait_ms = -1;
    if (m_deadline != Clock::time_point::max()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(m_deadline - Clock::now());
      wait_ms = static_cast<int>(
        std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 60'000));
    }
    if (!m_exited && !m_watch_exit_fd) {
      const auto tick_ms = static_cast<int>(tick.count());
      wait_ms = wait_ms < 0 ? tick_ms : std::min(wait_ms, tick_ms);
      tick = std::min(2 * tick, k_max_tick);
    }
    std::array<pollfd, 4> fds{};
    nfds_t count = 0;
    const auto add = [&](int fd, short events) {
      if (fd >= 0) {
        fds[count++] = pollfd{fd, events, 0};
      }
    };
    add(m_to_child.get(), POLLOUT);
    add(m_from_stdout.get(), POLLIN);
    add(m_from_stderr.get(), POLLIN);
    add(!m_exited && m_watch_exit_fd ? child.exit_fd() : -1, POLLIN);
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
          stop(child);
          break;
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
    if (output_open && pipes_closed()) {
      output_open = false;
      tick = k_first_tick;
    }
    if (Clock::now() >= m_deadline && !on_deadline(child)) {
      return;
    }
  }
}

void
Runner::noticed_exit()
{
  m_exited = true;
  m_watch_exit_fd = false;
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
Runner::on_deadline(Child& child)
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
    finish(child);
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
Runner::stop(Child& child)
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
Runner::write_input()
{
  const ssize_t n = ::write(m_to_child.get(),
                            m_input.data() + m_written,
                            m_input.size() - m_written);
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
