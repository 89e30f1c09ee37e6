#include <hlm/dispatch/fanout.hpp>
#include <hlm/protocol/request.hpp>
#include <hlm/protocol/result.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

namespace hlm::dispatch {

namespace {

struct HostBatch
{
  std::string host;
  std::vector<std::size_t> objects; // indices into the caller's list
  std::vector<std::string> devices; // parallel to `objects`
  std::vector<ReplicaOutcome> outcomes;
  std::vector<std::string> warnings; // "node <host>: <text>"
};

std::string
last_line(std::string_view text)
{
  text = trim(text);
  const auto newline = text.rfind('\n');
  return printable(newline == std::string_view::npos ? text : text.substr(newline + 1));
}

// The request document for one host's batch.
std::string
request_for(const HostBatch& batch,
            Operation operation,
            int policy_index,
            const std::vector<std::string>& objects)
{
  protocol::Request request;
  request.operation = operation;
  request.storage_policy_index = policy_index;
  std::map<std::string_view, std::uint32_t> devices;
  for (std::size_t i = 0; i < batch.objects.size(); ++i) {
    const auto [it, added] = devices.emplace(batch.devices[i], request.devices.size());
    if (added) {
      request.devices.push_back(batch.devices[i]);
    }
    request.objects.push_back({objects[batch.objects[i]], it->second});
  }
  return protocol::encode_request(request);
}

// Every replica of the batch fails with `failure`.
void
fail_all(HostBatch& batch, const Failure& failure)
{
  batch.outcomes.clear();
  for (std::size_t i = 0; i < batch.objects.size(); ++i) {
    batch.outcomes.push_back(
      {batch.objects[i], batch.host, batch.devices[i], ObjectState::unknown, failure});
  }
}

// The handler exits 0, 1 (every object failed) or 3 (some did) after
// writing its document; anything else, or no document, is a failure of
// the node as a whole (then false).
bool
settle_answer(HostBatch& batch,
              const std::string& where,
              const transport::RunResult& result,
              const std::string& output,
              const std::vector<std::string>& objects)
{
  const auto node_failure = [&](std::string message) {
    fail_all(batch, make_failure(FailureKind::node, std::move(message), batch.host));
  };
  protocol::ResultDocument answer;
  try {
    answer = protocol::decode_result(output);
  } catch (const protocol::NotJson&) {
    const std::string status = result.exit_status
                                 ? fmt::format("exit status {}", *result.exit_status)
                                 : fmt::format("signal {}", result.signal.value_or("?"));
    node_failure(fmt::format("node {}: hlm-handler failed ({}): {}",
                             where,
                             status,
                             last_line(result.error_output)));
    return false;
  } catch (const InputError& e) {
    node_failure(fmt::format("node {}: unreadable hlm-handler output: {}", where, e.what()));
    return false;
  }
  for (const auto& warning : answer.warnings) {
    batch.warnings.push_back(fmt::format("node {}: {}", batch.host, warning));
  }
  if (answer.lines.size() != batch.objects.size()) {
    node_failure(fmt::format("node {}: hlm-handler answered {} results for {} objects",
                             where,
                             answer.lines.size(),
                             batch.objects.size()));
    return false;
  }
  for (std::size_t i = 0; i < answer.lines.size(); ++i) {
    const auto& line = answer.lines[i];
    ReplicaOutcome outcome{batch.objects[i],
                           batch.host,
                           batch.devices[i],
                           ObjectState::unknown,
                           std::nullopt};
    if (line.object != objects[batch.objects[i]]) {
      outcome.failure = make_failure(
        FailureKind::node,
        fmt::format("node {}: result {} is for another object", where, i),
        batch.host);
    } else {
      outcome.state = line.state;
      outcome.stub_missing = line.stub_missing;
      if (line.failure) {
        outcome.failure = *line.failure;
        outcome.failure->message =
          fmt::format("node {} device {}: {}", where, batch.devices[i], line.failure->message);
        outcome.failure->node = batch.host;
      }
    }
    batch.outcomes.push_back(std::move(outcome));
  }
  return true;
}

// Runs one host's batch. Every failure of hlm's own making (hlm::Error:
// the transport, the handler, its answer) becomes the replicas' failure;
// anything else is a bug and goes to the caller.
void
run_host(HostBatch& batch,
         const config::NodeAccess& access,
         std::unique_ptr<transport::Transport>& transport,
         const TransportFactory& make_transport,
         Operation operation,
         int policy_index,
         const std::vector<std::string>& objects)
{
  std::string where = batch.host;
  try {
    const auto document = request_for(batch, operation, policy_index, objects);
    if (!transport) {
      transport = make_transport(access);
    }
    where = fmt::format("{} ({})", batch.host, transport->describe());
    std::string output;
    const auto result = transport->run(access.handler_argv(),
                                       document,
                                       [&](std::string_view chunk) { output.append(chunk); });
    if (!settle_answer(batch, where, result, output, objects)) {
      transport.reset(); // as after a transport error, below
    }
  } catch (const TransportError& e) {
    // A host that failed gets a fresh connection next time, and this one
    // is closed now.
    transport.reset();
    Failure failure = make_failure(FailureKind::unreachable,
                                   fmt::format("node {}: {}", where, e.what()),
                                   batch.host);
    failure.transient = e.transient();
    fail_all(batch, failure);
  } catch (const InputError& e) {
    transport.reset();
    fail_all(
      batch,
      make_failure(FailureKind::rejected, fmt::format("node {}: {}", where, e.what()), batch.host));
  } catch (const Error& e) {
    transport.reset();
    fail_all(
      batch,
      make_failure(FailureKind::node, fmt::format("node {}: {}", where, e.what()), batch.host));
  }
}

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

std::unique_ptr<transport::Transport>
Fanout::take_transport(const std::string& host) const
{
  const std::lock_guard lock(m_mutex);
  const auto found = m_transports.find(host);
  if (found == m_transports.end()) {
    return nullptr;
  }
  auto transport = std::move(found->second);
  m_transports.erase(found);
  return transport;
}

void
Fanout::keep_transport(const std::string& host,
                       std::unique_ptr<transport::Transport> transport) const
{
  if (transport) {
    const std::lock_guard lock(m_mutex);
    m_transports[host] = std::move(transport);
  }
}

void
Fanout::run(Operation operation,
            int policy_index,
            const ring::Ring& object_ring,
            const ring::HashSecret& secret,
            const std::vector<std::string>& objects,
            const std::function<void(const ReplicaOutcome&)>& on_outcome) const
{
  std::map<std::string, HostBatch> by_host;
  const ring::PathHasher hash(secret);
  ring::NodeList nodes;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const auto name = split_object_path(objects[i]);
    object_ring.primary_nodes(
      object_ring.partition(hash(name.account, name.container, name.object)),
      nodes);
    for (const auto* device : nodes) {
      auto& batch = by_host[device->ip];
      batch.host = device->ip;
      batch.objects.push_back(i);
      batch.devices.push_back(device->device);
    }
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
      config::NodeAccess access = m_conf.access_for(batch.host);
      if (access.address.empty()) {
        access.address = batch.host;
      }
      try {
        auto transport = take_transport(batch.host);
        run_host(batch, access, transport, m_make_transport, operation, policy_index, objects);
        keep_transport(batch.host, std::move(transport));
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

  for (const auto* batch : queue) {
    for (const auto& warning : batch->warnings) {
      bool first = false;
      {
        const std::lock_guard lock(m_mutex);
        first = m_warned.insert(warning).second;
      }
      if (first) {
        m_warn(warning);
      }
    }
  }
  for (const auto* batch : queue) {
    for (const auto& outcome : batch->outcomes) {
      on_outcome(outcome);
    }
  }
}

FanoutRounds::FanoutRounds(const Fanout& fanout,
                           std::size_t batch_size,
                           Operation operation,
                           int policy_index,
                           const ring::Ring& object_ring,
                           const ring::HashSecret& secret,
                           OnRound on_round)
  : m_fanout(fanout),
    m_batch_size(std::max<std::size_t>(batch_size, 1)),
    m_operation(operation),
    m_policy(policy_index),
    m_ring(object_ring),
    m_secret(secret),
    m_on_round(std::move(on_round))
{
}

FanoutRounds::~FanoutRounds()
{
  if (m_running.valid()) {
    m_running.wait();
  }
}

void
FanoutRounds::add(std::string path)
{
  m_paths.push_back(std::move(path));
  if (m_paths.size() >= m_batch_size) {
    start_round();
  }
}

void
FanoutRounds::flush()
{
  if (!m_paths.empty()) {
    start_round();
  }
  collect_running();
}

void
FanoutRounds::start_round()
{
  collect_running();
  m_running_paths = std::move(m_paths);
  m_paths.clear();
  m_running = std::async(std::launch::async, [this] {
    std::vector<ReplicaOutcome> outcomes;
    m_fanout.run(m_operation,
                 m_policy,
                 m_ring,
                 m_secret,
                 m_running_paths,
                 [&](const ReplicaOutcome& outcome) { outcomes.push_back(outcome); });
    return outcomes;
  });
}

// Waits for the running round and hands its outcomes to on_round.
void
FanoutRounds::collect_running()
{
  if (!m_running.valid()) {
    return;
  }
  const auto outcomes = m_running.get();
  m_on_round(m_running_paths, outcomes);
  m_running_paths.clear();
}

} // namespace hlm::dispatch
