#pragma once

#include "context.hpp"

#include <hlm/connector/connector.hpp>

#include <CLI/CLI.hpp>

namespace hlm::ctl {

void add_nodes_command(CLI::App& parent, Context& ctx);
// migrate and recall: the same command for two operations.
void add_submit_command(CLI::App& parent, Context& ctx, connector::Operation operation);
void add_status_command(CLI::App& parent, Context& ctx);
void add_requests_command(CLI::App& parent, Context& ctx);
// Hidden `__complete`, used by the shell completion scripts and the man
// page test; walks `root`'s subcommands and options.
void add_complete_command(CLI::App& parent, CLI::App& root);

} // namespace hlm::ctl
