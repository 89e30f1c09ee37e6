// hlmctl requests TARGET: pending and failed requests that concern it.

#include "commands.hpp"

#include <hlm/ctl/requests.hpp>
#include <hlm/ctl/submit.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/utc_time.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

namespace hlm::ctl {

namespace {

// "2026-11-22 13:05:00 UTC (in 55 s)", or "the next run" once it is due.
std::string
next_attempt_text(const std::optional<std::int64_t>& retry_after)
{
  using namespace std::chrono;
  const auto now = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  if (!retry_after || *retry_after <= now) {
    return "the next run";
  }
  return format_utc(sys_seconds{seconds{*retry_after}}, "%Y-%m-%d %H:%M:%S UTC")
         + fmt::format(" (in {} s)", *retry_after - now);
}

} // namespace

void
add_requests_command(CLI::App& parent, Context& ctx)
{
  auto target_text = std::make_shared<std::string>();
  auto swifthlm = std::make_shared<bool>(false);
  auto* cmd = parent.add_subcommand("requests", "List pending and failed requests for a container or object");
  cmd->add_option("target", *target_text,
                  "[ACCOUNT/]CONTAINER[/OBJECT] (no account: the caller's own; no target: "
                  "the caller's whole account)");
  cmd->add_flag("--swifthlm", *swifthlm,
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
      // As SwiftHLM's middleware answers GET /hlm/v1/requests/...: the
      // pending, then the failed, as Python's json.dumps writes a list.
      nlohmann::json names = nlohmann::json::array();
      ctx.service().requests(target, [&](const RequestLine& line) {
        names.push_back(line.id + (line.which == queue::Which::failed ? "--failed" : "--pending"));
      });
      if (names.empty()) {
        names.push_back("There are no pending or failed SwiftHLM requests.");
      }
      std::string text = "[";
      for (const auto& name : names) {
        text += (text.size() > 1 ? ", " : "") + name.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
      }
      std::cout << text << "]" << std::flush;
      ctx.status = 0;
      return;
    }
    nlohmann::json out = {{"pending", nlohmann::json::array()}, {"failed", nlohmann::json::array()}};
    const auto count = ctx.service().requests(target, [&](const RequestLine& line) {
      const bool failed = line.which == queue::Which::failed;
      if (ctx.common.json) {
        nlohmann::json item = {{"id", line.id},
                               {"operation", to_string(line.entry.operation)},
                               {"target", to_string(line.entry.target)},
                               {"policy_index", line.entry.policy_index},
                               {"submitted", line.entry.submitted}};
        if (failed) {
          item["reason"] = line.reason.value_or("");
        } else {
          // Failed attempts so far, when the next is due (unix seconds,
          // null: at the next run) and why the last one failed (null: none).
          item["attempts"] = line.retry.attempts;
          item["retry_after"] = line.retry.retry_after ? nlohmann::json(*line.retry.retry_after)
                                                       : nlohmann::json(nullptr);
          item["reason"] = line.retry.reason ? nlohmann::json(*line.retry.reason)
                                             : nlohmann::json(nullptr);
        }
        out[failed ? "failed" : "pending"].push_back(item);
        return;
      }
      fmt::print("{:<8} {:<8} {}  submitted {}\n", failed ? "failed" : "pending",
                 to_string(line.entry.operation), to_string(line.entry.target),
                 line.entry.submitted);
      if (failed && line.reason && !line.reason->empty()) {
        fmt::print("         reason: {}\n", *line.reason);
      }
      if (!failed && line.retry.attempts > 0) {
        fmt::print("         {} failed, next attempt: {}\n",
                   line.retry.attempts == 1 ? std::string("1 attempt")
                                            : fmt::format("{} attempts", line.retry.attempts),
                   next_attempt_text(line.retry.retry_after));
        if (line.retry.reason && !line.retry.reason->empty()) {
          fmt::print("         last reason: {}\n", *line.retry.reason);
        }
      }
    });
    if (ctx.common.json) {
      std::cout << out.dump(2) << '\n';
    } else if (count == 0) {
      fmt::print("There are no pending or failed requests for {}.\n",
                 target.container.empty() ? target.account : to_string(target));
    }
    ctx.status = 0;
  });
}

} // namespace hlm::ctl
