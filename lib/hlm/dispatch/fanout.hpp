#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/connector/connector.hpp>
#include <hlm/core/failure.hpp>
#include <hlm/core/operation.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/transport/transport.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::dispatch {

struct HostBatch; // fanout.cpp

// What a node's hlm-handler is asked to do: the operation, and the restore
// expiry fields of a version 3 document (protocol::Request): a recall
// that marks what it brings back to go back to tape at `restore_until`,
// a migrate that releases only replicas whose mark is due by
// `release_before`. Made from a bare operation where there are none.
struct HandlerWork
{
  HandlerWork(Operation op) // NOLINT(google-explicit-constructor,hicpp-explicit-conversions)
    : operation(op)
  {
  }

  Operation operation = Operation::status;
  std::optional<std::int64_t> restore_until;
  std::optional<std::int64_t> release_before;

  // Estimated, not done (protocol::Request::estimate): hlm-dispatch
  // --dry-run, hlmctl estimate.
  bool estimate = false;
  // A status that reports restore expiries (protocol::Request::
  // restore_marks), as hlmctl status asks: wanted, not needed, so a node
  // that speaks version 1 only gets a plain status.
  bool restore_marks = false;

  // Whether the document needs version 3.
  bool
  version3() const
  {
    return restore_until.has_value() || release_before.has_value() || estimate;
  }
};

// What one replica's node said about one object.
struct ReplicaOutcome
{
  std::size_t object = 0; // index into the object list given to run()
  std::string host;       // the ring IP of the node
  std::string device;
  ObjectState state = ObjectState::unknown;
  std::optional<Failure> failure; // set: this replica failed; its message names the node
  // The replica's .data file is missing, and the backend holds the object
  // and can rebuild it (the handler's "stub": "missing").
  bool stub_missing = false;
  // Where the backend holds the replica's copy: a status run with
  // placements (run_replicas) on a node whose connector can say.
  std::optional<connector::Placement> placement = {};
  // The replica's restore expiry (Unix seconds), when the node reported
  // one (protocol::ResultLine::restore_expiry).
  std::optional<std::int64_t> restore_expiry = {};
};

// One replica to work on: an object (index into the object list) on a
// device of a host.
struct ReplicaTarget
{
  std::size_t object = 0;
  std::string host; // the ring IP of the node
  std::string device;
};

// Every replica of `objects` ("/account/container/object" paths) as the
// object ring places them: per object, its primaries in ring order.
std::vector<ReplicaTarget> replica_targets(const ring::Ring& object_ring,
                                           const ring::HashSecret& secret,
                                           const std::vector<std::string>& objects);

// Receives a node's warning ("node <host>: <text>"), once per host and text
// for the lifetime of a Fanout; from the thread that runs the round (in a
// StreamingFanout, a host's session thread; never two calls at once).
using WarningSink = std::function<void(const std::string&)>;

using TransportFactory =
  std::function<std::unique_ptr<transport::Transport>(const config::NodeAccess&)>;

// One host's share of a stream of objects (StreamingFanout): replicas sent
// together, as one request document.
// The paths and device names are views: of the stream's own copy of each
// object's path and of the ring's devices, which outlive the chunk's
// answer (a stream holds up to `window` objects' replicas in chunks, and a
// copy of the path per replica was most of its memory).
struct HostChunk
{
  std::vector<std::size_t> objects;      // each replica's object (ReplicaOutcome::object)
  std::vector<std::string_view> paths;   // parallel to `objects`
  std::vector<std::string_view> devices; // parallel to `objects`
};

// Where Fanout::serve takes a host's chunks from and hands their outcomes.
class ChunkSource
{
public:
  virtual ~ChunkSource() = default;
  // The next chunk. `wait` false: none (std::nullopt) unless one is ready
  // now; true: blocks until one is, or returns none at the stream's end.
  virtual std::optional<HostChunk> next(bool wait) = 0;
  // A chunk's outcomes, one per replica, in the chunk's order.
  virtual void answered(std::vector<ReplicaOutcome> outcomes) = 0;
};

// The transports the configuration names: local child processes and libssh.
TransportFactory default_transport_factory();

