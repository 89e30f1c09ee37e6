// hlmctl migrate|recall TARGET…: queue a request and return at once.

#include "commands.hpp"

#include <hlm/ctl/submit.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
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

// Every target, parsed: the arguments, then each -f list's lines. A list
// may hold blank lines and comments (lines whose first non-blank character
// is '#'); a line that is not a target fails the whole command, naming the
// list and the line, before anything is queued.
std::vector<queue::Target>
read_targets(const SubmitOptions& opts)
{
  std::vector<queue::Target> targets;
  for (const auto& text : opts.targets) {
    targets.push_back(parse_target(text));
  }
  for (const auto& file : opts.files) {
    std::ifstream stream;
    std::istream* in = &std::cin;
    const std::string name = file == "-" ? "standard input" : file;
    if (file != "-") {
      if (std::filesystem::is_directory(file)) {
        throw InputError(fmt::format("cannot read target list \"{}\": it is a directory", file));
      }
      stream.open(file);
      if (!stream) {
        throw InputError(
          fmt::format("cannot read target list \"{}\": {}", file, std::strerror(errno)));
      }
      in = &stream;
    }
    std::string line;
    for (std::size_t number = 1; std::getline(*in, line); ++number) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') {
        continue;
      }
      try {
        targets.push_back(parse_target(line));
      } catch (const InputError& e) {
        throw InputError(fmt::format("{} line {}: {}", name, number, e.what()));
      }
    }
    if (in->bad()) {
      throw InputError(fmt::format("cannot read target list \"{}\": {}", name,
                                   std::strerror(errno)));
    }
  }
  if (targets.empty()) {
    throw InputError("no target given (TARGET arguments or -f FILE)");
  }
  return targets;
}

} // namespace

void
add_submit_command(CLI::App& parent, Context& ctx, Operation operation)
{
  const bool migrate = operation == Operation::migrate;
  auto opts = std::make_shared<SubmitOptions>();
  auto* cmd = parent.add_subcommand(
    std::string(to_string(operation)),
    migrate ? "Queue objects or containers for migration to tape"
            : "Queue objects or containers for recall from tape");
  cmd->add_option("targets", opts->targets, "[ACCOUNT/]CONTAINER[/OBJECT] ... (no account: the caller's own)");
  cmd->add_option("-f,--file", opts->files,
                  "read targets from FILE, one per line; blank lines and '#' comments are "
                  "skipped ('-': stdin)")
    ->allow_extra_args(false);
  cmd->add_flag("--wait", opts->wait,
                "then wait until the requests are no longer pending (see hlmctl wait)");
  add_wait_options(*cmd, opts->waiting);
  add_common_options(*cmd, ctx.common);
  cmd->callback([opts, &ctx, operation] {
    // Parse every target before queueing any: a typo must not leave half
    // a list queued.
    std::vector<queue::Target> targets = read_targets(*opts);
    for (auto& target : targets) {
      target = ctx.own_account(std::move(target));
    }
    nlohmann::json results = nlohmann::json::array();
    std::vector<std::string> ids;
    std::size_t failed = 0;
    auto& service = ctx.service();
    for (const auto& target : targets) {
      try {
        const auto submitted = service.submit(operation, target);
        results.push_back({{"target", to_string(target)}, {"operation", to_string(operation)},
                           {"policy_index", submitted.entry.policy_index}, {"id", submitted.id}});
        ids.push_back(submitted.id);
        if (!ctx.common.json) {
          fmt::print("queued {} {}: {}\n", to_string(operation), to_string(target), submitted.id);
        }
      } catch (const queue::PartlyQueued& e) {
        // Written to too few container servers and not withdrawn: the
        // request is queued and will run, so it is reported as queued.
        fmt::print(stderr, "hlmctl: warning: {}: {}\n", to_string(target), e.what());
        results.push_back({{"target", to_string(target)}, {"operation", to_string(operation)},
                           {"policy_index", queue::decode_entry(e.id()).policy_index}, {"id", e.id()},
                           {"warning", e.what()}});
        ids.push_back(e.id());
        if (!ctx.common.json) {
          fmt::print("queued {} {}: {}\n", to_string(operation), to_string(target), e.id());
        }
      } catch (const SwiftError& e) {
        // One target the caller cannot see does not stop the others.
        ++failed;
        fmt::print(stderr, "hlmctl: error: {}: {}\n", to_string(target), e.what());
        results.push_back({{"target", to_string(target)}, {"operation", to_string(operation)},
                           {"error", e.what()}, {"http_status", e.http_status()}});
      }
    }
    nlohmann::json doc{{"requests", results}};
    ctx.status = failed == 0 ? k_exit_success : failed < targets.size() ? k_exit_partial : k_exit_failure;
    if (opts->wait && !ids.empty()) {
      // One document per run: the wait's result goes into it as "wait".
      nlohmann::json waited_doc;
      const int waited = wait_and_report(ctx, ids, opts->waiting, &waited_doc);
      if (ctx.common.json) {
        doc["wait"] = std::move(waited_doc);
      }
      // The worse of the two: a target refused, or a request that failed.
      ctx.status = ctx.status == k_exit_success ? waited : std::max(ctx.status, waited);
    }
    if (ctx.common.json) {
      std::cout << doc.dump(2) << '\n';
    }
  });
}

} // namespace hlm::ctl
