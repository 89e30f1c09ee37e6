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

} // namespace hlm::ctl