// Runs one operation over a list of objects on every node that holds a
// replica: groups the replicas per storage host (not per device: one
// hlm-handler call per host serves all its devices), sends each host its
// list as a request document (protocol/request.hpp), runs the hosts in
// parallel (at most `max_parallel_nodes` at once), and reports every
// replica's outcome as the node's result document says it. A host that
// cannot be reached, or whose handler fails as a whole, gives each of its
// replicas a failure naming the host and the cause (kind unreachable, or
// node); an exception that is not an hlm::Error (a bug) is rethrown from
// run() once every host is done, and no outcome is reported.
//
// Sessions: each host's hlm-handler is started once, on its first run(),
// and gets every later run's document on the same stdin (protocol version
// 2, each answer matched to its document by id) until close_sessions() or
// the Fanout's end. A handler that answers the first version 2 document
// with nothing at all (an hlm-handler before version 2 refuses it) or
// without an id makes that host one process per run for the Fanout's
// lifetime, version 1, and the refused document is sent again as version
// 1. A session that fails (the handler exits, a timeout, a transport error,
// an unreadable or mismatched answer) fails that run's replicas of that
// host only, as above; its transport is dropped and the next run starts
// anew.
class Fanout
{
public:
  // `warn` gets what a node's hlm-handler warns about (its Swift is not
  // set up to keep migrated replicas safe); by default it is printed on
  // stderr as "warning: node <host>: <text>".
  Fanout(const config::HlmConf& conf, TransportFactory make_transport, WarningSink warn = {});
  // Ends the sessions (close_sessions).
  ~Fanout();
  Fanout(const Fanout&) = delete;
  Fanout& operator=(const Fanout&) = delete;

  // Ends every host's handler session (closes its stdin and waits for it
  // to exit; errors are ignored), keeping the transports: the next run()
  // starts new handlers. Not while a run() is going on.
  void close_sessions() const;

  // `objects` are "/account/container/object" paths of policy
  // `policy_index`, placed by `object_ring`. `on_outcome` is called from the
  // calling thread, once per replica, after every host has answered.
  void run(const HandlerWork& operation,
           int policy_index,
           const ring::Ring& object_ring,
           const ring::HashSecret& secret,
           const std::vector<std::string>& objects,
           const std::function<void(const ReplicaOutcome&)>& on_outcome) const;

  // Works one host's chunks from `source` until it has no more, on the
  // calling thread, with the host's link (its session, as in run()): a
  // chunk is one document; on a session that speaks version 2 a second
  // document is sent while the first is answered (at most two in flight),
  // on a version 1 host each chunk is one handler process. A chunk the host
  // fails (as in run(): unreachable, or node, naming the host) fails all
  // its replicas and every other chunk in flight; the next chunk connects
  // once more, and when that fails too, every later chunk fails at once,
  // without a connection. An exception that is not an hlm::Error (a bug) is
  // thrown.
  void serve(const std::string& host,
             const HandlerWork& operation,
             int policy_index,
             ChunkSource& source) const;

  const config::HlmConf&
  conf() const
  {
    return m_conf;
  }

  // Gets each host's answer to an estimate document (HandlerWork::estimate):
  // what its backends expect, nullopt where one cannot estimate. Called
  // from the hosts' threads, one call at a time. Set it before a run.
  using EstimateSink =
    std::function<void(const std::string& host, const std::optional<connector::Estimate>&)>;
  void set_estimate_sink(EstimateSink sink) const;

  // run() for the replicas `replicas` only (each object on the devices
  // given, not all its ring's), as `recall --copies N` needs; with
  // `placement`, a status asks the nodes (version 2 sessions) for each
  // replica's placement. Returns the warnings of this run's nodes ("node
  // <host>: <text>"), every one, including those the sink already got in an
  // earlier run.
  std::vector<std::string> run_replicas(
    const HandlerWork& operation,
    int policy_index,
    const std::vector<std::string>& objects,
    const std::vector<ReplicaTarget>& replicas,
    bool placement,
    const std::function<void(const ReplicaOutcome&)>& on_outcome) const;

  // A host's transport, its handler session and its protocol version
  // (fanout.cpp).
  struct HostLink;

private:
  std::unique_ptr<HostLink> take_link(const std::string& host) const;
  void keep_link(const std::string& host, std::unique_ptr<HostLink> link) const;
  config::NodeAccess access_for(const std::string& host) const;
  // Passes each warning not seen before to m_warn, one call at a time.
  void report_warnings(const std::vector<std::string>& warnings) const;
  // Passes a batch's estimate answer, if any, to m_estimate_sink.
  void report_estimate(const std::string& host, const HostBatch& batch) const;

  const config::HlmConf& m_conf;
  TransportFactory m_make_transport;
  WarningSink m_warn;
  mutable std::mutex m_mutex; // m_warned and m_links
  mutable std::set<std::string> m_warned;
  mutable std::mutex m_warn_mutex; // one m_warn (or m_estimate_sink) call at a time
  mutable EstimateSink m_estimate_sink;
  // Each host's link, kept between runs so that an ssh session and a
  // handler are set up once per host for the Fanout's lifetime, not once
  // per round. A link is taken out while one thread uses it (transports are
  // not thread-safe).
  mutable std::map<std::string, std::unique_ptr<HostLink>> m_links;
};

} // namespace hlm::dispatch
