// hlmctl wait REQUEST-ID|TARGET…, and the waiting behind migrate/recall
// --wait: block until requests leave the pending queue.

#include "commands.hpp"

#include <hlm/ctl/submit.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/terminal_progress.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
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

} // namespace

void
add_wait_options(CLI::App& cmd, WaitCommandOptions& options)
{
  cmd.add_option("--timeout", options.timeout_seconds,
                 "give up after this many seconds (exit status 1); default: wait for ever")
    ->check(CLI::PositiveNumber);
  cmd.add_option("--interval", options.interval_seconds,
                 "seconds between looks at the queue")
    ->check(CLI::PositiveNumber)
    ->capture_default_str();
}

int
wait_and_report(Context& ctx, const std::vector<std::string>& ids,
                const WaitCommandOptions& options, nlohmann::json* json_out)
{
  WaitOptions wait;
  if (options.timeout_seconds) {
    wait.timeout = std::chrono::milliseconds(static_cast<long>(*options.timeout_seconds * 1000));
  }
  wait.interval = std::chrono::milliseconds(static_cast<long>(options.interval_seconds * 1000));
  TerminalProgress bar(!ctx.common.json);
  g_interrupted = 0;
  const auto previous = std::signal(SIGINT, on_interrupt);
  auto& service = ctx.service();
  const auto result = wait_for(
    [&](const std::set<std::string>& wanted) { return service.look_up(wanted); }, ids, wait,
    [&](const WaitProgress& p) {
      bar.update(fmt::format("hlmctl: waiting: {} of {} requests pending{}, {} failed, {}{}",
                             p.pending, p.total,
                             p.retrying > 0 ? fmt::format(" ({} to be retried)", p.retrying)
                                            : std::string(),
                             p.failed, bar.elapsed_text(),
                             bar.eta_text(p.total - p.pending, p.total)),
                 true);
    },
    [] { return g_interrupted != 0; });
  std::signal(SIGINT, previous);
  bar.finish();

  if (ctx.common.json) {
    nlohmann::json failed = nlohmann::json::array();
    for (const auto& [id, reason] : result.failed) {
      failed.push_back({{"id", id}, {"reason", reason}});
    }
    nlohmann::json doc{{"requests", ids.size()}, {"done", result.done}, {"failed", failed},
                       {"pending", result.pending}, {"timed_out", result.timed_out}};
    if (json_out != nullptr) {
      *json_out = std::move(doc);
    } else {
      std::cout << doc.dump(2) << '\n';
    }
  } else {
    fmt::print("{} requests: {} done, {} failed, {} still pending\n", ids.size(), result.done,
               result.failed.size(), result.pending.size());
    for (const auto& [id, reason] : result.failed) {
      fmt::print("failed {}\n  reason: {}\n", id, reason.empty() ? "(none recorded)" : reason);
    }
  }
  if (result.interrupted) {
    return k_exit_interrupted;
  }
  if (result.timed_out) {
    fmt::print(stderr, "hlmctl: error: timed out after {} s with {} requests pending\n",
               *options.timeout_seconds, result.pending.size());
    return k_exit_failure;
  }
  return result.failed.empty() ? k_exit_success : k_exit_partial;
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
    "wait", "Wait until requests (ids from migrate/recall, or every pending request for a "
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
    // An id named twice (or by its id and its target) is one request.
    std::vector<std::string> unique;
    for (auto& id : ids) {
      if (std::find(unique.begin(), unique.end(), id) == unique.end()) {
        unique.push_back(std::move(id));
      }
    }
    ctx.status = wait_and_report(ctx, unique, opts->wait);
  });
}

} // namespace hlm::ctl
