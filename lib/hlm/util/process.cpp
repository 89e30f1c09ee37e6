#include <hlm/util/error.hpp>
#include <hlm/util/process.hpp>
#include <hlm/util/spawn.hpp>
#include <hlm/util/strings.hpp>
#include <hlm/util/tail_buffer.hpp>

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

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

using Clock = std::chrono::steady_clock;

using spawn::Child;
using spawn::Fd;

std::string
errno_text(int error)
{
  return std::strerror(error);
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
  const spawn::SigpipeBlock sigpipe_block;
  spawn::Pipe in = spawn::make_pipe();
  spawn::Pipe out = spawn::make_pipe();
  spawn::Pipe err = spawn::make_pipe();
  const int fds[3] = {in.read.get(), out.write.get(), err.write.get()};
  Child child = spawn::spawn_child(m_argv, m_options.environment, fds,
                                   sigpipe_block.old_mask(), m_options.own_process_group);
  if (m_options.timeout) {
    m_deadline = Clock::now() + *m_options.timeout;
  }
  in.read.reset();
  out.write.reset();
  err.write.reset();

  m_to_child = std::move(in.write);
  m_from_stdout = std::move(out.read);
  m_from_stderr = std::move(err.read);
  spawn::set_nonblocking(m_to_child.get());
  spawn::set_nonblocking(m_from_stdout.get());
  spawn::set_nonblocking(m_from_stderr.get());
  if (m_input.empty()) {
    m_to_child.reset();
  }
  // Without its own group the program's leftovers cannot be killed, so
  // its exit does not matter: we wait for the pipes to close, as a shell.
  if (m_options.own_process_group) {
    m_pidfd = open_pidfd(child.pid());
  }

  loop(child);

  const int status = child.wait();
  if (WIFEXITED(status)) {
    m_result.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    m_result.signal = spawn::signal_name(WTERMSIG(status));
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
