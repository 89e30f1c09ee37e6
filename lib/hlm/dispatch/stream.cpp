#include <hlm/core/swift_name.hpp>
#include <hlm/dispatch/stream.hpp>

#include <algorithm>
#include <utility>

namespace hlm::dispatch {

// A host's queue, as its thread (Fanout::serve) takes it.
class StreamingFanout::Source final : public ChunkSource
{
public:
  Source(StreamingFanout& stream, Host& host)
    : m_stream(stream),
      m_host(host)
  {
  }

  std::optional<HostChunk>
  next(bool wait) override
  {
    std::unique_lock lock(m_stream.m_mutex);
    auto& queue = m_host.queue;
    if (!wait) {
      return m_stream.m_stop || queue.empty() ? std::nullopt : pop();
    }
    // Nothing in flight: another host may work meanwhile.
    release();
    m_stream.m_work.wait(lock,
                         [&] { return m_stream.m_stop || m_stream.m_closed || !queue.empty(); });
    m_stream.m_work.wait(lock,
                         [&] { return m_stream.m_stop || queue.empty() || m_stream.m_free > 0; });
    if (m_stream.m_stop || queue.empty()) {
      return std::nullopt;
    }
    --m_stream.m_free;
    m_host.working = true;
    return pop();
  }

  void
  answered(std::vector<ReplicaOutcome> outcomes) override
  {
    {
      const std::lock_guard lock(m_stream.m_mutex);
      m_stream.m_outcomes.push_back(std::move(outcomes));
    }
    m_stream.m_answered.notify_one();
  }

  // Gives the host's place among max_parallel_nodes back (m_mutex held).
  void
  release()
  {
    if (m_host.working) {
      m_host.working = false;
      ++m_stream.m_free;
      m_stream.m_work.notify_all();
    }
  }

private:
  std::optional<HostChunk>
  pop()
  {
    HostChunk chunk = std::move(m_host.queue.front());
    m_host.queue.pop_front();
    return chunk;
  }

  StreamingFanout& m_stream;
  Host& m_host;
};

StreamingFanout::StreamingFanout(const Fanout& fanout,
                                 const HandlerWork& operation,
                                 int policy_index,
                                 const ring::Ring& object_ring,
                                 const ring::HashSecret& secret,
                                 OnObject on_object,
                                 std::size_t chunk)
  : m_fanout(fanout),
    m_operation(operation),
    m_policy(policy_index),
    m_ring(object_ring),
    m_hash(secret),
    m_on_object(std::move(on_object)),
    m_chunk(std::max<std::size_t>(chunk != 0 ? chunk : fanout.conf().session_chunk, 1)),
    m_window_size(std::max<std::size_t>(fanout.conf().window, 1)),
    m_free(std::max<std::size_t>(fanout.conf().max_parallel_nodes, 1))
{
}

StreamingFanout::~StreamingFanout()
{
  stop();
}

void
StreamingFanout::add(std::string path)
{
  take_outcomes(false);
  // A full window waits for its oldest object, whose replicas may still
  // sit in open chunks: those (and only those) are sent now, so documents
  // keep their size once the window has filled (each freed slot would
  // otherwise send every host's few replicas added since).
  while (m_window.size() >= m_window_size) {
    push_open_holding(m_first);
    take_outcomes(true);
  }
  const std::size_t number = m_first + m_window.size();
  const auto name = split_object_path(path);
  m_ring.primary_nodes(m_ring.partition(m_hash(name.account, name.container, name.object)),
                       m_nodes);
  // The chunks refer to the slot's path and the ring's device names (a
  // slot stays put in the deque until its replicas have all answered).
  m_window.push_back(Slot{std::move(path), m_nodes.size(), {}});
  const std::string& kept = m_window.back().path;
  for (const auto* device : m_nodes) {
    Host& to = host(device->ip);
    to.open.objects.push_back(number);
    to.open.paths.push_back(kept);
    to.open.devices.push_back(device->device);
    if (to.open.objects.size() >= m_chunk) {
      push_open(to);
    }
  }
  m_most_held = std::max(m_most_held, m_window.size());
  pass_on_complete();
}

void
StreamingFanout::finish()
{
  push_all_open();
  {
    const std::lock_guard lock(m_mutex);
    m_closed = true;
  }
  m_work.notify_all();
  while (!m_window.empty()) {
    take_outcomes(true);
  }
  stop();
  rethrow_bug();
}

StreamingFanout::Host&
StreamingFanout::host(const std::string& ip)
{
  auto& entry = m_hosts[ip];
  if (!entry) {
    entry = std::make_unique<Host>();
    entry->ip = ip;
    entry->source = std::make_unique<Source>(*this, *entry);
    Host& host = *entry;
    host.thread = std::thread([this, &host] {
      try {
        m_fanout.serve(host.ip, m_operation, m_policy, *host.source);
      } catch (...) {
        const std::lock_guard lock(m_mutex);
        m_bug = m_bug ? m_bug : std::current_exception();
        m_stop = true;
      }
      {
        const std::lock_guard lock(m_mutex);
        host.source->release();
      }
      m_work.notify_all();
      m_answered.notify_all();
    });
  }
  return *entry;
}

void
StreamingFanout::push_open(Host& host)
{
  if (host.open.objects.empty()) {
    return;
  }
  {
    const std::lock_guard lock(m_mutex);
    host.queue.push_back(std::move(host.open));
  }
  host.open = HostChunk{};
  m_work.notify_all();
}

void
StreamingFanout::push_open_holding(std::size_t object)
{
  for (auto& [ip, host] : m_hosts) {
    // An open chunk holds objects in order, all at least m_first.
    if (!host->open.objects.empty() && host->open.objects.front() <= object) {
      push_open(*host);
    }
  }
}

void
StreamingFanout::push_all_open()
{
  for (auto& [ip, host] : m_hosts) {
    push_open(*host);
  }
}

// Files the outcomes the hosts posted into their objects' slots (waiting
// for some when `wait`), then passes the complete objects on.
void
StreamingFanout::take_outcomes(bool wait)
{
  std::vector<std::vector<ReplicaOutcome>> outcomes;
  {
    std::unique_lock lock(m_mutex);
    if (wait) {
      m_answered.wait(lock, [&] { return !m_outcomes.empty() || m_bug; });
    }
    if (m_bug) {
      lock.unlock();
      stop();
      rethrow_bug();
    }
    outcomes.swap(m_outcomes);
  }
  for (auto& chunk : outcomes) {
    for (auto& outcome : chunk) {
      m_window[outcome.object - m_first].replicas.push_back(std::move(outcome));
    }
  }
  pass_on_complete();
}

void
StreamingFanout::pass_on_complete()
{
  while (!m_window.empty() && m_window.front().replicas.size() >= m_window.front().expected) {
    const Slot slot = std::move(m_window.front());
    m_window.pop_front();
    m_on_object(m_first++, slot.path, slot.replicas);
  }
}

// Ends every host's thread: those waiting for a chunk at once, those with
// documents in flight once these are answered.
void
StreamingFanout::stop()
{
  {
    const std::lock_guard lock(m_mutex);
    m_stop = true;
    m_closed = true;
  }
  m_work.notify_all();
  for (auto& [ip, host] : m_hosts) {
    if (host->thread.joinable()) {
      host->thread.join();
    }
  }
}

void
StreamingFanout::rethrow_bug()
{
  std::exception_ptr bug;
  {
    const std::lock_guard lock(m_mutex);
    bug = m_bug;
  }
  if (bug) {
    std::rethrow_exception(bug);
  }
}

} // namespace hlm::dispatch
