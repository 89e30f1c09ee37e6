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
class ExecChannel
{
public:
  ExecChannel(ssh_session session, ChannelState& state)
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
  ~ExecChannel()
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
  ExecChannel(const ExecChannel&) = delete;
  ExecChannel& operator=(const ExecChannel&) = delete;

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

// The command's standard input: the piece being sent, as far as it was
// written.
struct InputFeed
{
  std::string_view input;
  std::size_t written = 0;
  bool close = false; // send EOF once all of it is written
  bool done = false;  // EOF sent, or the program is gone
};

enum class Written { nothing, some, session_broken };

// Writes as much of the input as the peer's window takes, then EOF once
// all of it is written when the feed is to be closed.
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
  if (!feed.done && feed.close && feed.written == feed.input.size()) {
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

  std::unique_ptr<Channel> start(const std::vector<std::string>& argv,
                                 OutputCallback on_output) override;

  const std::string&
  peer() const
  {
    return m_peer;
  }

  const SshOptions&
  options() const
  {
    return m_options;
  }

  ssh_session
  session() const
  {
    return m_session.get();
  }

  // After a failure the session's state is unknown (a half-read channel, a
  // dead socket): the next start connects afresh.
  void
  drop_session() noexcept
  {
    m_session.reset();
  }

private:
  void connect();

  SshOptions m_options;
  std::string m_peer; // "host:port" for messages
  KeyPtr m_key;
  SessionPtr m_session;
};

// A command started over the transport's session. Must be destroyed before
// the transport; destroying it unfinished closes the channel and drops the
// session.
class SshChannel : public Channel
{
public:
  SshChannel(SshTransport& transport,
             const std::vector<std::string>& argv,
             OutputCallback on_output)
    : m_transport(transport),
      m_program(printable(argv[0])),
      m_on_output(std::move(on_output)),
      m_exec(std::make_unique<ExecChannel>(transport.session(), m_state))
  {
    if (!m_exec->get()) {
      throw TransportError(fmt::format("cannot create an ssh channel to {}", transport.peer()),
                           true);
    }
  }

  ~SshChannel() override
  {
    if (m_exec) {
      m_exec.reset();
      m_transport.drop_session();
    }
  }

  SshChannel(const SshChannel&) = delete;
  SshChannel& operator=(const SshChannel&) = delete;

  bool open(const std::string& command, bool may_retry);
  bool send(std::string_view data) override;
  bool wait_for(const std::function<bool()>& done) override;
  bool wait_for_at_most(const std::function<bool()>& done,
                        std::chrono::milliseconds limit) override;
  RunResult finish() override;

private:
  template<typename F>
  void guarded(F&& step);
  void pump(InputFeed& feed, const std::function<bool()>& until);
  bool ended() const;
  TransportError connection_lost() const;

  // How long to wait for socket activity: nothing after `progress` (which
  // moves `last_progress` to now), else what is left of the I/O timeout.
  // Throws hlm::TransportError once the call has been idle that long.
  std::chrono::milliseconds idle_wait(bool progress, Clock::time_point& last_progress) const;

