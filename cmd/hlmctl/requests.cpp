// hlmctl requests TARGET: pending and failed requests that concern it.

#include "commands.hpp"

#include <hlm/ctl/requests.hpp>
#include <hlm/ctl/submit.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

namespace hlm::ctl {

void
add_requests_command(CLI::App& parent, Context& ctx)
{
  auto target_text = std::make_shared<std::string>();
  auto* cmd = parent.add_subcommand("requests", "List pending and failed requests for a container or object");
  cmd->add_option("target", *target_text, "ACCOUNT/CONTAINER[/OBJECT]")->required();
  add_common_options(*cmd, ctx.common);
  cmd->callback([target_text, &ctx] {
    const auto target = parse_target(*target_text);
    // The caller must be able to see the target, as for submitting.
    container_policy(ctx.client(), ctx.swift_conf(), target);
    nlohmann::json out = {{"pending", nlohmann::json::array()}, {"failed", nlohmann::json::array()}};
    const auto count = requests_for(ctx.requests(), target, [&](const RequestLine& line) {
      const bool failed = line.which == queue::Which::failed;
      if (ctx.common.json) {
        nlohmann::json item = {{"id", line.id},
                               {"operation", connector::to_string(line.entry.operation)},
                               {"target", to_string(line.entry.target)},
                               {"policy_index", line.entry.policy_index},
                               {"submitted", line.entry.submitted}};
        if (failed) {
          item["reason"] = line.reason.value_or("");
        }
        out[failed ? "failed" : "pending"].push_back(item);
        return;
      }
      fmt::print("{:<8} {:<8} {}  submitted {}\n", failed ? "failed" : "pending",
                 connector::to_string(line.entry.operation), to_string(line.entry.target),
                 line.entry.submitted);
      if (failed && line.reason && !line.reason->empty()) {
        fmt::print("         reason: {}\n", *line.reason);
      }
    });
    if (ctx.common.json) {
      std::cout << out.dump(2) << '\n';
    } else if (count == 0) {
      fmt::print("There are no pending or failed requests for {}.\n", to_string(target));
    }
    ctx.status = 0;
  });
}

} // namespace hlm::ctl
