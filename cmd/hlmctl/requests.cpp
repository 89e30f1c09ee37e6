// hlmctl requests TARGET: pending and failed requests that concern it.

#include "commands.hpp"

#include <hlm/ctl/requests_report.hpp>
#include <hlm/ctl/submit.hpp>
#include <hlm/util/error.hpp>

#include <chrono>
#include <iostream>

namespace hlm::ctl {

void
add_requests_command(CLI::App& parent, Context& ctx)
{
  auto target_text = std::make_shared<std::string>();
  auto swifthlm = std::make_shared<bool>(false);
  auto* cmd = parent.add_subcommand("requests",
                                    "List pending and failed requests for a container or object");
  cmd->add_option("target",
                  *target_text,
                  "[ACCOUNT/]CONTAINER[/OBJECT] (no account: the caller's own; no target: "
                  "the caller's whole account)");
  cmd->add_flag(
    "--swifthlm",
    *swifthlm,
    "print SwiftHLM's answer: a JSON list of request ids with --pending or --failed appended");
  add_common_options(*cmd, ctx.common);
  cmd->callback([target_text, swifthlm, &ctx] {
    // No target: every request of the caller's account.
    const auto target = target_text->empty() ? ctx.own_account({})
                                             : ctx.own_account(parse_target(*target_text));
    if (*swifthlm && ctx.common.json) {
      throw InputError("--swifthlm and --json are two formats; give one");
    }
    if (*swifthlm) {
      print_swifthlm_requests(ctx.service(), target, std::cout);
    } else {
      print_requests(ctx.service(),
                     target,
                     ctx.common.json,
                     std::cout,
                     std::chrono::system_clock::now());
    }
    ctx.status = 0;
  });
}

} // namespace hlm::ctl
