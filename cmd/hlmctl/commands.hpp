#pragma once

#include <CLI/CLI.hpp>

namespace hlm::ctl {

// State shared by hlmctl's subcommands; a subcommand's callback sets
// `status` to its exit code.
struct Context
{
  int status = 0;
};

void add_nodes_command(CLI::App& parent, Context& ctx);
// Hidden `__complete`, used by the shell completion scripts and the man
// page test; walks `root`'s subcommands and options.
void add_complete_command(CLI::App& parent, CLI::App& root);

} // namespace hlm::ctl
