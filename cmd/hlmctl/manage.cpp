// hlmctl cancel|retry|forget ID|TARGET…: remove pending requests, queue
// failed ones again, or clear failed ones.

#include "commands.hpp"

#include <hlm/ctl/manage.hpp>
#include <hlm/dispatch/restore_expiry.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include <iostream>

namespace hlm::ctl {

namespace {

// One line per result on stdout (errors on stderr), or the JSON document;
// returns the exit status: 0 all done, 3 some, 1 none.
int
report(const std::vector<ManageResult>& results, bool json)
{
  std::size_t done = 0;
  nlohmann::json items = nlohmann::json::array();
  for (const auto& result : results) {
    const bool ok = !result.error;
    done += ok ? 1 : 0;
    if (json) {
      nlohmann::json item{{"given", result.given}};
      if (!result.id.empty()) {
        item["id"] = result.id;
        item["target"] = result.target;
      }
      if (ok) {
        item["done"] = result.done;
        if (result.maybe_worked) {
          item["maybe_worked"] = *result.maybe_worked;
          if (*result.maybe_worked) {
            item["run_started"] = result.run_started;
          }
        }
      } else {
        item["error"] = *result.error;
        if (result.http_status != 0) {
          item["http_status"] = result.http_status;
        }
      }
      if (result.requeued) {
        const auto& requeued = *result.requeued;
        item["requeued"] = {{"outcome",
                             requeued.outcome == SubmitOutcome::queued           ? "queued"
                             : requeued.outcome == SubmitOutcome::already_queued ? "already_queued"
                                                                                 : "on_disk"}};
        if (!requeued.id.empty()) {
          item["requeued"]["id"] = requeued.id;
        }
      }
      items.push_back(std::move(item));
      continue;
    }
    if (!ok) {
      fmt::print(std::cerr,
                 "hlmctl: error: {}: {}\n",
                 printable(result.id.empty() ? result.given : result.id),
                 *result.error);
      continue;
    }
    std::string line = fmt::format("{} {} ({})", result.done, result.id, result.target);
    if (result.requeued) {
      const auto& requeued = *result.requeued;
      switch (requeued.outcome) {
      case SubmitOutcome::queued:
        line += ": queued " + requeued.id;
        break;
      case SubmitOutcome::already_queued:
        line += ": already queued " + requeued.id;
        break;
      case SubmitOutcome::on_disk:
        line += ": on disk already, nothing to recall";
        break;
      }
    }
    if (result.maybe_worked) {
      line += *result.maybe_worked
                ? fmt::format(": a dispatcher run that started at {} may be working it; it stops "
                              "at its next round boundary, objects already sent finish",
                              dispatch::expiry_text(result.run_started))
                : std::string(": no dispatcher run has started on it");
    }
    fmt::print(std::cout, "{}\n", printable(line));
  }
  if (json) {
    std::cout << nlohmann::json{{"requests", std::move(items)}}.dump(2) << '\n';
  }
  return done == results.size() ? k_exit_success : done > 0 ? k_exit_partial : k_exit_failure;
}

void
add_manage_command(CLI::App& parent,
                   Context& ctx,
                   Service::Manage verb,
                   const std::string& name,
                   const std::string& description)
{
  auto names = std::make_shared<std::vector<std::string>>();
  auto* cmd = parent.add_subcommand(name, description);
  cmd
    ->add_option("requests",
                 *names,
                 "request IDs (as migrate, recall and requests print them) or "
                 "[ACCOUNT/]CONTAINER[/OBJECT] targets")
    ->required();
  add_common_options(*cmd, ctx.common);
  cmd->callback([names, verb, &ctx] {
    std::vector<RequestName> parsed;
    for (const auto& text : *names) {
      parsed.push_back(parse_request_name(text, [&ctx](queue::Target target) {
        return ctx.own_account(std::move(target));
      }));
    }
    ctx.status = report(ctx.service().manage(verb, parsed), ctx.common.json);
  });
}

} // namespace

void
add_manage_commands(CLI::App& parent, Context& ctx)
{
  add_manage_command(parent,
                     ctx,
                     Service::Manage::cancel,
                     "cancel",
                     "Remove pending requests before the dispatcher does them");
  add_manage_command(parent,
                     ctx,
                     Service::Manage::retry,
                     "retry",
                     "Queue failed requests again and clear them from the failed queue");
  add_manage_command(parent,
                     ctx,
                     Service::Manage::forget,
                     "forget",
                     "Clear failed requests without doing them again");
}

} // namespace hlm::ctl
