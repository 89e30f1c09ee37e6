// hlm-handler: runs on a storage node. Reads a request (the seed's JSON
// document, or one object path per line) on stdin, drives the configured
// connector over the local replica files, writes per-object results on
// stdout. See man/hlm-handler.8.adoc.

#include <hlm/handler/command.hpp>

#include <common/cli.hpp>
#include <common/complete.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <iostream>

int
main(int argc, char** argv)
{
  using namespace hlm;
  // An ignored SIGCHLD, inherited from a parent, would let the kernel reap
  // the connectors' programs before they can be waited for.
  std::signal(SIGCHLD, SIG_DFL);
  CLI::App app{"Apply a migrate, recall or status request to this storage node's replicas",
               "hlm-handler"};
  app.set_version_flag("--version", cli::version_text("hlm-handler"));

  handler::HandlerCommand command;
  std::string operation;
  app
    .add_option("operation",
                operation,
                "status, migrate or recall; required when stdin holds object paths")
    ->check(CLI::IsMember({"status", "migrate", "recall"}));
  app
    .add_option("--object-server-conf",
                command.object_server_confs,
                "object server config with [hlm], or a directory of them; repeat for every object "
                "server of this host")
    ->allow_extra_args(false)
    ->capture_default_str();
  app.add_option(
    "--swift-dir",
    command.swift_dir,
    "rings and swift.conf (default: the request's swift_dir, else the object server's)");
  app.add_option("--policy",
                 command.policy,
                 "storage policy name or index for object lines (default: the default policy)");
  app.add_option("--batch-size", command.batch_size, "objects per connector call")
    ->capture_default_str()
    ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  app
    .add_option("--device-threads",
                command.device_threads,
                "devices whose replicas are looked at at once, a thread each (default: the "
                "number of CPUs)")
    ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  double heartbeat_seconds = 5;
  app
    .add_option("--heartbeat",
                heartbeat_seconds,
                "write a space to stdout this often (seconds) while working, so the dispatcher "
                "sees progress during long backend calls; 0: never")
    ->capture_default_str()
    ->check(CLI::Range(0.0, 3600.0));
  cli::add_complete_command(app);

  int status = k_exit_success;
  app.callback([&] {
    command.operation = parse_operation(operation);
    command.heartbeat = std::chrono::milliseconds(std::llround(heartbeat_seconds * 1000));
    std::ios::sync_with_stdio(false);
    const auto summary =
      handler::run_handler(command, connector::create_connector, std::cin, std::cout);
    if (summary.failed > 0) {
      status = summary.ok > 0 ? k_exit_partial : k_exit_failure;
    }
  });
  return cli::run(app, "hlm-handler", argc, argv, status, k_exit_failure);
}
