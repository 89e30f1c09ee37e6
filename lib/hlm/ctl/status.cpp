#include <hlm/ctl/status.hpp>
#include <hlm/ctl/submit.hpp>
#include <hlm/dispatch/stream.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace hlm::ctl {

namespace {

// Merges the object's replicas (merge_replica_states).
void
report_object(const std::string& path,
              const std::vector<dispatch::ReplicaOutcome>& replicas,
              StatusSummary& summary,
              const std::function<void(const ObjectStatus&)>& on_object)
{
  ObjectStatus status;
  for (const auto& replica : replicas) {
    if (replica.stub_missing && !replica.failure) {
      status.stub_missing_on.push_back(replica.device);
    }
    if (replica.failure) {
      status.errors.push_back(replica.failure->message);
    } else if (replica.restore_expiry) {
      status.restore_expiry = std::max(status.restore_expiry.value_or(0), *replica.restore_expiry);
    }
    status.replicas.push_back(ReplicaStatus{replica.device,
                                            replica.host,
                                            replica.failure ? ObjectState::unknown : replica.state,
                                            replica.failure.has_value()});
  }
  status.object = path;
  status.state = merge_replica_states(status.replicas);
  status.readable = any_replica_readable(status.replicas);
  if (!status.errors.empty()) {
    ++summary.with_errors;
  }
  if (!status.stub_missing_on.empty()) {
    ++summary.with_stub_missing;
  }
  ++summary.objects;
  ++summary.per_state[static_cast<std::size_t>(status.state)];
  on_object(status);
}

} // namespace

ObjectState
merge_replica_states(const std::vector<ReplicaStatus>& replicas)
{
  if (replicas.empty()) {
    return ObjectState::unknown;
  }
  bool same = true;
  bool on_tape = true; // every replica migrated or premigrated
  for (const auto& replica : replicas) {
    if (replica.error) {
      return ObjectState::unknown;
    }
    same = same && replica.state == replicas.front().state;
    on_tape = on_tape
              && (replica.state == ObjectState::migrated
                  || replica.state == ObjectState::premigrated);
  }
  if (same) {
    return replicas.front().state;
  }
  return on_tape ? ObjectState::premigrated : ObjectState::unknown;
}

bool
any_replica_readable(const std::vector<ReplicaStatus>& replicas)
{
  return std::any_of(replicas.begin(), replicas.end(), [](const ReplicaStatus& replica) {
    return !replica.error
           && (replica.state == ObjectState::resident || replica.state == ObjectState::premigrated);
  });
}

StatusSummary
status(swift::Client& client,
       const config::HlmConf& conf,
       const ring::SwiftConf& swift_conf,
       const dispatch::Fanout& fanout,
       const queue::Target& target,
       const std::function<void(const ObjectStatus&)>& on_object)
{
  const auto& policy = container_policy(client, swift_conf, target);
  require_object(client, target);
  const auto ring = ring::Ring::load(ring::object_ring_path(conf.swift_dir, policy.index));
  const ring::HashSecret secret{swift_conf.hash_path_prefix, swift_conf.hash_path_suffix};

  StatusSummary summary;
  // Each object is reported as soon as its replicas have answered, in
  // listing order, while the listing goes on.
  // Premigrated replicas say when their restore expires.
  dispatch::HandlerWork work(Operation::status);
  work.restore_marks = true;
  dispatch::StreamingFanout round(fanout,
                                  work,
                                  policy.index,
                                  ring,
                                  secret,
                                  [&](std::size_t,
                                      const std::string& path,
                                      const std::vector<dispatch::ReplicaOutcome>& replicas) {
                                    report_object(path, replicas, summary, on_object);
                                  });
  const std::string base = fmt::format("/{}/{}/", target.account, target.container);
  if (!target.object.empty()) {
    round.add(base + target.object);
  } else {
    client.list_objects(target.account, target.container, {}, [&](const swift::ObjectEntry& entry) {
      round.add(base + entry.name);
      return true;
    });
  }
  round.finish();
  return summary;
}

} // namespace hlm::ctl