  SshTransport& m_transport;
  std::string m_program; // argv[0], printable, for messages
  OutputCallback m_on_output;
  ChannelState m_state;
  std::unique_ptr<ExecChannel> m_exec; // after m_state, which it calls back into
  TailBuffer m_error_output{k_error_output_cap};
  std::string m_chunk;
  bool m_input_closed = false; // EOF sent, or the command took no more input
  bool m_truncated = false;
  Clock::time_point m_wait_until = Clock::time_point::max(); // a wait's limit
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

std::unique_ptr<Channel>
SshTransport::start(const std::vector<std::string>& argv, OutputCallback on_output)
{
  if (argv.empty()) {
    throw TransportError("cannot run an empty command", false);
  }
  const std::string command = shell_quote(argv);
  // A reused session may have died while idle (server timeout, peer
  // restart); that shows only when a channel is opened, before the command
  // runs, so one fresh connection is tried then.
  for (int attempt = 0;; ++attempt) {
    const bool reused = m_session != nullptr;
    if (!m_session) {
      connect();
    }
    try {
      auto channel = std::make_unique<SshChannel>(*this, argv, on_output);
      if (channel->open(command, reused && attempt == 0)) {
        return channel;
      }
    } catch (...) {
      m_session.reset();
      throw;
    }
    // The channel that could not open is gone (and dropped the session).
  }
}

// Opens the session channel and starts `command`. False when the channel
// cannot be opened and `may_retry` (a reused session found dead).
bool
SshChannel::open(const std::string& command, bool may_retry)
{
  ssh_session session = m_transport.session();
  const std::string timed_out = "timed out after "
                                + seconds_text(m_transport.options().connect_timeout);
  if (ssh_channel_open_session(m_exec->get()) != SSH_OK) {
    if (may_retry) {
      return false;
    }
    throw TransportError(fmt::format("cannot open a session channel to {}: {}",
                                     m_transport.peer(),
                                     error_text(session, timed_out)),
                         true);
  }
  if (ssh_channel_request_exec(m_exec->get(), command.c_str()) != SSH_OK) {
    throw TransportError(fmt::format("cannot start \"{}\" on {}: {}",
                                     m_program,
                                     m_transport.peer(),
                                     error_text(session, timed_out)),
                         true);
  }
  return true;
}

// Runs one call's exchange; on an exception closes the channel, drops the
// session and rethrows.
template<typename F>
void
SshChannel::guarded(F&& step)
{
  if (!m_exec) {
    throw TransportError(
      fmt::format("the channel of \"{}\" to {} failed earlier", m_program, m_transport.peer()),
      true);
  }
  try {
    step();
  } catch (...) {
    m_exec.reset(); // the channel is gone before its session may be dropped
    m_transport.drop_session();
    throw;
  }
}

bool
SshChannel::send(std::string_view data)
{
  if (m_input_closed) {
    return data.empty();
  }
  InputFeed feed{data};
  guarded([&] { pump(feed, [&] { return feed.done || feed.written == data.size(); }); });
  if (feed.written < data.size()) {
    m_truncated = true;
    m_input_closed = true;
    return false;
  }
  return true;
}

bool
SshChannel::wait_for(const std::function<bool()>& done)
{
  InputFeed feed;
  guarded([&] { pump(feed, done); });
  return done();
}

bool
SshChannel::wait_for_at_most(const std::function<bool()>& done, std::chrono::milliseconds limit)
{
  InputFeed feed;
  m_wait_until = Clock::now() + limit;
  guarded([&] { pump(feed, [&] { return done() || Clock::now() >= m_wait_until; }); });
  m_wait_until = Clock::time_point::max();
  return done();
}

RunResult
SshChannel::finish()
{
  InputFeed feed;
  feed.close = true;
  feed.done = m_input_closed;
  guarded([&] {
    pump(feed, [] { return false; });
    if (!m_state.exit_known()) {
      throw TransportError(fmt::format("{} closed the channel of \"{}\" without an exit status",
                                       m_transport.peer(),
                                       m_program),
                           true);
    }
  });
  m_exec.reset();
  RunResult result;
  result.exit_status = m_state.exit_status;
  result.signal = m_state.exit_signal;
  result.input_truncated = m_truncated;
  result.error_output = m_error_output.take();
  return result;
}

// EOF (or close) with all data delivered, and the exit status, which may
// come before or after the EOF.
bool
SshChannel::ended() const
{
  ssh_channel channel = m_exec->get();
  return ssh_channel_is_eof(channel) && (m_state.exit_known() || ssh_channel_is_closed(channel));
}

TransportError
SshChannel::connection_lost() const
{
  return TransportError(fmt::format("connection to {} lost while running \"{}\": {}",
                                    m_transport.peer(),
                                    m_program,
                                    error_text(m_transport.session(), "connection closed")),
                        true);
}

// Moves input and output until `until()` holds or the command has ended.
void
SshChannel::pump(InputFeed& feed, const std::function<bool()>& until)
{
  ssh_session session = m_transport.session();
  ssh_channel channel = m_exec->get();
  EventLoop loop(session);
  auto last_progress = Clock::now();
  while (true) {
    const auto wrote = write_input(channel, session, feed);
    if (wrote == Written::session_broken) {
      throw connection_lost();
    }
    const bool delivered = deliver_output(m_state, m_chunk, m_error_output, m_on_output);
    if (feed.done && !feed.close) {
      m_input_closed = true; // the command is gone
    }
    if (until() || ended()) {
      return;
    }
    if (session_broken(session)) {
      throw connection_lost();
    }
    // Reads and processes what the socket has (calling the callbacks) and
    // flushes pending output; sleeps only when nothing moved.
    auto wait = idle_wait(wrote == Written::some || delivered, last_progress);
    if (m_wait_until != Clock::time_point::max()) {
      wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(m_wait_until - Clock::now()),
                        std::chrono::milliseconds{0},
                        wait);
    }
    loop.poll(wait);
  }
}

std::chrono::milliseconds
SshChannel::idle_wait(bool progress, Clock::time_point& last_progress) const
{
  const auto now = Clock::now();
  if (progress) {
    last_progress = now;
    return std::chrono::milliseconds{0};
  }
  const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_progress);
  const auto io_timeout = m_transport.options().io_timeout;
  if (idle >= io_timeout) {
    throw TransportError(fmt::format("no data to or from {} for {} while running \"{}\"",
                                     m_transport.peer(),
                                     seconds_text(io_timeout),
                                     m_program),
                         true);
  }
  return io_timeout - idle;
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
