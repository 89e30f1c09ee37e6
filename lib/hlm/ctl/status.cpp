#include <hlm/ctl/status.hpp>
#include <hlm/ctl/submit.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

namespace hlm::ctl {

namespace {

class StatusRound
{
public:
  StatusRound(const config::HlmConf& conf,
              const dispatch::Fanout& fanout,
              int policy,
              const ring::Ring& ring,
              const ring::HashSecret& secret,
              StatusSummary& summary,
              const std::function<void(const ObjectStatus&)>& on_object)
    : m_conf(conf), m_fanout(fanout), m_policy(policy), m_ring(ring), m_secret(secret),
      m_summary(summary), m_on_object(on_object)
  {
  }

  void
  add(std::string path)
  {
    m_paths.push_back(std::move(path));
    if (m_paths.size() >= m_conf.batch_size) {
      flush();
    }
  }

  void
  flush()
  {
    if (m_paths.empty()) {
      return;
    }
    std::vector<ObjectStatus> merged(m_paths.size());
    std::vector<bool> seen(m_paths.size(), false);
    m_fanout.run(connector::Operation::status, m_policy, m_ring, m_secret, m_paths,
                 [&](const dispatch::ReplicaOutcome& replica) {
                   auto& status = merged[replica.object];
                   if (replica.error) {
                     status.errors.push_back(*replica.error);
                     status.state = connector::ObjectState::unknown;
                   } else if (!seen[replica.object]) {
                     status.state = replica.state;
                   } else if (status.state != replica.state) {
                     status.state = connector::ObjectState::unknown;
                   }
                   seen[replica.object] = true;
                 });
    for (std::size_t i = 0; i < m_paths.size(); ++i) {
      auto& status = merged[i];
      status.object = std::move(m_paths[i]);
      if (!status.errors.empty()) {
        status.state = connector::ObjectState::unknown;
        ++m_summary.with_errors;
      }
      ++m_summary.objects;
      ++m_summary.per_state[static_cast<std::size_t>(status.state)];
      m_on_object(status);
    }
    m_paths.clear();
  }

private:
  const config::HlmConf& m_conf;
  const dispatch::Fanout& m_fanout;
  int m_policy;
  const ring::Ring& m_ring;
  const ring::HashSecret& m_secret;
  StatusSummary& m_summary;
  const std::function<void(const ObjectStatus&)>& m_on_object;
  std::vector<std::string> m_paths;
};

} // namespace

StatusSummary
status(swift::Client& client,
       const config::HlmConf& conf,
       const ring::SwiftConf& swift_conf,
       const dispatch::Fanout& fanout,
       const queue::Target& target,
       const std::function<void(const ObjectStatus&)>& on_object)
{
  const auto container = client.head_container(target.account, target.container);
  if (!container) {
    throw SwiftError(fmt::format("container {}/{} does not exist", target.account,
                                 printable(target.container)),
                     404);
  }
  if (!target.object.empty() && !client.head_object(target.account, target.container, target.object)) {
    throw SwiftError(fmt::format("object {} does not exist", printable(to_string(target))), 404);
  }
  const auto& policy = container->storage_policy.empty() ? swift_conf.default_policy()
                                                         : swift_conf.find_policy(container->storage_policy);
  const auto ring = ring::Ring::load(ring::object_ring_path(conf.swift_dir, policy.index));
  const ring::HashSecret secret{swift_conf.hash_path_prefix, swift_conf.hash_path_suffix};

  StatusSummary summary;
  StatusRound round(conf, fanout, policy.index, ring, secret, summary, on_object);
  const std::string base = fmt::format("/{}/{}/", target.account, target.container);
  if (!target.object.empty()) {
    round.add(base + target.object);
  } else {
    client.list_objects(target.account, target.container, {}, [&](const swift::ObjectEntry& entry) {
      round.add(base + entry.name);
      return true;
    });
  }
  round.flush();
  return summary;
}

} // namespace hlm::ctl
