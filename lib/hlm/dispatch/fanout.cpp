#include <hlm/dispatch/fanout.hpp>
#include <hlm/protocol/request.hpp>
#include <hlm/protocol/result.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

namespace hlm::dispatch {

// One host's share of a round: its replicas, and what its handler said.
struct HostBatch
{
  std::string host;
  std::vector<std::size_t> objects; // indices into the caller's list
  // Views of the caller's paths and device names (HostChunk's), which
  // outlive the batch's answer.
  std::vector<std::string_view> paths;   // parallel to `objects`
  std::vector<std::string_view> devices; // parallel to `objects`
  std::vector<ReplicaOutcome> outcomes;
  std::vector<std::string> warnings; // "node <host>: <text>"
  // An estimate request's answer (HandlerWork::estimate).
  std::optional<protocol::EstimateAnswer> estimate;
  bool placement = false; // a status asks for placements (version 2)
};

namespace {

std::string
last_line(std::string_view text)
{
  text = trim(text);
  const auto newline = text.rfind('\n');
  return printable(newline == std::string_view::npos ? text : text.substr(newline + 1));
}

// The request document for one host's batch: version 2 with `id`, else
// version 1.
std::string
request_for(const HostBatch& batch,
            const HandlerWork& operation,
            int policy_index,
            std::optional<std::uint64_t> id = std::nullopt)
{
  protocol::Request request;
  request.operation = operation.operation;
  request.storage_policy_index = policy_index;
  if (id) {
    request.version = operation.version3() || operation.restore_marks ? 3 : 2;
    request.id = id;
    request.placement = batch.placement && operation.operation == Operation::status;
    request.restore_until = operation.restore_until;
    request.release_before = operation.release_before;
    request.estimate = operation.estimate;
    request.restore_marks = operation.restore_marks && operation.operation == Operation::status;
  } else if (operation.version3()) {
    // Version 1 cannot say it: a release would migrate every replica, an
    // estimate would be carried out.
    throw Error("its hlm-handler does not speak protocol version 3 (restore expiry, "
                "estimates); upgrade hlm on that node");
  }
  return protocol::encode_request(request, batch.objects.size(), [&](std::size_t i) {
    return protocol::ObjectRef{batch.paths[i], batch.devices[i]};
  });
}

// Every replica of the batch fails with `failure`.
void
fail_all(HostBatch& batch, const Failure& failure)
{
  batch.outcomes.clear();
  for (std::size_t i = 0; i < batch.objects.size(); ++i) {
    batch.outcomes.push_back(
      {batch.objects[i], batch.host, std::string(batch.devices[i]), ObjectState::unknown, failure});
  }
}

void
node_failure(HostBatch& batch, std::string message)
{
  fail_all(batch, make_failure(FailureKind::node, std::move(message), batch.host));
}

// "hlm-handler failed (exit status 2): <its last line on stderr>".
std::string
handler_failed(const std::string& where, const transport::RunResult& result)
{
  const std::string status = result.exit_status
                               ? fmt::format("exit status {}", *result.exit_status)
                               : fmt::format("signal {}", result.signal.value_or("?"));
  return fmt::format("node {}: hlm-handler failed ({}): {}",
                     where,
                     status,
                     last_line(result.error_output));
}

// The outcome of the batch's replica `i` from the answer's line `i`.
ReplicaOutcome
outcome_for(const HostBatch& batch,
            const std::string& where,
            std::size_t i,
            const protocol::ResultLine& line)
{
  ReplicaOutcome outcome{batch.objects[i],
                         batch.host,
                         std::string(batch.devices[i]),
                         ObjectState::unknown,
                         std::nullopt};
  if (line.object != batch.paths[i]) {
    outcome.failure = make_failure(
      FailureKind::node,
      fmt::format("node {}: result {} is for another object", where, i),
      batch.host);
    return outcome;
  }
  outcome.state = line.state;
  outcome.stub_missing = line.stub_missing;
  outcome.placement = line.placement;
  outcome.restore_expiry = line.restore_expiry;
  if (line.failure) {
    outcome.failure = *line.failure;
    outcome.failure->message =
      fmt::format("node {} device {}: {}", where, batch.devices[i], line.failure->message);
    outcome.failure->node = batch.host;
  }
  return outcome;
}

// A version 1 run (one handler process): the handler exits 0, 1 (every
// object failed) or 3 (some did) after writing its document; anything else,
// or no document, is a failure of the node as a whole (then false).
bool
settle_answer(HostBatch& batch,
              const std::string& where,
              const transport::RunResult& result,
              const std::string& output)
{
  protocol::ResultDocument answer;
  try {
    answer = protocol::decode_result(output);
  } catch (const protocol::NotJson&) {
    node_failure(batch, handler_failed(where, result));
    return false;
  } catch (const InputError& e) {
    node_failure(batch, fmt::format("node {}: unreadable hlm-handler output: {}", where, e.what()));
    return false;
  }
  for (const auto& warning : answer.warnings) {
    batch.warnings.push_back(fmt::format("node {}: {}", batch.host, warning));
  }
  batch.estimate = answer.estimate;
  if (answer.lines.size() != batch.objects.size()) {
    node_failure(batch,
                 fmt::format("node {}: hlm-handler answered {} results for {} objects",
                             where,
                             answer.lines.size(),
                             batch.objects.size()));
    return false;
  }
  for (std::size_t i = 0; i < answer.lines.size(); ++i) {
    batch.outcomes.push_back(outcome_for(batch, where, i, answer.lines[i]));
  }
  return true;
}

// What one document's answer on a session brought, as it is decoded.
struct SessionAnswer
{
  HostBatch& batch;
  const std::string& where;
  std::uint64_t sent_id = 0; // the document's id
  bool any_output = false;   // a byte arrived, whitespace too
  bool began = false;        // a byte other than whitespace arrived
  bool ended = false;
  bool after_eof = false; // it came only once the handler's stdin was closed
  std::size_t lines = 0;
  std::optional<std::uint64_t> id{};
  std::optional<std::string> unreadable{}; // the decoder's message
  bool not_json = false;                   // ... and the output was no JSON at all

