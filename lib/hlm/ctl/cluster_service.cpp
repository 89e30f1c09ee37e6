// The cluster's path of hlmctl: the functions of submit, status, requests
// and wait over the queue, the rings and the storage nodes.

#include <hlm/ctl/service.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace hlm::ctl {

namespace {

class ClusterService final : public Service
{
public:
  ClusterService(swift::Client& client,
                 const config::HlmConf& conf,
                 const ring::SwiftConf& swift_conf,
                 const dispatch::Fanout& fanout,
                 queue::RequestQueue& requests,
                 std::string description)
    : m_client(client),
      m_conf(conf),
      m_swift_conf(swift_conf),
      m_fanout(fanout),
      m_requests(requests),
      m_submitter(client, requests, swift_conf),
      m_bulk(m_submitter, conf.list_min_objects),
      m_description(std::move(description))
  {
    check_on_disk(true);
  }

  Submitted
  submit(Operation operation, const queue::Target& target) override
  {
    return m_submitter.submit(operation, target);
  }

  void
  set_recall_copies(std::optional<std::size_t> copies) override
  {
    m_submitter.set_copies(copies);
  }

  void
  set_priority(std::optional<int> priority) override
  {
    m_submitter.set_priority(priority);
  }

  void
  set_restore_days(std::optional<int> days) override
  {
    m_submitter.set_days(days);
  }

  void
  set_check_on_disk(bool check) override
  {
    check_on_disk(check);
  }

  void
  check_on_disk(bool check)
  {
    if (check) {
      m_submitter.set_on_disk(
        [this](const queue::Target& target, std::optional<std::size_t> copies) {
          return on_disk(target, copies);
        });
    } else {
      m_submitter.set_on_disk({});
    }
  }

  // Whether enough replicas of the object are on disk (resident or
  // premigrated) for a recall of `copies` (unset: recall_copies): one
  // status query of the object. A replica that cannot say, or a query that
  // fails, makes it "no": the recall is queued.
  bool
  on_disk(const queue::Target& target, std::optional<std::size_t> copies)
  {
    const std::size_t wanted = copies.value_or(m_conf.recall_copies);
    std::optional<ObjectStatus> found;
    try {
      ctl::status(m_client, m_conf, m_swift_conf, m_fanout, target, [&](const ObjectStatus& s) {
        found = s;
      });
    } catch (const Error&) {
      return false;
    }
    if (!found || !found->errors.empty() || found->replicas.empty()) {
      return false;
    }
    std::size_t on = 0;
    for (const auto& replica : found->replicas) {
      on += !replica.error
                && (replica.state == ObjectState::resident
                    || replica.state == ObjectState::premigrated)
              ? 1
              : 0;
    }
    return on > 0 && on >= std::min(wanted, found->replicas.size());
  }

  std::vector<ManageResult>
  manage(Manage verb, const std::vector<RequestName>& names) override
  {
    switch (verb) {
    case Manage::cancel:
      return cancel_requests(m_client, m_requests, names);
    case Manage::retry:
      return retry_requests(m_client, m_requests, m_submitter, names);
    case Manage::forget:
      return forget_requests(m_client, m_requests, names);
    }
    return {};
  }

  BulkSubmitter*
  bulk_submitter() override
  {
    return &m_bulk;
  }

  StatusSummary
  status(const queue::Target& target,
         bool /*with_replicas*/,
         const std::function<void(const ObjectStatus&)>& on_object) override
  {
    return ctl::status(m_client, m_conf, m_swift_conf, m_fanout, target, on_object);
  }

  std::size_t
  requests(const queue::Target& target,
           const std::function<void(const RequestLine&)>& on_request) override
  {
    // The caller must be able to see the target, as for submitting (a
    // whole account: the account).
    if (target.container.empty()) {
      if (!m_client.head_account(target.account)) {
        throw SwiftError(fmt::format("account {} does not exist", printable(target.account)), 404);
      }
    } else {
      require_container(m_client, target);
    }
    return requests_for(m_requests, target, on_request);
  }

  std::vector<QueuedRequest>
  look_up(const std::set<std::string>& ids) override
  {
    return ctl::look_up(m_requests, ids);
  }

  std::vector<std::string>
  pending_for(const queue::Target& target) override
  {
    return ctl::pending_for(m_requests, target);
  }

  std::string
  describe() override
  {
    return m_description;
  }

private:
  swift::Client& m_client;
  const config::HlmConf& m_conf;
  const ring::SwiftConf& m_swift_conf;
  const dispatch::Fanout& m_fanout;
  queue::RequestQueue& m_requests;
  Submitter m_submitter;
  BulkSubmitter m_bulk;
  std::string m_description;
};

} // namespace

std::unique_ptr<Service>
cluster_service(swift::Client& client,
                const config::HlmConf& conf,
                const ring::SwiftConf& swift_conf,
                const dispatch::Fanout& fanout,
                queue::RequestQueue& requests,
                std::string description)
{
  return std::make_unique<ClusterService>(client,
                                          conf,
                                          swift_conf,
                                          fanout,
                                          requests,
                                          std::move(description));
}

} // namespace hlm::ctl
