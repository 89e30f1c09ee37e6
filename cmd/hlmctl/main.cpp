// hlmctl: the operator's and user's terminal tool. Each subcommand lives in
// its own file; this file only assembles them and maps errors to exit codes.

#include "commands.hpp"

#include <common/cli.hpp>
#include <common/complete.hpp>

#include <csignal>

int
main(int argc, char** argv)
{
  // An ignored SIGCHLD, inherited from a parent, would let the kernel reap
  // the handlers this tool runs before it can wait for them.
  std::signal(SIGCHLD, SIG_DFL);
  using namespace hlm;
  CLI::App app{"Control tape tiering (migrate, recall, status) of OpenStack Swift objects",
               "hlmctl"};
  app.set_version_flag("--version", cli::version_text("hlmctl"));
  app.require_subcommand(1);

  ctl::Context ctx;
  // Before the subcommand too, as `swift -A … -U … -K … list` takes them.
  ctl::add_common_options(app, ctx.common);
  ctl::add_submit_command(app, ctx, Operation::migrate);
  ctl::add_submit_command(app, ctx, Operation::recall);
  ctl::add_status_command(app, ctx);
  ctl::add_requests_command(app, ctx);
  ctl::add_wait_command(app, ctx);
  ctl::add_manage_commands(app, ctx);
  ctl::add_nodes_command(app, ctx);
  ctl::add_estimate_command(app, ctx);
  cli::add_complete_command(app);

  // A bad name on the command line is a usage error; Swift's refusals
  // (404, 403) are failures.
  return cli::run(app, "hlmctl", argc, argv, ctx.status, k_exit_usage, &ctx.common.json);
}
