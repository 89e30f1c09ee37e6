#include <hlm/ctl/submit_report.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ostream>

namespace hlm::ctl {

SubmitReport
submit_targets(Service& service,
               Operation operation,
               const std::vector<queue::Target>& targets,
               bool json,
               std::ostream& out,
               std::ostream& err)
{
  SubmitReport report;
  nlohmann::json results = nlohmann::json::array();
  std::size_t failed = 0;
  for (const auto& target : targets) {
    try {
      const auto submitted = service.submit(operation, target);
      results.push_back({{"target", to_string(target)},
                         {"operation", to_string(operation)},
                         {"policy_index", submitted.entry.policy_index},
                         {"id", submitted.id}});
      report.ids.push_back(submitted.id);
      if (!json) {
        fmt::print(out,
                   "queued {} {}: {}\n",
                   to_string(operation),
                   to_string(target),
                   submitted.id);
      }
    } catch (const queue::PartlyQueued& e) {
      // Written to too few container servers and not withdrawn: the
      // request is queued and will run, so it is reported as queued.
      fmt::print(err, "hlmctl: warning: {}: {}\n", to_string(target), e.what());
      results.push_back({{"target", to_string(target)},
                         {"operation", to_string(operation)},
                         {"policy_index", queue::decode_entry(e.id()).policy_index},
                         {"id", e.id()},
                         {"warning", e.what()}});
      report.ids.push_back(e.id());
      if (!json) {
        fmt::print(out, "queued {} {}: {}\n", to_string(operation), to_string(target), e.id());
      }
    } catch (const SwiftError& e) {
      // One target the caller cannot see does not stop the others.
      ++failed;
      fmt::print(err, "hlmctl: error: {}: {}\n", to_string(target), e.what());
      results.push_back({{"target", to_string(target)},
                         {"operation", to_string(operation)},
                         {"error", e.what()},
                         {"http_status", e.http_status()}});
    }
  }
  report.document = {{"requests", results}};
  report.status = failed == 0               ? k_exit_success
                  : failed < targets.size() ? k_exit_partial
                                            : k_exit_failure;
  return report;
}

} // namespace hlm::ctl
