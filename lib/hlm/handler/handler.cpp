#include <hlm/diskfile/diskfile.hpp>
#include <hlm/diskfile/metadata.hpp>
#include <hlm/diskfile/restore_mark.hpp>
#include <hlm/handler/handler.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <ostream>
#include <stop_token>
#include <thread>

namespace hlm::handler {

namespace {

using connector::Item;
using connector::Outcome;
using protocol::Request;
using protocol::ResultLine;

// The devices of this host: directories under a server's `devices`, and
// mount points when its mount_check is on (as Swift's check_mount does).
class LocalDevices
{
public:
  explicit LocalDevices(const std::vector<LocalServer>& servers)
    : m_servers(servers)
  {
  }

  // The index of the server that holds `name`, or nullopt.
  std::optional<std::size_t>
  find(const std::string& name)
  {
    if (const auto it = m_cache.find(name); it != m_cache.end()) {
      return it->second;
    }
    protocol::check_device_name(name);
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < m_servers.size() && !found; ++i) {
      if (holds(*m_servers[i].conf, name)) {
        found = i;
      }
    }
    m_cache.emplace(name, found);
    return found;
  }

private:
  static bool
  holds(const ObjectServerConf& conf, const std::string& name)
  {
    const auto path = conf.devices / name;
    struct stat dir_stat = {};
    if (stat(path.c_str(), &dir_stat) != 0 || !S_ISDIR(dir_stat.st_mode)) {
      return false;
    }
    if (!conf.mount_check) {
      return true;
    }
    // Swift's ismount looks at the link itself (lstat): a symlinked device
    // is never a mount point, wherever it points.
    struct stat link_stat = {};
    if (lstat(path.c_str(), &link_stat) != 0 || S_ISLNK(link_stat.st_mode)) {
      return false;
    }
    struct stat parent_stat = {};
    if (stat(conf.devices.c_str(), &parent_stat) != 0) {
      return false;
    }
    return dir_stat.st_dev != parent_stat.st_dev || dir_stat.st_ino == parent_stat.st_ino;
  }

