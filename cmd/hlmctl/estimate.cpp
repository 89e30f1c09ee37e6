// hlmctl estimate migrate|recall TARGET…: what a request for the targets
// would cost, without queueing it (issue 15 item 6).

#include "commands.hpp"

#include <hlm/ctl/submit.hpp>
#include <hlm/dispatch/estimate.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <optional>

namespace hlm::ctl {

namespace {

struct EstimateOptions
{
  std::string operation; // "migrate" or "recall"
  std::vector<std::string> targets;
  std::string copies;
  std::optional<int> days;
};

// The requests a submit of `targets` would queue, as the dispatcher would
// list them: the caller must be able to read each container (and each
// named object must exist), as for a submit.
std::vector<queue::ListedEntry>
requests_for(Context& ctx, Operation operation, const EstimateOptions& opts)
{
  std::vector<queue::ListedEntry> pending;
  const auto submitted = queue::format_submitted(std::chrono::system_clock::now());
  for (const auto& text : opts.targets) {
    const auto target = ctx.own_account(parse_target(text));
    const auto& policy = container_policy(ctx.client(), ctx.swift_conf(), target);
    if (!target.object.empty()) {
      require_object(ctx.client(), target);
    }
    queue::ListedEntry listed;
    listed.entry = queue::Entry{submitted, operation, target, policy.index};
    listed.row.name = queue::encode_entry(*listed.entry);
    std::string type(queue::k_entry_content_type);
    if (operation == Operation::recall) {
      type = queue::with_days(
        queue::with_copies(std::move(type),
                           opts.copies.empty() ? std::nullopt : queue::parse_copies(opts.copies)),
        opts.days);
    }
    listed.row.content_type = std::move(type);
    pending.push_back(std::move(listed));
  }
  return pending;
}

} // namespace

void
add_estimate_command(CLI::App& parent, Context& ctx)
{
  auto opts = std::make_shared<EstimateOptions>();
  auto* cmd = parent.add_subcommand(
    "estimate",
    "What a migrate or recall of the targets would cost (objects, bytes, cartridges, mounts, "
    "drive-seconds, wall time), as the next hlm-dispatch run would work it; nothing is queued");
  cmd->add_option("operation", opts->operation, "migrate or recall")
    ->required()
    ->check(CLI::IsMember({"migrate", "recall"}));
  cmd->add_option("targets", opts->targets, "[ACCOUNT/]CONTAINER[/OBJECT] ...")->required();
  cmd->add_option("--copies", opts->copies, "(recall) as hlmctl recall --copies")
    ->check(copies_validator());
  cmd->add_option("--days", opts->days, "(recall) as hlmctl recall --days")
    ->check(days_validator());
  add_common_options(*cmd, ctx.common);
  cmd->callback([opts, &ctx] {
    const Operation operation = *parse_operation(opts->operation);
    if (operation == Operation::migrate && (!opts->copies.empty() || opts->days)) {
      throw InputError("--copies and --days are for a recall only");
    }
    const auto pending = requests_for(ctx, operation, *opts);
    dispatch::DispatchOptions options;
    const auto report = dispatch::estimate_run(
      ctx.conf(),
      ctx.queue_http(),
      ctx.fanout(),
      ctx.requests(),
      pending,
      options,
      [](std::string_view message) { std::cerr << "hlmctl: " << message << '\n'; });
    if (ctx.common.json) {
      std::cout << dispatch::to_json(report).dump(2) << '\n';
    } else {
      std::cout << dispatch::to_text(report);
    }
    ctx.status = report.failed_requests > 0 ? k_exit_partial : k_exit_success;
  });
}

} // namespace hlm::ctl
