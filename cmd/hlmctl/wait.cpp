// hlmctl wait REQUEST-ID|TARGET…, and the waiting behind migrate/recall
// --wait: block until requests leave the pending queue.

#include "commands.hpp"

#include <hlm/ctl/submit.hpp>
#include <hlm/ctl/wait_report.hpp>
#include <hlm/dispatch/estimate.hpp>
#include <hlm/dispatch/plan.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/terminal_progress.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <iostream>

namespace hlm::ctl {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void
on_interrupt(int)
{
  g_interrupted = 1;
}

// What the backends expect the pending requests among `ids` to take (the
// wall time of hlmctl estimate), or nothing when they cannot say: not the
// cluster's own path, a backend without a model, a list request (not
// estimated), or requests held, deferred or failing to be estimated.
std::optional<double>
backend_estimate(Context& ctx, const std::vector<std::string>& ids)
{
  if (!ctx.cluster()) {
    return std::nullopt;
  }
  try {
    auto& requests = ctx.requests();
    std::vector<queue::ListedEntry> pending;
    for (const auto& id : ids) {
      if (auto listed = requests.find(queue::Which::pending, id)) {
        pending.push_back(std::move(*listed));
      } else if (requests.find_list(id)) {
        return std::nullopt;
      }
    }
    if (pending.empty()) {
      return std::nullopt;
    }
    dispatch::sort_by_arrival(pending);
    const auto report =
      dispatch::estimate_run(ctx.conf(), ctx.queue_http(), ctx.fanout(), requests, pending, {}, {});
    const auto total = report.total();
    if (!total || report.held + report.deferred + report.failed_requests + report.lists > 0) {
      return std::nullopt;
    }
    return total->wall_seconds;
  } catch (const Error&) {
    return std::nullopt;
  }
}

} // namespace

void
add_wait_options(CLI::App& cmd, WaitCommandOptions& options)
{
  cmd
    .add_option("--timeout",
                options.timeout_seconds,
                "give up after this many seconds (exit status 1); default: wait for ever")
    ->check(CLI::PositiveNumber);
  cmd.add_option("--interval", options.interval_seconds, "seconds between looks at the queue")
    ->check(CLI::PositiveNumber)
    ->capture_default_str();
}

int
wait_and_report(Context& ctx,
                const std::vector<std::string>& ids,
                const WaitCommandOptions& options,
                nlohmann::json* json_out)
{
  WaitOptions wait;
  if (options.timeout_seconds) {
    wait.timeout = std::chrono::milliseconds(static_cast<long>(*options.timeout_seconds * 1000));
  }
  wait.interval = std::chrono::milliseconds(static_cast<long>(options.interval_seconds * 1000));
  TerminalProgress bar(!ctx.common.json);
  // Asked of the nodes once, before waiting: only where it is shown.
  const auto estimated = bar.enabled() || ctx.common.json ? backend_estimate(ctx, ids)
                                                          : std::nullopt;
  g_interrupted = 0;
  const auto previous = std::signal(SIGINT, on_interrupt);
  auto& service = ctx.service();
  const auto result = wait_for(
    [&](const std::set<std::string>& wanted) { return service.look_up(wanted); },
    ids,
    wait,
    [&](const WaitProgress& p) {
      bar.update(fmt::format("hlmctl: waiting: {}, {}{}",
                             wait_progress_text(p),
                             bar.elapsed_text(),
                             estimated ? bar.estimate_text(*estimated)
                                       : bar.eta_text(p.total - p.pending, p.total)),
                 true);
    },
    [] { return g_interrupted != 0; });
  std::signal(SIGINT, previous);
  bar.finish();

  nlohmann::json doc;
  const int status = report_wait(result,
                                 ids.size(),
                                 options.timeout_seconds,
                                 ctx.common.json,
                                 std::cout,
                                 std::cerr,
                                 &doc);
  if (ctx.common.json) {
    // The backends' estimate when the wait began (hlmctl estimate's wall
    // time), null when they could not say.
    doc["estimated_seconds"] = estimated ? nlohmann::json(*estimated) : nlohmann::json(nullptr);
    if (json_out != nullptr) {
      *json_out = std::move(doc);
    } else {
      std::cout << doc.dump(2) << '\n';
    }
  }
  return status;
}

void
add_wait_command(CLI::App& parent, Context& ctx)
{
  struct Options
  {
    std::vector<std::string> what;
    WaitCommandOptions wait;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = parent.add_subcommand(
    "wait",
    "Wait until requests (ids from migrate/recall, or every pending request for a "
    "target) are no longer pending");
  cmd->add_option("what", opts->what, "REQUEST-ID (/…/migrate/…) or ACCOUNT/CONTAINER[/OBJECT]")
    ->required();
  add_wait_options(*cmd, opts->wait);
  add_common_options(*cmd, ctx.common);
  cmd->callback([opts, &ctx] {
    std::vector<std::string> ids;
    for (const auto& text : opts->what) {
      if (!text.empty() && text.front() == '/') {
        // InputError for what is not a request id. The caller must be able
        // to see the request's container, or an id would tell them about
        // another account's requests and their failure reasons.
        auto container = queue::decode_entry(text).target;
        container.object.clear();
        require_container(ctx.client(), container);
        ids.push_back(text);
        continue;
      }
      const auto target = ctx.own_account(parse_target(text));
      // The caller must be able to see the target, as for submitting.
      require_container(ctx.client(), target);
      const auto pending = ctx.service().pending_for(target);
      ids.insert(ids.end(), pending.begin(), pending.end());
    }
    ctx.status = wait_and_report(ctx, unique_ids(std::move(ids)), opts->wait);
  });
}

} // namespace hlm::ctl