  const std::vector<LocalServer>& m_servers;
  std::unordered_map<std::string, std::optional<std::size_t>> m_cache;
};

// One requested object: from the request document, or an object line.
struct Target
{
  std::string_view path;
  std::uint32_t device = Request::k_any_device; // index into the request's devices
};

// One output line, before and after the connector ran.
struct Result
{
  ResultLine line;
  bool to_backend = false;
  std::size_t server = 0; // whose connector gets it, when to_backend
  // The replica's .data file is missing: handed to a connector that can
  // rebuild it (file empty, object_dir set).
  std::string object_dir;
  // A release (a migrate with release_before) keeps this replica: its
  // restore mark is not due, or it has none. It gets a status instead.
  bool kept = false;
};

// What one thread needs to look at replicas on disk: the directory
// scanner's and the metadata reader's buffers, and the paths being looked
// at, reused from one replica to the next.
struct DiskReader
{
  diskfile::ReplicaScanner scanner;
  diskfile::MetadataReader metadata;
  std::string dir;  // the object directory being looked at
  std::string file; // its .data file
};

// Runs `work(reader, item)` for every item of every group, the groups on
// up to `threads` threads at once (the calling thread one of them), each
// group's items in order on one thread with its own DiskReader of
// `readers` (thread i's is readers[i], made when missing and kept). A group is a device's items:
// the devices of a node are separate disks, each read by one thread, so a handler serving many
// devices keeps several disks (and cores) busy. The first exception a thread throws stops the
// others at their next item and is rethrown here once all have ended.
template<typename Work>
void
for_each_by_device(const std::vector<std::vector<std::size_t>>& groups,
                   std::size_t threads,
                   std::vector<std::unique_ptr<DiskReader>>& readers,
                   Work work)
{
  const std::size_t count = std::min(std::max<std::size_t>(threads, 1), groups.size());
  while (readers.size() < std::max<std::size_t>(count, 1)) {
    readers.push_back(std::make_unique<DiskReader>());
  }
  if (count <= 1) {
    for (const auto& group : groups) {
      for (const std::size_t item : group) {
        work(*readers[0], item);
      }
    }
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::exception_ptr first;
  const auto serve = [&](DiskReader& mine) {
    try {
      for (std::size_t g = next++; g < groups.size() && !stop; g = next++) {
        for (const std::size_t item : groups[g]) {
          if (stop) {
            return;
          }
          work(mine, item);
        }
      }
    } catch (...) {
      const std::lock_guard lock(mutex);
      first = first ? first : std::current_exception();
      stop = true;
    }
  };
  {
    std::vector<std::jthread> helpers;
    helpers.reserve(count - 1);
    for (std::size_t i = 1; i < count; ++i) {
      helpers.emplace_back([&, i] { serve(*readers[i]); });
    }
    serve(*readers[0]);
  }
  if (first) {
    std::rethrow_exception(first);
  }
}

// The documents' stream, shared with a heartbeat thread that writes a
// single space and flushes every `interval` from start() to stop(), and
// sleeps between documents. Every write of a document goes through write()
// under the same mutex and ends between two JSON tokens, so a space never
// lands inside a token, and none comes after stop() until the next start().
class Output
{
public:
  explicit Output(std::ostream& out)
    : m_out(out)
  {
  }
  ~Output()
  {
    if (m_thread.joinable()) {
      m_thread.request_stop();
      m_thread.join();
    }
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  std::ostream&
  stream() const
  {
    return m_out;
  }

  template<typename Write>
  void
  write(Write&& write)
  {
    const std::lock_guard lock(m_mutex);
    write(m_out);
  }

  // A zero interval: no heartbeat.
  void
  start(std::chrono::milliseconds interval)
  {
    if (interval.count() <= 0) {
      return;
    }
    {
      const std::lock_guard lock(m_mutex);
      m_interval = interval;
      m_active = true;
      ++m_generation; // the interval counts from now
    }
    m_wakeup.notify_all();
    if (!m_thread.joinable()) {
      m_thread = std::jthread([this](const std::stop_token& stop) { beat(stop); });
    }
  }

  // Pauses the heartbeat; nothing is written by it until the next start().
  void
  stop()
  {
    {
      const std::lock_guard lock(m_mutex);
      m_active = false;
    }
    m_wakeup.notify_all();
  }

private:
  void
  beat(const std::stop_token& stop)
  {
    std::unique_lock lock(m_mutex);
    while (!stop.stop_requested()) {
      if (!m_active) {
        m_wakeup.wait(lock, stop, [&] { return m_active; });
        continue;
      }
      const auto generation = m_generation;
      // True when paused, restarted or stopped; false when the interval
      // passed.
      if (m_wakeup.wait_for(lock, stop, m_interval, [&] {
            return !m_active || m_generation != generation;
          })) {
        continue;
      }
      // The flush also sends what the document has buffered so far. A
      // reader gone away (EPIPE) ends this process with SIGPIPE, as it
      // would at the next write of the document anyway.
      m_out << ' ';
      m_out.flush();
    }
  }

  std::ostream& m_out;
  std::mutex m_mutex;
  std::condition_variable_any m_wakeup;
  std::chrono::milliseconds m_interval{0};
  bool m_active = false;
  std::uint64_t m_generation = 0;
  std::jthread m_thread; // last: stopped and joined before the rest goes
};

// The ring file as last read: another inode, size or modification time
// means it was replaced or rewritten.
struct FileVersion
{
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;

  bool operator==(const FileVersion&) const = default;
};

std::optional<FileVersion>
file_version(const std::filesystem::path& file)
{
  struct stat st = {};
  if (::stat(file.c_str(), &st) != 0) {
    return std::nullopt;
  }
  constexpr std::int64_t k_ns_per_s = 1'000'000'000;
  return FileVersion{st.st_dev,
                     st.st_ino,
                     st.st_size,
                     st.st_mtim.tv_sec * k_ns_per_s + st.st_mtim.tv_nsec};
}

// One policy's ring and guard warnings for one swift_dir.
struct PolicyState
{
  std::filesystem::path swift_dir;
  int policy_index = 0;
  std::optional<FileVersion> ring_version;
  ring::Ring ring;
  // What keeps migrated replicas safe on this node and is not configured
  // (guard_warnings), each once.
  std::vector<std::string> warnings;
};

std::vector<std::string>
all_guard_warnings(const std::vector<LocalServer>& servers,
                   const ring::StoragePolicy& policy,
                   const std::filesystem::path& swift_conf)
{
  std::vector<std::string> warnings;
  for (const auto& server : servers) {
    for (auto& warning :
         guard_warnings(*server.conf, policy.index, policy.diskfile_module, swift_conf)) {
      if (std::find(warnings.begin(), warnings.end(), warning) == warnings.end()) {
        warnings.push_back(std::move(warning));
      }
    }
  }
  return warnings;
}

} // namespace

struct HandlerSession::State
{
  std::vector<std::unique_ptr<PolicyState>> policies;
  std::size_t ring_loads = 0;
  std::unique_ptr<Output> output;
  // One per thread that looks at replicas on disk (for_each_by_device),
  // kept across documents with their buffers.
  std::vector<std::unique_ptr<DiskReader>> readers;

  Output&
  output_for(std::ostream& out)
  {
    if (!output || &output->stream() != &out) {
      output.reset(); // its heartbeat ends first
      output = std::make_unique<Output>(out);
    }
    return *output;
  }

  // The ring and warnings of `options`' swift_dir and policy. Throws
  // hlm::ConfigError for an unknown policy or an unusable ring.
  const PolicyState&
  policy_state(const ring::SwiftConf& swift_conf,
               const std::vector<LocalServer>& servers,
               const HandlerOptions& options)
  {
    const auto* policy = swift_conf.policy_by_index(options.storage_policy_index);
    if (!policy) {
      throw ConfigError(fmt::format("unknown storage policy index {} in {}",
                                    options.storage_policy_index,
                                    swift_conf.path.string()));
    }
    const auto it = std::find_if(policies.begin(), policies.end(), [&](const auto& state) {
      return state->swift_dir == options.swift_dir
             && state->policy_index == options.storage_policy_index;
    });
    const auto ring_path = ring::object_ring_path(options.swift_dir, options.storage_policy_index);
    const auto version = file_version(ring_path);
    if (it != policies.end() && version && (*it)->ring_version == version) {
      return **it;
    }
    auto state = std::make_unique<PolicyState>();
    state->swift_dir = options.swift_dir;
    state->policy_index = options.storage_policy_index;
    state->warnings = all_guard_warnings(servers, *policy, swift_conf.path);
    state->ring = ring::Ring::load(ring_path);
    state->ring_version = version;
    ++ring_loads;
    if (it != policies.end()) {
      *it = std::move(state);
      return **it;
    }
    policies.push_back(std::move(state));
    return *policies.back();
  }
};

HandlerSession::HandlerSession()
  : m_state(std::make_unique<State>())
{
}

HandlerSession::~HandlerSession() = default;

std::size_t
HandlerSession::ring_loads() const noexcept
{
  return m_state->ring_loads;
}

namespace {

class Runner
{
public:
  // `paths`: the objects, any device each, instead of request.objects.
  Runner(const Request& request,
         protocol::ObjectPathSpool* paths,
         const ring::SwiftConf& swift_conf,
         const std::vector<LocalServer>& servers,
         const HandlerOptions& options,
         std::ostream& out,
         HandlerSession::State& session)
    : m_request(request),
      m_paths(paths),
      m_servers(servers),
      m_options(options),
      m_session(session),
      m_policy(session.policy_state(swift_conf, servers, options)),
      m_out(session.output_for(out)),
      m_local(servers),
      m_hash(ring::HashSecret{swift_conf.hash_path_prefix, swift_conf.hash_path_suffix})
  {
  }

  Summary
  run()
  {
    m_out.write([&](std::ostream& out) {
      out << protocol::encode_result_start(m_request.operation,
                                           m_options.storage_policy_index,
                                           m_policy.warnings,
                                           m_request.version >= 2 ? m_request.id : std::nullopt);
      // Seen at once, the start tells a session's dispatcher that this
      // handler answers without waiting for the end of its input.
      out.flush();
    });
    m_out.start(m_options.heartbeat);
    try {
      const std::size_t batch = std::max<std::size_t>(m_options.batch_size, 1);
      const std::size_t count = m_paths ? m_paths->size() : m_request.objects.size();
      for (std::size_t begin = 0; begin < count; begin += batch) {
        const std::size_t end = std::min(begin + batch, count);
        if (m_paths) {
          m_batch_paths = &m_paths->next_batch(end - begin);
          m_batch_begin = begin;
        }
        run_batch(begin, end);
      }
    } catch (...) {
      m_out.stop();
      throw;
    }
    m_out.stop(); // the document ends with its last write
    std::optional<protocol::EstimateAnswer> estimate;
    if (m_request.estimate) {
      estimate.emplace();
      if (m_estimate_known) {
        estimate->estimate = m_estimate;
      }
    }
    m_out.write([&](std::ostream& out) {
      out << protocol::encode_result_end(m_summary, estimate);
      out.flush();
    });
    return m_summary;
  }

private:
  void
  run_batch(std::size_t begin, std::size_t end)
  {
    // Mostly one line per object. Reserved, not grown by doubling: a
    // Result is some 400 bytes, and a batch of 10,000 grown from empty
    // peaks at 16,384 of them plus the 8,192 being moved. Kept for the next
    // batch.
    auto& results = m_results;
    results.clear();
    results.reserve(end - begin);
    m_placed.clear();
    for (std::size_t i = begin; i < end; ++i) {
      place(target(i), results);
    }
    locate_placed(results);

    if (m_request.release_before) {
      choose_released(results);
    }
    // An estimate changes nothing: each line is the replica's status, and
    // the backend says what the operation would cost.
    const Operation done = m_request.estimate ? Operation::status : m_request.operation;
    for (std::size_t server = 0; server < m_servers.size(); ++server) {
      apply_backend(server, results, done, false);
      if (m_request.release_before) {
        apply_backend(server, results, Operation::status, true);
      }
    }
    if (!m_request.estimate) {
      settle_restore_marks(results);
    }

    m_out.write([&](std::ostream& out) {
      for (const auto& result : results) {
        write(out, result);
      }
    });
  }

  Target
  target(std::size_t index) const
  {
    if (m_paths) {
      return {(*m_batch_paths)[index - m_batch_begin], Request::k_any_device};
    }
    const auto& object = m_request.objects[index];
    return {object.path, object.device};
  }

  // A release migrates only the replicas whose restore mark is due by
  // release_before; the others are kept: no mark (a recall without --days
  // since, or already migrated), a later one (a recall with more days
  // since), or one that cannot be read.
  void
  choose_released(std::vector<Result>& results) const
  {
    for (auto& result : results) {
      if (!result.to_backend || result.line.file.empty()) {
        result.kept = result.to_backend;
        continue;
      }
      const auto mark = read_mark_or_none(result.line.file);
      result.kept = !mark || *mark > *m_request.release_before;
    }
  }

  // After the backend: a recall marks what it brought back with
  // restore_until (or clears an old mark), a migrate clears the mark, a
  // status reports the mark of a replica on disk and on tape.
  void
  settle_restore_marks(std::vector<Result>& results)
  {
    if (m_request.operation == Operation::status && !m_request.restore_marks) {
      return;
    }
    // Each is a path lookup or two on the replica's disk: a thread per
    // device, as locate_placed().
    group_by_device(results.size(), [&](std::size_t i) -> const std::string* {
      const auto& line = results[i].line;
      return line.failure || line.file.empty() || !line.device ? nullptr : &*line.device;
    });
    for_each_by_device(m_device_groups,
                       m_options.device_threads,
                       m_session.readers,
                       [&](DiskReader&, std::size_t i) { settle_restore_mark(results[i]); });
  }

  void
  settle_restore_mark(Result& result) const
  {
    auto& line = result.line;
    const Operation done = result.kept ? Operation::status : m_request.operation;
    try {
      switch (done) {
      case Operation::recall:
        mark_recalled(line);
        break;
      case Operation::migrate:
        // A mark left on a stub is never read; a failure here is not
        // the migrate's.
        try {
          diskfile::clear_restore_mark(line.file);
        } catch (const Error&) {
        }
        break;
      case Operation::status:
        if (m_request.restore_marks && line.state == ObjectState::premigrated) {
          line.restore_expiry = read_mark_or_none(line.file);
        }
        break;
      }
    } catch (const Error& e) {
      fail(line,
           FailureKind::node,
           fmt::format("recalled, but its restore expiry cannot be kept: {}", e.what()));
    }
  }

  // Sets m_device_groups to the indexes 0..count-1 by the device
  // `device_of` gives (equal strings, not only the same one: a group per
  // device name), in order within each; an index it gives none for is
  // left out.
  template<typename DeviceOf>
  void
  group_by_device(std::size_t count, DeviceOf device_of)
  {
    auto& groups = m_device_groups;
    for (auto& group : groups) {
      group.clear();
    }
    std::size_t used = 0;
    m_group_of.clear();
    for (std::size_t i = 0; i < count; ++i) {
      const std::string* device = device_of(i);
      if (!device) {
        continue;
      }
      const auto [it, added] = m_group_of.try_emplace(*device, used);
      if (added) {
        if (groups.size() <= used) {
          groups.emplace_back();
        }
        ++used;
      }
      groups[it->second].push_back(i);
    }
    groups.resize(used);
  }

  void
  mark_recalled(ResultLine& line) const
  {
    if (!m_request.restore_until) {
      diskfile::clear_restore_mark(line.file);
      return;
    }
    // Re-issuing extends: the later of the two marks.
    const auto expiry = std::max(*m_request.restore_until,
                                 read_mark_or_none(line.file).value_or(0));
    diskfile::write_restore_mark(line.file, expiry);
    line.restore_expiry = expiry;
  }

  // A mark that cannot be read counts as none.
  static std::optional<std::int64_t>
  read_mark_or_none(const std::string& file)
  {
    try {
      return diskfile::read_restore_mark(file);
    } catch (const Error&) {
      return std::nullopt;
    }
  }

  // Adds what the server's backend expects the request's operation on
  // `items` to cost; one that cannot say (or fails) makes the sum unknown.
  void
  add_estimate(std::size_t server, std::span<const Item> items)
  {
    std::optional<connector::Estimate> estimate;
    try {
      if (m_servers[server].connector) {
        estimate = m_servers[server].connector->estimate(m_request.operation, items);
      }
    } catch (const Error&) {
    }
    if (!estimate || !std::isfinite(estimate->drive_seconds)
        || !std::isfinite(estimate->wall_seconds)) {
      m_estimate_known = false;
      return;
    }
    // One backend call after another: their times add up.
    m_estimate += *estimate;
  }

  // Runs `operation` on the results of `server` that go to the backend and
  // are kept (`kept`) or not.
  void
  apply_backend(std::size_t server, std::vector<Result>& results, Operation operation, bool kept)
  {
    const auto for_server = [&](const Result& result) {
      return result.to_backend && result.server == server && result.kept == kept;
    };
    // The items borrow the results' strings for the call and give them
    // back: a batch's paths are not copied.
    std::vector<Item> items;
    items.reserve(
      static_cast<std::size_t>(std::count_if(results.begin(), results.end(), for_server)));
    for (auto& result : results) {
      if (for_server(result)) {
        items.push_back({std::move(result.line.object),
                         std::move(result.line.file),
                         std::move(result.object_dir)});
      }
    }
    if (items.empty()) {
      return;
    }
    std::vector<Outcome> outcomes;
    try {
      if (!m_servers[server].connector) {
        throw Error(m_servers[server].unavailable);
      }
      outcomes = m_servers[server].connector->run(operation, items);
    } catch (const Error& e) {
      outcomes.assign(items.size(), Outcome::failed(fmt::format("backend failed: {}", e.what())));
    }
    if (m_request.estimate && !kept) {
      add_estimate(server, items);
    }
    const auto placements = placements_for(server, items);
    auto item = items.begin();
    auto outcome = outcomes.begin();
    auto placement = placements.begin();
    for (auto& result : results) {
      if (for_server(result)) {
        result.line.object = std::move(item->object);
        result.line.file = std::move(item->file);
        result.object_dir = std::move(item->object_dir);
        ++item;
        result.line.state = outcome->state;
        result.line.failure = std::move(outcome->failure);
        ++outcome;
        if (placement != placements.end()) {
          result.line.placement = std::move(*placement++);
        }
        if (!result.object_dir.empty()) {
          settle_missing_replica(result);
        }
      }
    }
  }

  // The placements of a connector batch's items, when the request asks for
  // them (a version 2 status): one locate() call per batch. None when it
  // does not, or when the connector cannot place them (an error leaves the
  // status lines as they are: a placement only helps a choice).
  std::vector<std::optional<connector::Placement>>
  placements_for(std::size_t server, std::span<const Item> items) const
  {
    if (!m_request.placement || m_request.operation != Operation::status
        || !m_servers[server].connector) {
      return {};
    }
    try {
      return m_servers[server].connector->locate(items);
    } catch (const Error&) {
      return {};
    }
  }

  // A missing replica after the backend answered: a rebuilt file is
  // reported by its path; one still missing, of an object the backend
  // holds, as `"stub": "missing"`.
  void
  settle_missing_replica(Result& result) const
  {
    auto& line = result.line;
    if (m_request.operation == Operation::recall && !line.failure) {
      try {
        const auto replica = diskfile::locate_replica(result.object_dir);
        if (replica.state == diskfile::ReplicaState::present) {
          line.file = replica.data_file.string();
          return;
        }
      } catch (const Error& e) {
        fail(line, FailureKind::backend, fmt::format("rebuilt, but cannot be found: {}", e.what()));
        return;
      }
      fail(line,
           FailureKind::backend,
           "the backend reported the replica rebuilt, but no .data file is there: object is not "
           "on this device");
      return;
    }
    line.stub_missing = !line.failure;
  }

  // Appends the result lines for one requested object: one per local
  // replica, or one error line. A replica's line is only placed here (its
  // device, server and hash directory in m_placed); locate_placed() looks
  // at the disk.
  void
  place(const Target& object, std::vector<Result>& results)
  {
    const SwiftName name = split_object_path(object.path);
    const auto digest = m_hash(name.account, name.container, name.object);
    const auto partition = m_policy.ring.partition(digest);

    if (object.device != Request::k_any_device) {
      const std::string& device = m_request.devices[object.device];
      const auto server = m_local.find(device);
      if (!server) {
        results.push_back(
          failure(object, &device, FailureKind::node, "device is not on this node"));
        return;
      }
      add_placed(object, device, *server, partition, digest, results);
      return;
    }

    // No device given: look on every local device the ring names for it.
    bool any = false;
    m_policy.ring.primary_nodes(partition, m_nodes);
    for (const auto* node : m_nodes) {
      const auto server = m_local.find(node->device);
      if (!server) {
        continue;
      }
      any = true;
      add_placed(object, node->device, *server, partition, digest, results);
    }
    if (!any) {
      results.push_back(failure(object,
                                nullptr,
                                FailureKind::node,
                                "no primary device of this object is on this node"));
    }
  }

  // A replica to look at: results[slot] of `object` on `device`.
  struct Placed
  {
    std::size_t slot = 0;
    Target object;
    const std::string* device = nullptr; // the request's or the ring's
    std::size_t server = 0;
    std::uint32_t partition = 0;
    Md5Digest digest{};
  };

  void
  add_placed(const Target& object,
             const std::string& device,
             std::size_t server,
             std::uint32_t partition,
             const Md5Digest& digest,
             std::vector<Result>& results)
  {
    m_placed.push_back(Placed{results.size(), object, &device, server, partition, digest});
    results.emplace_back();
  }

  // Fills the placed replicas' lines from their disks, a thread per device
  // (for_each_by_device).
  void
  locate_placed(std::vector<Result>& results)
  {
    group_by_device(m_placed.size(), [&](std::size_t i) { return m_placed[i].device; });
    for_each_by_device(m_device_groups,
                       m_options.device_threads,
                       m_session.readers,
                       [&](DiskReader& reader, std::size_t i) {
                         const Placed& placed = m_placed[i];
                         results[placed.slot] = locate_on(reader, placed);
                       });
  }

  Result
  locate_on(DiskReader& reader, const Placed& placed) const
  {
    const Target& object = placed.object;
    const std::string& device = *placed.device;
    const std::size_t server = placed.server;
    const std::string hash = to_hex(placed.digest);
    diskfile::format_object_dir(reader.dir,
                                m_servers[server].conf->devices.native(),
                                device,
                                m_options.storage_policy_index,
                                placed.partition,
                                hash);
    const auto replica = reader.scanner.scan(reader.dir);
    switch (replica.state) {
    case diskfile::ReplicaState::present: {
      reader.file.assign(reader.dir).append("/").append(replica.data_name);
      Result result = check_metadata(reader, object, device);
      result.server = server;
      return result;
    }
    case diskfile::ReplicaState::deleted:
      return failure(object, &device, FailureKind::deleted, "object is deleted on this device");
    case diskfile::ReplicaState::absent:
      break;
    }
    const auto* backend = m_servers[server].connector;
    if (backend && backend->can_rebuild() && m_request.operation != Operation::migrate) {
      Result result;
      result.line.object = object.path;
      result.line.device = device;
      result.to_backend = true;
      result.server = server;
      result.object_dir = reader.dir;
      return result;
    }
    return failure(object, &device, FailureKind::missing, "object is not on this device");
  }

  // The file's own metadata must name the object: a mismatch means a
  // corrupt file or a devices directory that belongs to another cluster,
  // and the backend must not be pointed at it.
  static Result
  check_metadata(DiskReader& reader, const Target& object, const std::string& device)
  {
    const std::string& file = reader.file;
    try {
      const auto& metadata = reader.metadata.read_fields(file);
      if (metadata.name != object.path) {
        return failure(
          object,
          &device,
          FailureKind::node,
          fmt::format("replica file {} belongs to \"{}\"", file, printable(metadata.name)));
      }
      Result result;
      result.line.object = object.path;
      result.line.device = device;
      result.line.file = file;
      if (metadata.etag) {
        result.line.etag.emplace(*metadata.etag);
      }
      result.line.size = metadata.content_length;
      result.to_backend = true;
      return result;
    } catch (const Error& e) {
      return failure(object,
                     &device,
                     FailureKind::node,
                     fmt::format("unreadable replica metadata: {}", e.what()));
    }
  }

  static void
  fail(ResultLine& line, FailureKind kind, std::string message)
  {
    line.state = ObjectState::unknown;
    line.failure = make_failure(kind, std::move(message));
  }

  static Result
  failure(const Target& object, const std::string* device, FailureKind kind, std::string message)
  {
    Result result;
    result.line.object = object.path;
    if (device) {
      result.line.device = *device;
    }
    fail(result.line, kind, std::move(message));
    return result;
  }

  void
  write(std::ostream& out, const Result& result)
  {
    m_text.clear();
    protocol::append_result_line(m_text, result.line, m_summary.objects == 0);
    out << m_text;
    m_summary.add(result.line);
  }

  std::string m_text;            // a result line, its buffer reused
  std::vector<Result> m_results; // a batch's lines, the vector reused
  const Request& m_request;
  protocol::ObjectPathSpool* m_paths;
  // The batch of m_paths being worked, and its first object's number.
  const protocol::ObjectPaths* m_batch_paths = nullptr;
  std::size_t m_batch_begin = 0;
  const std::vector<LocalServer>& m_servers;
  const HandlerOptions& m_options;
  HandlerSession::State& m_session;
  const PolicyState& m_policy;
  Output& m_out;
  LocalDevices m_local;
  ring::PathHasher m_hash;
  ring::NodeList m_nodes;       // the primary devices of the object being placed
  std::vector<Placed> m_placed; // a batch's replicas to look at, reused
  // A batch's items per device (group_by_device), reused.
  std::vector<std::vector<std::size_t>> m_device_groups;
  std::unordered_map<std::string, std::size_t> m_group_of;
  Summary m_summary;
  // An estimate request's sum over the backends, and whether each could
  // say.
  connector::Estimate m_estimate;
  bool m_estimate_known = true;
};

} // namespace

Summary
run_request(const Request& request,
            const ring::SwiftConf& swift_conf,
            const std::vector<LocalServer>& servers,
            const HandlerOptions& options,
            std::ostream& out,
            HandlerSession& session)
{
  return Runner(request, nullptr, swift_conf, servers, options, out, session.state()).run();
}

Summary
run_request(const Request& request,
            protocol::ObjectPathSpool& paths,
            const ring::SwiftConf& swift_conf,
            const std::vector<LocalServer>& servers,
            const HandlerOptions& options,
            std::ostream& out,
            HandlerSession& session)
{
  return Runner(request, &paths, swift_conf, servers, options, out, session.state()).run();
}

Summary
run_request(const Request& request,
            const ring::SwiftConf& swift_conf,
            const std::vector<LocalServer>& servers,
            const HandlerOptions& options,
            std::ostream& out)
{
  HandlerSession session;
  return run_request(request, swift_conf, servers, options, out, session);
}

} // namespace hlm::handler