  void
  on_line(protocol::ResultLine&& line)
  {
    const std::size_t i = lines++;
    if (i < batch.objects.size()) {
      batch.outcomes.push_back(outcome_for(batch, where, i, line));
    }
  }

  void
  on_end(protocol::ResultStreamDecoder::End&& end)
  {
    ended = true;
    id = end.id;
    for (const auto& warning : end.warnings) {
      batch.warnings.push_back(fmt::format("node {}: {}", batch.host, warning));
    }
    batch.estimate = end.estimate;
  }
};

} // namespace

struct Fanout::HostLink
{
  std::unique_ptr<transport::Transport> transport;
  std::unique_ptr<transport::Channel> channel; // the session; null: none open
  std::unique_ptr<protocol::ResultStreamDecoder> decoder;
  bool v1_only = false; // one handler process per run, version 1
  bool stray = false;   // output came outside a document's round
  std::uint64_t next_id = 1;
  // The documents sent on `channel` whose answers are awaited, oldest
  // (the one being decoded) first.
  std::deque<SessionAnswer*> answers;

  HostLink() = default;
  HostLink(const HostLink&) = delete;
  HostLink& operator=(const HostLink&) = delete;
  ~HostLink()
  {
    answers.clear();
    close_session();
  }

  void
  open_session(const std::vector<std::string>& argv)
  {
    decoder = std::make_unique<protocol::ResultStreamDecoder>(
      [this](protocol::ResultLine&& line) {
        if (!answers.empty()) {
          answers.front()->on_line(std::move(line));
        } else {
          stray = true;
        }
      },
      [this](protocol::ResultStreamDecoder::End&& end) {
        if (!answers.empty()) {
          answers.front()->on_end(std::move(end));
          answers.pop_front();
        } else {
          stray = true;
        }
      });
    stray = false;
    channel = transport->start(argv, [this](std::string_view chunk) { receive(chunk); });
  }

