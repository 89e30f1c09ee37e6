// hlmctl migrate|recall TARGET…: queue a request and return at once.

#include "commands.hpp"

#include <hlm/ctl/submit.hpp>
#include <hlm/ctl/submit_report.hpp>
#include <hlm/ctl/target_list.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <optional>

namespace hlm::ctl {

namespace {

struct SubmitOptions
{
  std::vector<std::string> targets;
  std::vector<std::string> files; // "-" is stdin
  bool wait = false;
  WaitCommandOptions waiting;
  std::string copies;      // recall: "N" or "all"; empty: not given
  std::string priority;    // "low", "normal", "high" or 0..9; empty: not given
  std::optional<int> days; // recall: the restore expiry
};

// --days checked against hlm.conf's max_restore_days: truncated (and said
// on stderr) or refused (hlm::InputError), as max_restore_days_action says.
int
capped_days(int days, const config::HlmConf& conf)
{
  if (conf.max_restore_days == 0 || days <= conf.max_restore_days) {
    return days;
  }
  if (conf.refuse_over_max_restore_days) {
    throw InputError(fmt::format("--days {} is more than max_restore_days {}; not queued",
                                 days,
                                 conf.max_restore_days));
  }
  std::cerr << fmt::format("hlmctl: --days {} is more than max_restore_days {}: truncated to {}\n",
                           days,
                           conf.max_restore_days,
                           conf.max_restore_days);
  return conf.max_restore_days;
}

// --copies (recall) and --priority: what is stored with each request.
void
add_request_options(CLI::App& cmd, SubmitOptions& opts, bool migrate)
{
  if (!migrate) {
    cmd
      .add_option("--copies",
                  opts.copies,
                  "replicas per object to bring back to disk: N (1 or more) or 'all' (default: "
                  "hlm.conf's recall_copies, 1)")
      ->check(copies_validator());
    cmd
      .add_option("--days",
                  opts.days,
                  "keep the recalled copies on disk for N days (rounded up to midnight UTC), "
                  "then release them to tape again (default: until migrated)")
      ->check(days_validator());
  }
  cmd
    .add_option("--priority",
                opts.priority,
                migrate ? "low, normal, high or 0 to 9 (default: normal; recalls default to high)"
                        : "low, normal, high or 0 to 9 (default: high; migrations default to "
                          "normal)")
    ->check(CLI::Validator(
      [](const std::string& value) {
        return queue::parse_priority(value)
                 ? std::string()
                 : fmt::format("--priority must be low, normal, high or 0 to 9, not '{}'", value);
      },
      "low|normal|high|0-9"));
}

} // namespace

CLI::Validator
copies_validator()
{
  return CLI::Validator(
    [](const std::string& value) {
      return queue::parse_copies(value)
               ? std::string()
               : fmt::format("--copies must be a whole number from 1 to {} or 'all', not '{}'",
                             queue::k_max_copies,
                             value);
    },
    "N|all");
}

CLI::Validator
days_validator()
{
  return CLI::Validator(
    [](const std::string& value) {
      const auto days = parse_int(value);
      return days && *days >= 1 && *days <= queue::k_max_days
               ? std::string()
               : fmt::format("--days must be a whole number from 1 to {}, not '{}'",
                             queue::k_max_days,
                             value);
    },
    "N");
}

void
add_submit_command(CLI::App& parent, Context& ctx, Operation operation)
{
  const bool migrate = operation == Operation::migrate;
  auto opts = std::make_shared<SubmitOptions>();
  auto* cmd = parent.add_subcommand(std::string(to_string(operation)),
                                    migrate ? "Queue objects or containers for migration to tape"
                                            : "Queue objects or containers for recall from tape");
  cmd->add_option("targets",
                  opts->targets,
                  "[ACCOUNT/]CONTAINER[/OBJECT] ... (no account: the caller's own)");
  cmd
    ->add_option("-f,--file",
                 opts->files,
                 "read targets from FILE, one per line; blank lines and '#' comments are "
                 "skipped, bad lines reported and skipped, duplicates queued once ('-': stdin)")
    ->allow_extra_args(false);
  add_request_options(*cmd, *opts, migrate);
  cmd->add_flag("--wait",
                opts->wait,
                "then wait until the requests are no longer pending (see hlmctl wait)");
  add_wait_options(*cmd, opts->waiting);
  add_common_options(*cmd, ctx.common);
  cmd->callback([opts, &ctx, operation] {
    // Read every list before queueing anything: an unreadable list stops
    // the command with nothing queued. A list's bad lines are reported and
    // skipped; the targets are queued sorted, each once.
    if (!opts->copies.empty()) {
      ctx.service().set_recall_copies(queue::parse_copies(opts->copies));
    }
    if (!opts->priority.empty()) {
      ctx.service().set_priority(queue::parse_priority(opts->priority));
    }
    std::optional<int> days;
    if (opts->days) {
      days = capped_days(*opts->days, ctx.conf());
      ctx.service().set_restore_days(days);
    }
    // One status query per object is fine for a few named ones, not for a
    // list of thousands.
    if (!opts->files.empty()) {
      ctx.service().set_check_on_disk(false);
    }
    TargetList list;
    list.read(opts->targets, opts->files, std::cin, [&ctx](queue::Target target) {
      return ctx.own_account(std::move(target));
    });
    auto report = submit_list(ctx.service(),
                              operation,
                              list,
                              ctx.common.json,
                              opts->wait,
                              std::cout,
                              std::cerr);
    auto& doc = report.document;
    const auto& ids = report.ids;
    if (days && ctx.common.json) {
      doc["days"] = *days;
    }
    ctx.status = report.status;
    if (opts->wait && !ids.empty()) {
      // One document per run: the wait's result goes into it as "wait".
      nlohmann::json waited_doc;
      const int waited = wait_and_report(ctx, ids, opts->waiting, &waited_doc);
      if (ctx.common.json) {
        doc["wait"] = std::move(waited_doc);
      }
      // The worse of the two: a target refused, or a request that failed.
      // A recall already queued was waited for: the wait says how it went.
      ctx.status = ctx.status == k_exit_success || ctx.status == k_exit_in_progress
                     ? waited
                     : std::max(ctx.status, waited);
    }
    if (ctx.common.json) {
      std::cout << doc.dump(2) << '\n';
    }
  });
}

} // namespace hlm::ctl
