// hlmctl status TARGET: ask the nodes now (synchronous).

#include "commands.hpp"

#include <hlm/ctl/error_lines.hpp>
#include <hlm/ctl/status_report.hpp>
#include <hlm/ctl/submit.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/terminal_progress.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <iostream>

namespace hlm::ctl {

void
add_status_command(CLI::App& parent, Context& ctx)
{
  auto target_text = std::make_shared<std::string>();
  auto swifthlm = std::make_shared<bool>(false);
  auto replicas = std::make_shared<bool>(false);
  auto* cmd = parent.add_subcommand(
    "status",
    "Show where each object's replicas are (asks the storage nodes)");
  cmd
    ->add_option("target",
                 *target_text,
                 "[ACCOUNT/]CONTAINER[/OBJECT] (no account: the caller's own)")
    ->required();
  cmd->add_flag("--swifthlm",
                *swifthlm,
                "print SwiftHLM's answer: one JSON map of object to state, nothing else");
  cmd->add_flag("--replicas",
                *replicas,
                "also show each replica's state and whether the object is readable");
  add_common_options(*cmd, ctx.common);
  cmd->callback([target_text, swifthlm, replicas, &ctx] {
    const auto target = ctx.own_account(parse_target(*target_text));
    if (*swifthlm && ctx.common.json) {
      throw InputError("--swifthlm and --json are two formats; give one");
    }
    if (*swifthlm && *replicas) {
      throw InputError("--swifthlm prints SwiftHLM's map of object to state; it has no --replicas");
    }
    ErrorLines error_lines(std::cerr);
    if (*swifthlm) {
      ctx.status = status_exit(
        print_swifthlm_status(ctx.service(), target, std::cout, error_lines));
      return;
    }
    // On a terminal, when the listing itself goes elsewhere (a file, a
    // pager): a count of the objects answered so far.
    TerminalProgress bar(!ctx.common.json && ::isatty(STDOUT_FILENO) != 1);
    const auto summary = print_status(
      ctx.service(),
      target,
      StatusFormat{ctx.common.json, *replicas},
      std::cout,
      error_lines,
      [&](std::size_t answered) {
        bar.update(
          fmt::format("hlmctl: status: {} objects answered, {}", answered, bar.elapsed_text()));
      });
    bar.finish();
    error_lines.finish();
    ctx.status = status_exit(summary);
  });
}

} // namespace hlm::ctl
