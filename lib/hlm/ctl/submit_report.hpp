#pragma once

#include <hlm/ctl/service.hpp>
#include <hlm/ctl/target_list.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

namespace hlm::ctl {

struct SubmitReport
{
  // {"requests": [{"target", "operation", "policy_index", "id", "outcome"}
  // (outcome "queued" or "already_queued": the pending request's id;
  // {"target", "operation", "outcome": "on_disk"} for a recall with
  // nothing to do) or with "warning", or {"target", "operation", "error", "http_status"}, ...]};
  // a list request is {"target" (its container), "operation",
  // "policy_index", "id", "list" (the list id), "objects"} (or with
  // "warning"), one not queued {"target", "operation", "error", "objects"};
  // for a TargetList also "bad_lines" (the count), "bad_lines_shown"
  // ([{"list", "line", "error"}], the first 20) and "duplicates".
  nlohmann::json document;
  std::vector<std::string> ids; // of the requests queued, in target order
  // 0 all queued (or already, or on disk); 4 so, and some recall was
  // already queued; 3 some refused or bad lines, some queued; 1 none
  // queued, some refused; 2 none queued, only bad lines.
  int status = 0;
  std::uint64_t queued = 0;  // targets, a list's objects included; warnings included
  std::uint64_t refused = 0; // targets Swift refused or did not have, or not queued
  std::uint64_t duplicates = 0;
  std::uint64_t in_progress = 0; // recalls already queued (k_exit_in_progress)
};

// Queues `operation` for each target through `service`. Without `json`,
// "queued OPERATION TARGET: ID" on `out` for each. A target the caller
// cannot see (hlm::SwiftError) does not stop the others: it is reported on
// `err` and in the document. A request written to too few container
// servers and not withdrawn (queue::PartlyQueued) is queued and will run:
// it is reported as queued, with a warning. Other errors are thrown.
SubmitReport submit_targets(Service& service,
                            Operation operation,
                            const std::vector<queue::Target>& targets,
                            bool json,
                            std::ostream& out,
                            std::ostream& err);

// The same for a list that has been read: its bad lines first
// (TargetList::report_bad_lines), then each distinct target in the list's
// order; an error names the list and line ("LIST line N: TARGET: ...").
// Errors and warnings are printed for the first k_shown_problems targets,
// then one line counts them all. For any length of list: the document is
// built only with `json`, the ids are kept only with `keep_ids`.
// Where the service has a bulk submitter (the cluster's path) with
// min_objects N > 0, the objects of a container the list names N or more
// of (existing ones; each missing one reported with its list and line)
// are queued as list requests, "queued OPERATION ACCOUNT/CONTAINER: list
// of K objects: ID" each; a list not queued (hlm::TransportError) is an
// error for each of its objects, and the others go on.
SubmitReport submit_list(Service& service,
                         Operation operation,
                         TargetList& list,
                         bool json,
                         bool keep_ids,
                         std::ostream& out,
                         std::ostream& err);

} // namespace hlm::ctl
