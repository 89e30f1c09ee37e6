#pragma once

#include <hlm/ctl/service.hpp>

#include <nlohmann/json.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace hlm::ctl {

struct SubmitReport
{
  // {"requests": [{"target", "operation", "policy_index", "id"} or with
  // "warning", or {"target", "operation", "error", "http_status"}, ...]}
  nlohmann::json document;
  std::vector<std::string> ids; // of the requests queued, in target order
  int status = 0;               // 0 all queued, 3 some refused, 1 all refused
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

} // namespace hlm::ctl
