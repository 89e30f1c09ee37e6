#include "ssh_session.hpp"

#include <hlm/transport/transport.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>
#include <hlm/util/tail_buffer.hpp>

#include <fmt/format.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <algorithm>
#include <cstdint>
#include <mutex>

namespace hlm::transport {

namespace {

using detail::error_text;
using detail::KeyPtr;
using detail::seconds_text;
using detail::SessionPtr;
using Clock = std::chrono::steady_clock;

constexpr std::size_t k_error_output_cap = 64 * 1024;
// Small enough that stdout is drained often while a large input is sent.
constexpr std::size_t k_write_chunk = 256 * 1024;

// What a channel's callbacks collected since the exchange loop last looked.
// Data is taken out of libssh as soon as any call processes its packet, so
// nothing waits in libssh's buffers while the loop sleeps in poll(). Exit
// status and signal also come this way: libssh 0.10 has no
// ssh_channel_get_exit_signal().
struct ChannelState
{
  std::string stdout_data;
  std::string stderr_data;
  std::optional<int> exit_status;
  std::optional<std::string> exit_signal;

  bool
  exit_known() const
  {
    return exit_status || exit_signal;
  }
};

// The callbacks are called from C: nothing may propagate.

int
on_data(ssh_session, ssh_channel, void* data, std::uint32_t length, int is_stderr, void* userdata)
{
  auto* state = static_cast<ChannelState*>(userdata);
  try {
    (is_stderr ? state->stderr_data : state->stdout_data)
      .append(static_cast<const char*>(data), length);
    return static_cast<int>(length);
  } catch (...) {
    return 0; // stays in libssh's buffer and is offered again
  }
}

void
on_exit_status(ssh_session, ssh_channel, int exit_status, void* userdata)
{
  static_cast<ChannelState*>(userdata)->exit_status = exit_status;
}

void
on_exit_signal(ssh_session,
               ssh_channel,
               const char* signal,
               int,
               const char*,
               const char*,
               void* userdata)
{
  auto* state = static_cast<ChannelState*>(userdata);
  try {
    state->exit_signal = std::string(signal ? signal : "?");
  } catch (...) {
    state->exit_status = -1;
  }
}

// One exec channel with the callbacks attached. Must be destroyed before
// its session is disconnected (which frees the channel).
class Channel
{
public:
  Channel(ssh_session session, ChannelState& state)
    : m_channel(ssh_channel_new(session))
  {
    m_callbacks.userdata = &state;
    m_callbacks.channel_data_function = on_data;
    m_callbacks.channel_exit_status_function = on_exit_status;
    m_callbacks.channel_exit_signal_function = on_exit_signal;
    ssh_callbacks_init(&m_callbacks);
    if (m_channel) {
      ssh_set_channel_callbacks(m_channel, &m_callbacks);
    }
  }
  ~Channel()
  {
    if (m_channel) {
      // The channel may outlive this object inside libssh (freed when the
      // remote close arrives): it must not call back into a dead ChannelState.
      ssh_remove_channel_callbacks(m_channel, &m_callbacks);
      // Closing flushes; in blocking mode that could wait a whole timeout
      // for a frozen peer on the way out of a failed run.
      ssh_session session = ssh_channel_get_session(m_channel);
      const int blocking = ssh_is_blocking(session);
      ssh_set_blocking(session, 0);
      ssh_channel_free(m_channel);
      ssh_set_blocking(session, blocking);
    }
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  ssh_channel
  get() const
  {
    return m_channel;
  }

private:
  ssh_channel_callbacks_struct m_callbacks{};
  ssh_channel m_channel;
};

// Switches the session to non-blocking mode with an event loop on its
// socket for one exchange, and back.
class EventLoop
{
public:
  explicit EventLoop(ssh_session session)
    : m_session(session),
      m_event(ssh_event_new())
  {
    if (!m_event || ssh_event_add_session(m_event, m_session) != SSH_OK) {
      if (m_event) {
        ssh_event_free(m_event);
      }
      throw TransportError("cannot create an ssh event loop", true);
    }
    ssh_set_blocking(m_session, 0);
  }
  ~EventLoop()
  {
    ssh_event_remove_session(m_event, m_session);
    ssh_event_free(m_event);
    ssh_set_blocking(m_session, 1);
  }
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Waits up to `timeout` for socket activity and processes it.
  int
  poll(std::chrono::milliseconds timeout)
  {
    return ssh_event_dopoll(m_event, static_cast<int>(timeout.count()));
  }

private:
  ssh_session m_session;
  ssh_event m_event;
};

bool
session_broken(ssh_session session)
{
  return !ssh_is_connected(session)
         || (ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

// The command's standard input, as far as it was written.
struct InputFeed
{
  std::string_view input;
  std::size_t written = 0;
  bool done = false; // all written and EOF sent, or the program is gone
};

enum class Written { nothing, some, session_broken };

// Writes as much of the input as the peer's window takes, then EOF once
// all of it is written.
Written
write_input(ssh_channel channel, ssh_session session, InputFeed& feed)
{
  auto wrote = Written::nothing;
  if (!feed.done && feed.written < feed.input.size()) {
    // Never more than the peer's window: a write beyond it would wait
    // for a window adjust that only comes once we read its output.
    const std::uint32_t window = ssh_channel_window_size(channel);
    if (window > 0) {
      const auto count = static_cast<std::uint32_t>(std::min(
        {static_cast<std::size_t>(window), feed.input.size() - feed.written, k_write_chunk}));
      const int n = ssh_channel_write(channel, feed.input.data() + feed.written, count);
      if (n > 0) {
        feed.written += static_cast<std::size_t>(n);
        wrote = Written::some;
      } else if (n < 0) {
        if (session_broken(session)) {
          return Written::session_broken;
        }
        // The program exited (and the server closed the channel) before
        // taking all of its input, like EPIPE locally.
        feed.done = true;
      }
    }
  }
  if (!feed.done && feed.written == feed.input.size()) {
    // Fails only when the channel is already closed, which the exit
    // status then explains.
    ssh_channel_send_eof(channel);
    feed.done = true;
  }
  return wrote;
}

// Hands what the callbacks collected to `on_output` (stdout) and
// `error_output` (stderr); true when there was any.
bool
deliver_output(ChannelState& state,
               std::string& chunk,
               TailBuffer& error_output,
               const std::function<void(std::string_view)>& on_output)
{
  bool delivered = false;
  if (!state.stdout_data.empty()) {
    chunk.swap(state.stdout_data); // on_output may take its time
    on_output(chunk);
    chunk.clear();
    delivered = true;
  }
  if (!state.stderr_data.empty()) {
    error_output.append(state.stderr_data);
    state.stderr_data.clear();
    delivered = true;
  }
  return delivered;
}

class SshTransport : public Transport
{
public:
  explicit SshTransport(SshOptions options)
    : m_options(std::move(options)),
      m_peer(detail::peer_name(m_options))
  {
  }

  std::string
  describe() const override
  {
    if (m_options.user.empty()) {
      return "ssh " + m_peer;
    }
    return fmt::format("ssh {}@{}", m_options.user, m_peer);
  }

  RunResult run(const std::vector<std::string>& argv,
                std::string_view input,
                const std::function<void(std::string_view)>& on_output) override;

private:
  void connect();
  RunResult exchange(ssh_channel channel,
                     ChannelState& state,
                     const std::vector<std::string>& argv,
                     std::string_view input,
                     const std::function<void(std::string_view)>& on_output);

  // How long to wait for socket activity: nothing after `progress` (which
  // moves `last_progress` to now), else what is left of the I/O timeout.
  // Throws hlm::TransportError once the exchange has been idle that long.
  std::chrono::milliseconds idle_wait(bool progress,
                                      Clock::time_point& last_progress,
                                      const std::vector<std::string>& argv) const;

  SshOptions m_options;
  std::string m_peer; // "host:port" for messages
  KeyPtr m_key;
  SessionPtr m_session;
};

void
SshTransport::connect()
{
  if (!m_key) {
    // Before connecting: a bad key needs no network round trip.
    m_key = detail::load_identity(m_options);
  }
  m_session = detail::open_session(m_options, m_key.get());
}

RunResult
SshTransport::run(const std::vector<std::string>& argv,
                  std::string_view input,
                  const std::function<void(std::string_view)>& on_output)
{
  if (argv.empty()) {
    throw TransportError("cannot run an empty command", false);
  }
  const std::string command = shell_quote(argv);
  const std::string program = printable(argv[0]);
  // A reused session may have died while idle (server timeout, peer
  // restart); that shows only when a channel is opened, before the command
  // runs, so one fresh connection is tried then.
  for (int attempt = 0;; ++attempt) {
    const bool reused = m_session != nullptr;
    if (!m_session) {
      connect();
    }
    try {
      ChannelState state;
      std::optional<RunResult> result;
      {
        const Channel channel(m_session.get(), state);
        if (!channel.get()) {
          throw TransportError(fmt::format("cannot create an ssh channel to {}", m_peer), true);
        }
        const std::string timed_out = "timed out after " + seconds_text(m_options.connect_timeout);
        if (ssh_channel_open_session(channel.get()) == SSH_OK) {
          if (ssh_channel_request_exec(channel.get(), command.c_str()) != SSH_OK) {
            throw TransportError(fmt::format("cannot start \"{}\" on {}: {}",
                                             program,
                                             m_peer,
                                             error_text(m_session.get(), timed_out)),
                                 true);
          }
          result = exchange(channel.get(), state, argv, input, on_output);
        } else if (!reused || attempt > 0) {
          throw TransportError(fmt::format("cannot open a session channel to {}: {}",
                                           m_peer,
                                           error_text(m_session.get(), timed_out)),
                               true);
        }
      } // the channel is gone before its session may be dropped
      if (result) {
        return std::move(*result);
      }
      m_session.reset();
    } catch (...) {
      // The session's state is unknown (half-read channel, dead socket):
      // the next run starts from a fresh connection.
      m_session.reset();
      throw;
    }
  }
}

RunResult
SshTransport::exchange(ssh_channel channel,
                       ChannelState& state,
                       const std::vector<std::string>& argv,
                       std::string_view input,
                       const std::function<void(std::string_view)>& on_output)
{
  ssh_session session = m_session.get();
  const auto connection_lost = [&] {
    return TransportError(fmt::format("connection to {} lost while running \"{}\": {}",
                                      m_peer,
                                      printable(argv[0]),
                                      error_text(session, "connection closed")),
                          true);
  };

  EventLoop loop(session);
  RunResult result;
  TailBuffer error_output(k_error_output_cap);
  std::string chunk;
  InputFeed feed{input};
  auto last_progress = Clock::now();

  while (true) {
    const auto wrote = write_input(channel, session, feed);
    if (wrote == Written::session_broken) {
      throw connection_lost();
    }
    const bool delivered = deliver_output(state, chunk, error_output, on_output);
    const bool progress = wrote == Written::some || delivered;
    // EOF (or close) with all data delivered, and the exit status, which
    // may come before or after the EOF.
    if (ssh_channel_is_eof(channel) && (state.exit_known() || ssh_channel_is_closed(channel))) {
      break;
    }
    if (session_broken(session)) {
      throw connection_lost();
    }
    // Reads and processes what the socket has (calling the callbacks) and
    // flushes pending output; sleeps only when nothing moved.
    loop.poll(idle_wait(progress, last_progress, argv));
  }

  if (!state.exit_known()) {
    throw TransportError(fmt::format("{} closed the channel of \"{}\" without an exit status",
                                     m_peer,
                                     printable(argv[0])),
                         true);
  }
  result.exit_status = state.exit_status;
  result.signal = state.exit_signal;
  result.input_truncated = feed.written < input.size();
  result.error_output = error_output.take();
  return result;
}

std::chrono::milliseconds
SshTransport::idle_wait(bool progress,
                        Clock::time_point& last_progress,
                        const std::vector<std::string>& argv) const
{
  const auto now = Clock::now();
  if (progress) {
    last_progress = now;
    return std::chrono::milliseconds{0};
  }
  const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_progress);
  if (idle >= m_options.io_timeout) {
    throw TransportError(fmt::format("no data to or from {} for {} while running \"{}\"",
                                     m_peer,
                                     seconds_text(m_options.io_timeout),
                                     printable(argv[0])),
                         true);
  }
  return m_options.io_timeout - idle;
}

} // namespace

void
global_init()
{
  static std::once_flag once;
  std::call_once(once, [] {
    if (ssh_init() != SSH_OK) {
      throw TransportError("cannot initialise libssh", false);
    }
  });
}

std::unique_ptr<Transport>
make_ssh_transport(const SshOptions& options)
{
  global_init();
  return std::make_unique<SshTransport>(options);
}

} // namespace hlm::transport
