#include <hlm/ctl/wait_report.hpp>
#include <hlm/util/exit_status.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <ostream>

namespace hlm::ctl {

std::vector<std::string>
unique_ids(std::vector<std::string> ids)
{
  std::vector<std::string> unique;
  for (auto& id : ids) {
    if (std::find(unique.begin(), unique.end(), id) == unique.end()) {
      unique.push_back(std::move(id));
    }
  }
  return unique;
}

std::string
wait_progress_text(const WaitProgress& progress)
{
  return fmt::format("{} of {} requests pending{}{}, {} failed",
                     progress.pending,
                     progress.total,
                     progress.retrying > 0 ? fmt::format(" ({} to be retried)", progress.retrying)
                                           : std::string(),
                     progress.list_objects > 0 ? fmt::format(" (lists: {} of {} objects done)",
                                                             progress.list_objects_done,
                                                             progress.list_objects)
                                               : std::string(),
                     progress.failed);
}

int
report_wait(const WaitResult& result,
            std::size_t requested,
            const std::optional<double>& timeout_seconds,
            bool json,
            std::ostream& out,
            std::ostream& err,
            nlohmann::json* json_out)
{
  if (json) {
    nlohmann::json failed = nlohmann::json::array();
    for (const auto& [id, reason] : result.failed) {
      failed.push_back({{"id", id}, {"reason", reason}});
    }
    nlohmann::json doc{{"requests", requested},
                       {"done", result.done},
                       {"failed", failed},
                       {"pending", result.pending},
                       {"timed_out", result.timed_out}};
    if (json_out != nullptr) {
      *json_out = std::move(doc);
    } else {
      out << doc.dump(2) << '\n';
    }
  } else {
    fmt::print(out,
               "{} requests: {} done, {} failed, {} still pending\n",
               requested,
               result.done,
               result.failed.size(),
               result.pending.size());
    for (const auto& [id, reason] : result.failed) {
      fmt::print(out, "failed {}\n  reason: {}\n", id, reason.empty() ? "(none recorded)" : reason);
    }
  }
  if (result.interrupted) {
    return k_exit_interrupted;
  }
  if (result.timed_out) {
    fmt::print(err,
               "hlmctl: error: timed out after {} s with {} requests pending\n",
               timeout_seconds.value_or(0),
               result.pending.size());
    return k_exit_failure;
  }
  return result.failed.empty() ? k_exit_success : k_exit_partial;
}

} // namespace hlm::ctl
