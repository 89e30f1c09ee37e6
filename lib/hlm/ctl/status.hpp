#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/connector/connector.hpp>
#include <hlm/dispatch/fanout.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/swift/client.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hlm::ctl {

// What one replica said: its device, the node that holds it (the ring IP;
// empty when not known, as through the HTTP interface of an older hlm), and
// its state (unknown when it could not say: see `error`).
struct ReplicaStatus
{
  std::string device;
  std::string node;
  ObjectState state = ObjectState::unknown;
  bool error = false; // the replica could not answer (the reason is in ObjectStatus::errors)

  bool operator==(const ReplicaStatus&) const = default;
};

// One object's state merged over its replicas (merge_replica_states), what
// each replica said, and whether a replica has its data on disk.
struct ObjectStatus
{
  std::string object; // "/account/container/object"
  ObjectState state = ObjectState::unknown;
  std::vector<std::string> errors; // replicas that could not say
  // Devices whose replica file is missing although the backend holds the
  // object: a recall rebuilds it there.
  std::vector<std::string> stub_missing_on;
  std::vector<ReplicaStatus> replicas = {}; // in the order the nodes answered
  // Some replica is resident or premigrated: a GET through the proxy finds
  // its data on disk (with guarded reads, a stub answers 412 and the proxy
  // tries the next replica).
  bool readable = false;
  // When its restored copies go back to tape (`hlmctl recall --days`;
  // Unix seconds): the latest expiry its replicas on disk carry.
  std::optional<std::int64_t> restore_expiry = {};
};

// The merge rule over an object's replicas:
// - no replica answered, or one could not say (an error): unknown;
// - all in the same state: that state;
// - migrated beside premigrated: premigrated (readable from the premigrated
//   replicas, every replica still on tape; what a recall of fewer copies
//   than all leaves);
// - anything else (resident beside a tape state: a migrate that half
//   happened; a replica that answered unknown): unknown.
ObjectState merge_replica_states(const std::vector<ReplicaStatus>& replicas);

// Some replica without an error is resident or premigrated.
bool any_replica_readable(const std::vector<ReplicaStatus>& replicas);

struct StatusSummary
{
  std::size_t objects = 0;
  std::array<std::size_t, 4> per_state{}; // indexed by ObjectState
  std::size_t with_errors = 0;
  std::size_t with_stub_missing = 0; // objects with a non-empty stub_missing_on
};

// The synchronous status query: lists the target container through the
// proxy as the caller (streamed page by page), asks every node that holds a
// replica (the dispatcher's streaming fan-out with op status, while the
// listing goes on), and reports each object in listing order as soon as its
// replicas have answered. Throws
// hlm::SwiftError when the caller cannot see the target.
StatusSummary status(swift::Client& client,
                     const config::HlmConf& conf,
                     const ring::SwiftConf& swift_conf,
                     const dispatch::Fanout& fanout,
                     const queue::Target& target,
                     const std::function<void(const ObjectStatus&)>& on_object);

} // namespace hlm::ctl