  // Output of the session's handler; a decoding error is kept in the
  // answer (the channel is then given up), not thrown through the
  // transport.
  void
  receive(std::string_view chunk)
  {
    if (answers.empty()) {
      stray = stray || !trim(chunk).empty();
      return;
    }
    SessionAnswer* answer = answers.front();
    if (answer->unreadable) {
      return;
    }
    answer->any_output = answer->any_output || !chunk.empty();
    answer->began = answer->began || !trim(chunk).empty();
    // The bad bytes belong to the answer being read when they came: a
    // chunk may end one answer (on_end takes it off) and begin the next.
    const auto reading = [&] { return answers.empty() ? answer : answers.front(); };
    try {
      decoder->feed(chunk);
    } catch (const protocol::NotJson& e) {
      reading()->unreadable = e.what();
      reading()->not_json = true;
    } catch (const InputError& e) {
      reading()->unreadable = e.what();
    }
  }

  // Ends the handler: EOF on its stdin, then its exit. Errors are ignored:
  // every answer was read.
  void
  close_session() noexcept
  {
    if (channel) {
      try {
        channel->finish();
      } catch (...) {
        // Every answer was read; how the handler ended changes nothing.
      }
      channel.reset();
    }
  }

  // After a failure: the session (its handler is killed) and the
  // transport; the next run connects anew.
  void
  drop() noexcept
  {
    answers.clear();
    channel.reset();
    transport.reset();
  }
};

namespace {

using HostLink = Fanout::HostLink;

enum class RoundEnd {
  answered, // outcomes set (perhaps failures the handler reported)
  failed,   // every replica failed: the session is to be dropped
  refused,  // a new session answered nothing: version 1 is to be used
};

// How long a new session's handler may take to write anything at all. A
// version 2 hlm-handler writes (and flushes) its answer's start as soon as
// the document is read and its ring loaded; a handler that answers only at
// the end of its input (it reads all of it first) gets its EOF after this.
constexpr std::chrono::milliseconds k_first_output_wait{10'000};

// Waits for the answer of the document just sent; when the handler ends
// first, or writes nothing on a new session for k_first_output_wait,
// finishes the channel (closes its stdin) and reads what comes with that.
std::optional<transport::RunResult>
await_answer(HostLink& link, SessionAnswer& answer, bool fresh)
{
  const auto done = [&] { return answer.ended || answer.unreadable.has_value(); };
  if (!link.channel || done()) {
    return std::nullopt; // answered already, or the session ended without it
  }
  bool quiet = false;
  if (fresh) {
    link.channel->wait_for_at_most([&] { return answer.any_output || done(); },
                                   k_first_output_wait);
    quiet = !answer.any_output;
  }
  if (!quiet) {
    link.channel->wait_for(done);
  }
  if (done()) {
    return std::nullopt;
  }
  auto result = link.channel->finish();
  link.channel.reset();
  answer.after_eof = true;
  if (!answer.ended && !answer.unreadable) {
    try {
      link.decoder->finish();
    } catch (const protocol::NotJson& e) {
      answer.unreadable = e.what();
      answer.not_json = true;
    } catch (const InputError& e) {
      answer.unreadable = e.what();
    }
  }
  return result;
}

// Sends the batch's document on the link's open session; its answer is
// read into the returned SessionAnswer (registered on the link) as output
// arrives.
std::unique_ptr<SessionAnswer>
send_document(HostBatch& batch,
              const std::string& where,
              HostLink& link,
              const HandlerWork& operation,
              int policy_index)
{
  auto answer = std::make_unique<SessionAnswer>(
    SessionAnswer{.batch = batch, .where = where, .sent_id = link.next_id++});
  link.answers.push_back(answer.get());
  link.channel->send(request_for(batch, operation, policy_index, answer->sent_id));
  return answer;
}

// Reads the answer of the oldest document in flight on the link into its
// batch's outcomes; `fresh`: the document is the session's first.
RoundEnd
settle_document(HostLink& link, SessionAnswer& answer, bool fresh)
{
  HostBatch& batch = answer.batch;
  const std::string& where = answer.where;
  const auto exit = await_answer(link, answer, fresh);
  if (fresh && exit && !answer.began) {
    // An hlm-handler before version 2 refuses the document on stderr.
    link.v1_only = true;
    return RoundEnd::refused;
  }
  if (answer.unreadable) {
    node_failure(
      batch,
      answer.not_json && exit
        ? handler_failed(where, *exit)
        : fmt::format("node {}: unreadable hlm-handler output: {}", where, *answer.unreadable));
    return RoundEnd::failed;
  }
  if (answer.lines != batch.objects.size()) {
    node_failure(batch,
                 exit && !exit->succeeded()
                   ? handler_failed(where, *exit)
                   : fmt::format("node {}: hlm-handler answered {} results for {} objects",
                                 where,
                                 answer.lines,
                                 batch.objects.size()));
    return RoundEnd::failed;
  }
  if (answer.id && *answer.id != answer.sent_id) {
    node_failure(batch,
                 fmt::format("node {}: hlm-handler answered document {} to document {}",
                             where,
                             *answer.id,
                             answer.sent_id));
    return RoundEnd::failed;
  }
  if (!answer.id || answer.after_eof) {
    // It answered as version 1, or only at the end of its input: the lines
    // stand, and later runs use version 1, one process each.
    link.v1_only = true;
    link.close_session();
  }
  return RoundEnd::answered;
}

// Sends the batch's document over the host's session, started on the
// first round, and reads its answer into batch.outcomes.
RoundEnd
run_session_round(HostBatch& batch,
                  const std::string& where,
                  HostLink& link,
                  const config::NodeAccess& access,
                  const HandlerWork& operation,
                  int policy_index)
{
  if (link.stray) {
    link.channel.reset(); // its answers can no longer be matched
  }
  const bool fresh = !link.channel;
  if (fresh) {
    link.open_session(access.handler_argv());
  }
  const struct Detach
  {
    HostLink& link;
    ~Detach()
    {
      link.answers.clear();
    }
  } detach{link};
  const auto answer = send_document(batch, where, link, operation, policy_index);
  return settle_document(link, *answer, fresh);
}

// A version 1 round: one handler process for the one document.
bool
run_process_round(HostBatch& batch,
                  const std::string& where,
                  transport::Transport& transport,
                  const config::NodeAccess& access,
                  const HandlerWork& operation,
                  int policy_index)
{
  std::string output;
  const auto result = transport.run(access.handler_argv(),
                                    request_for(batch, operation, policy_index),
                                    [&](std::string_view chunk) { output.append(chunk); });
  return settle_answer(batch, where, result, output);
}

// Runs `work`; a failure of hlm's own making (hlm::Error: the transport,
// the handler, its answer) becomes the failure returned for the host's
// replicas; anything else is a bug and goes to the caller.
template<typename Work>
std::optional<Failure>
failure_of(const std::string& host, const std::string& where, const Work& work)
{
  try {
    work();
  } catch (const TransportError& e) {
    Failure failure = make_failure(FailureKind::unreachable,
                                   fmt::format("node {}: {}", where, e.what()),
                                   host);
    failure.transient = e.transient();
    return failure;
  } catch (const InputError& e) {
    return make_failure(FailureKind::rejected, fmt::format("node {}: {}", where, e.what()), host);
  } catch (const Error& e) {
    return make_failure(FailureKind::node, fmt::format("node {}: {}", where, e.what()), host);
  }
  return std::nullopt;
}

// Runs one host's batch on its session, or as one process (version 1).
// Returns whether the host answered; when it did not, every replica has
// its failure, and the link is dropped (the next round connects anew).
bool
run_host(HostBatch& batch,
         const config::NodeAccess& access,
         HostLink& link,
         const TransportFactory& make_transport,
         const HandlerWork& operation,
         int policy_index)
{
  std::string where = batch.host;
  bool answered = false;
  const auto failure = failure_of(batch.host, where, [&] {
    if (!link.transport) {
      link.transport = make_transport(access);
    }
    where = fmt::format("{} ({})", batch.host, link.transport->describe());
    RoundEnd end = RoundEnd::refused;
    if (!link.v1_only) {
      end = run_session_round(batch, where, link, access, operation, policy_index);
    }
    answered =
      end == RoundEnd::answered
      || (end == RoundEnd::refused
          && run_process_round(batch, where, *link.transport, access, operation, policy_index));
  });
  if (failure) {
    fail_all(batch, *failure);
  }
  if (!answered) {
    link.drop();
  }
  return answered;
}

HostBatch
batch_of(const std::string& host, HostChunk&& chunk)
{
  HostBatch batch;
  batch.host = host;
  batch.objects = std::move(chunk.objects);
  batch.paths = std::move(chunk.paths);
  batch.devices = std::move(chunk.devices);
  return batch;
}

// A document sent on a host's session, its answer awaited.
struct InFlight
{
  HostBatch batch;
  std::string where;
  std::unique_ptr<SessionAnswer> answer;
};

// One host's chunks as Fanout::serve works them.
class HostServer
{
public:
  HostServer(const std::string& host,
             const config::NodeAccess& access,
             HostLink& link,
             const TransportFactory& make_transport,
             const HandlerWork& operation,
             int policy_index,
             ChunkSource& source,
             const std::function<void(const HostBatch&)>& warn)
    : m_host(host),
      m_access(access),
      m_link(link),
      m_make_transport(make_transport),
      m_operation(operation),
      m_policy(policy_index),
      m_source(source),
      m_warn(warn)
  {
  }

  void
  serve()
  {
    for (;;) {
      auto chunk = m_source.next(m_in_flight.empty());
      if (!chunk) {
        if (m_in_flight.empty()) {
          return;
        }
        settle_oldest();
        continue;
      }
      HostBatch batch = batch_of(m_host, std::move(*chunk));
      if (m_dead) {
        fail_all(batch, *m_dead);
        m_source.answered(std::move(batch.outcomes));
      } else if (m_link.v1_only || !m_link.channel || m_link.stray) {
        // A new session (its first answer tells the version) or one
        // process per chunk: alone, nothing else in flight.
        while (!m_in_flight.empty()) {
          settle_oldest();
        }
        const bool answered =
          run_host(batch, m_access, m_link, m_make_transport, m_operation, m_policy);
        done(std::move(batch), answered);
      } else {
        send(std::move(batch));
        if (m_in_flight.size() >= 2) {
          settle_oldest();
        }
      }
    }
  }

private:
  // Hands a chunk's outcomes on; after a failure the next chunk connects
  // once more, after two in a row the host is taken for dead.
  void
  done(HostBatch&& batch, bool answered)
  {
    if (answered) {
      m_failures = 0;
    } else {
      failed(*batch.outcomes.front().failure);
    }
    hand_on(std::move(batch));
  }

  void
  failed(const Failure& failure)
  {
    if (++m_failures >= 2) {
      m_dead = failure;
    }
  }

  void
  hand_on(HostBatch&& batch)
  {
    m_warn(batch);
    m_source.answered(std::move(batch.outcomes));
  }

  void
  send(HostBatch&& batch)
  {
    auto entry = std::make_unique<InFlight>();
    entry->batch = std::move(batch);
    entry->where = fmt::format("{} ({})", m_host, m_link.transport->describe());
    const auto failure = failure_of(m_host, entry->where, [&] {
      entry->answer = send_document(entry->batch, entry->where, m_link, m_operation, m_policy);
    });
    m_in_flight.push_back(std::move(entry));
    if (failure) {
      fail_in_flight(*failure);
    }
  }

  void
  settle_oldest()
  {
    InFlight& oldest = *m_in_flight.front();
    RoundEnd end = RoundEnd::failed;
    const auto failure = failure_of(m_host, oldest.where, [&] {
      end = settle_document(m_link, *oldest.answer, false);
    });
    if (failure) {
      fail_in_flight(*failure);
      return;
    }
    if (end != RoundEnd::answered) {
      const Failure cause = *oldest.batch.outcomes.front().failure; // outlives the outcomes
      fail_in_flight(cause);
      return;
    }
    auto entry = std::move(m_in_flight.front());
    m_in_flight.pop_front();
    done(std::move(entry->batch), true);
  }

  // The session is lost: every document in flight fails with `failure`.
  void
  fail_in_flight(const Failure& failure)
  {
    m_link.drop();
    failed(failure);
    for (auto& entry : m_in_flight) {
      fail_all(entry->batch, failure);
      hand_on(std::move(entry->batch));
    }
    m_in_flight.clear();
  }

  const std::string& m_host;
  const config::NodeAccess& m_access;
  HostLink& m_link;
  const TransportFactory& m_make_transport;
  HandlerWork m_operation;
  int m_policy;
  ChunkSource& m_source;
  const std::function<void(const HostBatch&)>& m_warn; // its warnings and estimate
  std::deque<std::unique_ptr<InFlight>> m_in_flight;
  int m_failures = 0;              // chunks failed in a row
  std::optional<Failure> m_dead{}; // set: the host is taken for dead
};

} // namespace

TransportFactory
default_transport_factory()
{
  return [](const config::NodeAccess& access) -> std::unique_ptr<transport::Transport> {
    if (access.transport == config::TransportKind::local) {
      return transport::make_local_transport();
    }
    transport::SshOptions options;
    options.host = access.address;
    options.port = access.port;
    options.user = access.user;
    options.identity_file = access.identity_file;
    options.known_hosts_file = access.known_hosts;
    options.connect_timeout = access.connect_timeout;
    options.io_timeout = access.io_timeout;
    return transport::make_ssh_transport(options);
  };
}

Fanout::Fanout(const config::HlmConf& conf, TransportFactory make_transport, WarningSink warn)
  : m_conf(conf),
    m_make_transport(std::move(make_transport)),
    m_warn(warn ? std::move(warn) : WarningSink([](const std::string& text) {
      std::fputs(fmt::format("warning: {}\n", text).c_str(), stderr);
    }))
{
}

Fanout::~Fanout()
{
  close_sessions();
}

void
Fanout::close_sessions() const
{
  const std::lock_guard lock(m_mutex);
  for (auto& [host, link] : m_links) {
    link->close_session();
  }
}

std::unique_ptr<Fanout::HostLink>
Fanout::take_link(const std::string& host) const
{
  const std::lock_guard lock(m_mutex);
  const auto found = m_links.find(host);
  if (found == m_links.end()) {
    return std::make_unique<HostLink>();
  }
  auto link = std::move(found->second);
  m_links.erase(found);
  return link;
}

void
Fanout::keep_link(const std::string& host, std::unique_ptr<HostLink> link) const
{
  const std::lock_guard lock(m_mutex);
  m_links[host] = std::move(link);
}

config::NodeAccess
Fanout::access_for(const std::string& host) const
{
  config::NodeAccess access = m_conf.access_for(host);
  if (access.address.empty()) {
    access.address = host;
  }
  return access;
}

void
Fanout::report_warnings(const std::vector<std::string>& warnings) const
{
  for (const auto& warning : warnings) {
    bool first = false;
    {
      const std::lock_guard lock(m_mutex);
      first = m_warned.insert(warning).second;
    }
    if (first) {
      const std::lock_guard lock(m_warn_mutex);
      m_warn(warning);
    }
  }
}

void
Fanout::report_estimate(const std::string& host, const HostBatch& batch) const
{
  if (!batch.estimate) {
    return;
  }
  const std::lock_guard lock(m_warn_mutex);
  if (m_estimate_sink) {
    m_estimate_sink(host, batch.estimate->estimate);
  }
}

void
Fanout::set_estimate_sink(EstimateSink sink) const
{
  const std::lock_guard lock(m_warn_mutex);
  m_estimate_sink = std::move(sink);
}

void
Fanout::serve(const std::string& host,
              const HandlerWork& operation,
              int policy_index,
              ChunkSource& source) const
{
  const config::NodeAccess access = access_for(host);
  auto link = take_link(host);
  const std::function<void(const HostBatch&)> warn = [this, &host](const HostBatch& batch) {
    report_warnings(batch.warnings);
    report_estimate(host, batch);
  };
  HostServer(host, access, *link, m_make_transport, operation, policy_index, source, warn).serve();
  keep_link(host, std::move(link));
}

std::vector<ReplicaTarget>
replica_targets(const ring::Ring& object_ring,
                const ring::HashSecret& secret,
                const std::vector<std::string>& objects)
{
  std::vector<ReplicaTarget> replicas;
  const ring::PathHasher hash(secret);
  ring::NodeList nodes;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const auto name = split_object_path(objects[i]);
    object_ring.primary_nodes(
      object_ring.partition(hash(name.account, name.container, name.object)),
      nodes);
    for (const auto* device : nodes) {
      replicas.push_back({i, device->ip, device->device});
    }
  }
  return replicas;
}

void
Fanout::run(const HandlerWork& operation,
            int policy_index,
            const ring::Ring& object_ring,
            const ring::HashSecret& secret,
            const std::vector<std::string>& objects,
            const std::function<void(const ReplicaOutcome&)>& on_outcome) const
{
  run_replicas(operation,
               policy_index,
               objects,
               replica_targets(object_ring, secret, objects),
               false,
               on_outcome);
}

std::vector<std::string>
Fanout::run_replicas(const HandlerWork& operation,
                     int policy_index,
                     const std::vector<std::string>& objects,
                     const std::vector<ReplicaTarget>& replicas,
                     bool placement,
                     const std::function<void(const ReplicaOutcome&)>& on_outcome) const
{
  std::map<std::string, HostBatch> by_host;
  for (const auto& replica : replicas) {
    auto& batch = by_host[replica.host];
    batch.host = replica.host;
    batch.placement = placement;
    batch.objects.push_back(replica.object);
    batch.paths.push_back(objects[replica.object]);
    batch.devices.push_back(replica.device);
  }

  std::vector<HostBatch*> queue;
  for (auto& [host, batch] : by_host) {
    queue.push_back(&batch);
  }
  std::atomic<std::size_t> next{0};
  std::mutex bug_mutex;
  std::exception_ptr bug;
  const auto worker = [&] {
    for (std::size_t i = next++; i < queue.size(); i = next++) {
      HostBatch& batch = *queue[i];
      const config::NodeAccess access = access_for(batch.host);
      try {
        auto link = take_link(batch.host);
        run_host(batch, access, *link, m_make_transport, operation, policy_index);
        keep_link(batch.host, std::move(link));
      } catch (...) {
        const std::lock_guard lock(bug_mutex);
        bug = bug ? bug : std::current_exception();
      }
    }
  };
  const std::size_t workers = std::min(queue.size(), m_conf.max_parallel_nodes);
  std::vector<std::jthread> threads;
  for (std::size_t i = 1; i < workers; ++i) {
    threads.emplace_back(worker);
  }
  worker();
  threads.clear(); // joins
  if (bug) {
    std::rethrow_exception(bug);
  }

  std::vector<std::string> warnings;
  for (const auto* batch : queue) {
    warnings.insert(warnings.end(), batch->warnings.begin(), batch->warnings.end());
    report_warnings(batch->warnings);
    report_estimate(batch->host, *batch);
  }
  for (const auto* batch : queue) {
    for (const auto& outcome : batch->outcomes) {
      on_outcome(outcome);
    }
  }
  return warnings;
}

} // namespace hlm::dispatch
