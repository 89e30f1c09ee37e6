#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/connector/connector.hpp>
#include <hlm/dispatch/dispatcher.hpp>
#include <hlm/dispatch/fanout.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/swift/http.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

// Estimates (issue 15 item 6): what the next hlm-dispatch run would do,
// without doing it (hlm-dispatch --dry-run), or what a request for some
// targets would cost (hlmctl estimate). The run's plan is made as
// dispatch_once makes it (plan.hpp: order, groups, priorities, batching
// thresholds, restore expiry), container requests are listed and every
// object's replicas are sent to their nodes, but as estimate documents
// (HandlerWork::estimate): each node answers with its replicas' status and
// what its backends expect the operation to cost
// (connector::Connector::estimate). Nothing is written: no queue row, no
// reminder, no release queued, no hook run, nothing on a node changed.
namespace hlm::dispatch {

// What one host's backends expect.
struct NodeEstimate
{
  std::size_t answers = 0;   // estimate documents it answered
  std::size_t unknown = 0;   // of which some backend could not estimate
  connector::Estimate known; // the sum of the others

  bool operator==(const NodeEstimate&) const = default;
};

struct EstimateReport
{
  std::size_t requests = 0;    // pending (or given) requests
  std::size_t undecodable = 0; // rows a run would park
  std::size_t deferred = 0;    // not due yet, or behind one that is not
  std::size_t held = 0;        // held for a bigger batch
  // List requests are not estimated (a run works them through their
  // manifests); their objects not done yet.
  std::size_t lists = 0;
  std::size_t list_objects = 0;
  std::size_t objects = 0;         // objects sent to nodes for an estimate
  std::size_t failed_requests = 0; // a node or a listing could not answer for them
  std::size_t releases_due = 0;    // restore expiries a run would queue first
  std::map<std::string, NodeEstimate> nodes;

  // The nodes' sum, when every answer was known: the nodes work in
  // parallel, so the wall time is the longest node's.
  std::optional<connector::Estimate> total() const;
};

// The estimate of `pending` (as list_owned gives them, or built for
// hlmctl estimate), as dispatch_once would work them now. `progress` is
// told what is held and why, as a run says it.
EstimateReport estimate_run(const config::HlmConf& conf,
                            swift::HttpClient& http,
                            const Fanout& fanout,
                            queue::RequestQueue& requests,
                            const std::vector<queue::ListedEntry>& pending,
                            const DispatchOptions& options,
                            const Progress& progress);

// The estimate of the next run of this dispatcher (hlm-dispatch
// --dry-run): estimate_run over the pending queue this process owns.
EstimateReport estimate_once(const config::HlmConf& conf,
                             swift::HttpClient& http,
                             const Fanout& fanout,
                             const DispatchOptions& options,
                             const Progress& progress);

// The report as hlm-dispatch --dry-run and hlmctl estimate print it: one
// line of counts, one per node, one total ("unknown" where a backend cannot
// estimate).
std::string to_text(const EstimateReport& report);
nlohmann::json to_json(const EstimateReport& report);

} // namespace hlm::dispatch
