// hlmctl migrate|recall TARGET…: queue a request and return at once.

#include "commands.hpp"

#include <hlm/ctl/submit.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace hlm::ctl {

namespace {

struct SubmitOptions
{
  std::vector<std::string> targets;
  std::vector<std::string> files; // "-" is stdin
  bool wait = false;
  WaitCommandOptions waiting;
};

std::vector<std::string>
read_targets(const SubmitOptions& opts)
{
  std::vector<std::string> targets = opts.targets;
  for (const auto& file : opts.files) {
    std::ifstream stream;
    std::istream* in = &std::cin;
    if (file != "-") {
      stream.open(file);
      if (!stream) {
        throw InputError(fmt::format("cannot read target list \"{}\"", file));
      }
      in = &stream;
    }
    std::string line;
    while (std::getline(*in, line)) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      if (!line.empty()) {
        targets.push_back(line);
      }
    }
  }
  if (targets.empty()) {
    throw InputError("no target given (TARGET arguments or -f FILE)");
  }
  return targets;
}

} // namespace

void
add_submit_command(CLI::App& parent, Context& ctx, connector::Operation operation)
{
  const bool migrate = operation == connector::Operation::migrate;
  auto opts = std::make_shared<SubmitOptions>();
  auto* cmd = parent.add_subcommand(
    std::string(connector::to_string(operation)),
    migrate ? "Queue objects or containers for migration to tape"
            : "Queue objects or containers for recall from tape");
  cmd->add_option("targets", opts->targets, "ACCOUNT/CONTAINER[/OBJECT] ...");
  cmd->add_option("-f,--file", opts->files, "read targets from FILE, one per line ('-': stdin)")
    ->allow_extra_args(false);
  cmd->add_flag("--wait", opts->wait,
                "then wait until the requests are no longer pending (see hlmctl wait)");
  add_wait_options(*cmd, opts->waiting);
  add_common_options(*cmd, ctx.common);
  cmd->callback([opts, &ctx, operation] {
    // Parse every target before queueing any: a typo must not leave half
    // a list queued.
    std::vector<queue::Target> targets;
    for (const auto& text : read_targets(*opts)) {
      targets.push_back(parse_target(text));
    }
    nlohmann::json results = nlohmann::json::array();
    std::vector<std::string> ids;
    std::size_t failed = 0;
    Submitter submitter(ctx.client(), ctx.requests(), ctx.swift_conf());
    for (const auto& target : targets) {
      try {
        const auto submitted = submitter.submit(operation, target);
        results.push_back({{"target", to_string(target)}, {"operation", connector::to_string(operation)},
                           {"policy_index", submitted.entry.policy_index}, {"id", submitted.id}});
        ids.push_back(submitted.id);
        if (!ctx.common.json) {
          fmt::print("queued {} {}: {}\n", connector::to_string(operation), to_string(target), submitted.id);
        }
      } catch (const SwiftError& e) {
        // One target the caller cannot see does not stop the others.
        ++failed;
        fmt::print(stderr, "hlmctl: error: {}: {}\n", to_string(target), e.what());
        results.push_back({{"target", to_string(target)}, {"operation", connector::to_string(operation)},
                           {"error", e.what()}, {"http_status", e.http_status()}});
      }
    }
    if (ctx.common.json) {
      std::cout << nlohmann::json{{"requests", results}}.dump(2) << '\n';
    }
    ctx.status = failed == 0 ? k_exit_success : failed < targets.size() ? k_exit_partial : k_exit_failure;
    if (opts->wait && !ids.empty()) {
      const int waited = wait_and_report(ctx, ids, opts->waiting);
      // The worse of the two: a target refused, or a request that failed.
      ctx.status = ctx.status == k_exit_success ? waited : std::max(ctx.status, waited);
    }
  });
}

} // namespace hlm::ctl
