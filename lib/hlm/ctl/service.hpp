#pragma once

#include <hlm/ctl/manage.hpp>
#include <hlm/ctl/requests.hpp>
#include <hlm/ctl/status.hpp>
#include <hlm/ctl/submit.hpp>
#include <hlm/ctl/wait.hpp>
#include <hlm/util/error.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace hlm::ctl {

// What hlmctl's subcommands ask of hlm, on one of two paths:
//
// - the cluster's own (cluster_service): the caller's Swift credentials
//   for the access checks and listings through the proxy, the rings and
//   the direct container-server protocol for the queue, the storage nodes'
//   handlers for status. For the cluster's hosts.
// - the proxy's HTTP interface (interface_service): the caller's Swift
//   credentials and nothing else; the proxy's hlmctl takes the cluster's
//   path there. For users with a token and the proxy's address.
//
// Both check that the caller may see the target before anything else and
// throw what the cluster path throws (hlm::SwiftError with the HTTP status
// for refusals and missing targets).
class Service
{
public:
  virtual ~Service() = default;

  // Queues one request (Submitter::submit).
  virtual Submitted submit(Operation operation, const queue::Target& target) = 0;
  // The copies later recalls ask for (`hlmctl recall --copies`; unset: the
  // dispatcher's recall_copies). The HTTP interface sends them in
  // X-HLM-Copies; a service that cannot carry them throws
  // hlm::InputError when any are given.
  virtual void
  set_recall_copies(std::optional<std::size_t> copies)
  {
    if (copies) {
      throw InputError("--copies needs the cluster's own access (hlm.conf): the HTTP interface "
                       "cannot carry it");
    }
  }
  // Whether a recall of an object asks its nodes first if it is on disk
  // already (Submitter::set_on_disk; one status query per object): on by
  // default, off for -f lists, which may name thousands.
  virtual void
  set_check_on_disk(bool /*check*/)
  {
  }
  // The priority later requests are queued with (`--priority`; unset: the
  // operation's default); the HTTP interface sends it in X-HLM-Priority. A
  // service that cannot carry one throws hlm::InputError when one is given.
  virtual void
  set_priority(std::optional<int> priority)
  {
    if (priority) {
      throw InputError("--priority needs the cluster's own access (hlm.conf): the HTTP "
                       "interface cannot carry it");
    }
  }
  // The restore days later recalls ask for (`hlmctl recall --days`; unset:
  // none); the HTTP interface sends them in X-HLM-Days.
  virtual void
  set_restore_days(std::optional<int> days)
  {
    if (days) {
      throw InputError("--days needs the cluster's own access (hlm.conf): the HTTP interface "
                       "cannot carry it");
    }
  }
  // Queues the objects of one container from a -f list as list requests
  // when it has at least list_min_objects of them (submit_report.hpp);
  // nullptr where the service submits each object on its own (the HTTP
  // interface, which has no access to the queue).
  virtual BulkSubmitter*
  bulk_submitter()
  {
    return nullptr;
  }
  // The synchronous status query (ctl::status). `with_replicas`: each
  // ObjectStatus also carries its replicas (hlmctl status --replicas; the
  // cluster's path always has them, the HTTP interface sends them only
  // when asked).
  virtual StatusSummary status(const queue::Target& target,
                               bool with_replicas,
                               const std::function<void(const ObjectStatus&)>& on_object) = 0;
  // The pending, then the failed, requests that concern the target
  // (ctl::requests_for). Returns how many.
  virtual std::size_t requests(const queue::Target& target,
                               const std::function<void(const RequestLine&)>& on_request) = 0;
  // Where each of `ids` stands now (one look of ctl::wait_for).
  virtual std::vector<QueuedRequest> look_up(const std::set<std::string>& ids) = 0;
  // The ids of the requests pending now for the target (ctl::pending_for).
  virtual std::vector<std::string> pending_for(const queue::Target& target) = 0;
  // hlmctl cancel, retry and forget (manage.hpp).
  enum class Manage { cancel, retry, forget };
  virtual std::vector<ManageResult>
  manage(Manage /*verb*/, const std::vector<RequestName>& /*names*/)
  {
    throw InputError("this path to hlm cannot cancel, retry or forget requests");
  }
  // "the cluster (hlm.conf ..., rings in ...)" or "the HTTP interface at
  // <url>": what -v prints.
  virtual std::string describe() = 0;
};

// The cluster's path. Every argument must outlive the service.
std::unique_ptr<Service> cluster_service(swift::Client& client,
                                         const config::HlmConf& conf,
                                         const ring::SwiftConf& swift_conf,
                                         const dispatch::Fanout& fanout,
                                         queue::RequestQueue& requests,
                                         std::string description);

// The proxy's HTTP interface, reached with `client`'s storage URL and
// token. `client` must outlive the service.
std::unique_ptr<Service> interface_service(swift::Client& client);

} // namespace hlm::ctl
