#pragma once

#include "context.hpp"

#include <hlm/connector/connector.hpp>
#include <hlm/ctl/wait.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace hlm::ctl {

void add_nodes_command(CLI::App& parent, Context& ctx);
void add_estimate_command(CLI::App& parent, Context& ctx);
// migrate and recall: the same command for two operations.
void add_submit_command(CLI::App& parent, Context& ctx, Operation operation);
void add_status_command(CLI::App& parent, Context& ctx);
void add_requests_command(CLI::App& parent, Context& ctx);
void add_wait_command(CLI::App& parent, Context& ctx);
// cancel, retry and forget.
void add_manage_commands(CLI::App& parent, Context& ctx);

// The checks of recall's --copies (N or all) and --days (1 to
// queue::k_max_days), which estimate takes too.
CLI::Validator copies_validator();
CLI::Validator days_validator();

// What wait and migrate/recall --wait take.
struct WaitCommandOptions
{
  std::optional<double> timeout_seconds;
  double interval_seconds = 2;
};
void add_wait_options(CLI::App& cmd, WaitCommandOptions& options);
// Waits for `ids` and prints the result; returns the exit status: 0 all
// done, 3 some failed, 1 timed out, 130 interrupted. With --json the
// result is stored in `*json_out` when given (so that the run still
// prints one document), else printed.
int wait_and_report(Context& ctx,
                    const std::vector<std::string>& ids,
                    const WaitCommandOptions& options,
                    nlohmann::json* json_out = nullptr);

} // namespace hlm::ctl
