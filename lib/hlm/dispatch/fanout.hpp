#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/connector/connector.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/transport/transport.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hlm::dispatch {

// What one replica's node said about one object.
struct ReplicaOutcome
{
  std::size_t object = 0;   // index into the object list given to run()
  std::string host;         // the ring IP of the node
  std::string device;
  connector::ObjectState state = connector::ObjectState::unknown;
  std::optional<std::string> error; // set: this replica failed
};

using TransportFactory =
  std::function<std::unique_ptr<transport::Transport>(const config::NodeAccess&)>;

// The transports the configuration names: local child processes and libssh.
TransportFactory default_transport_factory();

// Runs one operation over a list of objects on every node that holds a
// replica: groups the replicas per storage host (not per device: one
// hlm-handler call per host serves all its devices), sends each host its
// list as the seed's request document, runs the hosts in parallel (at most
// `max_parallel_nodes` at once), and reports every replica's outcome. A host
// that cannot be reached, or whose handler fails as a whole, gives each of
// its replicas an error naming the host and the cause.
class Fanout
{
public:
  Fanout(const config::HlmConf& conf, TransportFactory make_transport);

  // `objects` are "/account/container/object" paths of policy
  // `policy_index`, placed by `object_ring`. `on_outcome` is called from the
  // calling thread, once per replica, after every host has answered.
  void run(connector::Operation operation,
           int policy_index,
           const ring::Ring& object_ring,
           const ring::HashSecret& secret,
           const std::vector<std::string>& objects,
           const std::function<void(const ReplicaOutcome&)>& on_outcome) const;

private:
  const config::HlmConf& m_conf;
  TransportFactory m_make_transport;
};

} // namespace hlm::dispatch
