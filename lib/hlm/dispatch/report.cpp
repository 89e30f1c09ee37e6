#include <hlm/dispatch/report.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

namespace hlm::dispatch {

bool
needs_attention(const DispatchReport& report)
{
  return report.failed + report.undecodable + report.retrying > 0;
}

int
exit_status_of(const DispatchReport& report)
{
  return needs_attention(report) ? k_exit_partial : k_exit_success;
}

std::string
to_text(const DispatchReport& report)
{
  return fmt::format("{}: {} completed, {} failed, {} undecodable, {} to retry, {} deferred{}; {}",
                     counted(report.entries, "entry", "entries"),
                     report.completed,
                     report.failed,
                     report.undecodable,
                     report.retrying,
                     report.deferred,
                     report.cancelled > 0 ? fmt::format(", {} cancelled", report.cancelled)
                                          : std::string(),
                     counted(report.objects, "object", "objects"));
}

nlohmann::json
to_json(const DispatchReport& report)
{
  return {{"entries", report.entries},
          {"completed", report.completed},
          {"failed", report.failed},
          {"undecodable", report.undecodable},
          {"retrying", report.retrying},
          {"deferred", report.deferred},
          {"cancelled", report.cancelled},
          {"objects", report.objects}};
}

} // namespace hlm::dispatch
