// hlm-dispatch: drains the request queue once (cron) or in a loop. The work,
// the loop and the report live in lib/hlm/dispatch (loop.hpp); this file
// parses and maps errors to exit codes. See man/hlm-dispatch.8.adoc.

#include <hlm/config/hlm_conf.hpp>
#include <hlm/dispatch/loop.hpp>
#include <hlm/swift/http.hpp>
#include <hlm/transport/transport.hpp>
#include <hlm/util/clock.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <common/cli.hpp>
#include <common/complete.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace {

// --processes, --process and --schedule.
void
add_run_options(CLI::App& app, hlm::dispatch::DispatchOptions& run)
{
  using namespace hlm;
  app.add_option("--processes", run.processes, "dispatchers sharing the queue")
    ->check(CLI::Range(1, 10000))
    ->capture_default_str();
  app.add_option("--process", run.process, "this dispatcher's number, 0 to --processes - 1")
    ->capture_default_str();
  const std::map<std::string, dispatch::Schedule> schedules{
    {"batched", dispatch::Schedule::batched},
    {"fifo", dispatch::Schedule::fifo}};
  app
    .add_option("--schedule",
                run.schedule,
                "batched: all pending requests of an operation as one list per node, so the "
                "backend can order them; fifo: one request at a time in arrival order (the seed's)")
    // transform() puts each validator first: IsMember runs before the
    // mapping, so only the names are taken, not the enum's numbers.
    ->transform(CLI::CheckedTransformer(schedules).description(""))
    ->transform(CLI::IsMember(schedules))
    ->default_str("batched");
}

// Test hook, like HLM_DISPATCH_FAULT (fault_point.hpp), not for operators:
// with HLM_DISPATCH_CLOCK_OFFSET=<seconds>, the runs decide (restore
// expiries, next attempts, aging, batching waits) by the clock moved by
// that much. Queue rows keep the real time.
void
use_clock_offset(hlm::dispatch::DispatchOptions& run)
{
  using namespace hlm;
  const char* offset = std::getenv("HLM_DISPATCH_CLOCK_OFFSET");
  if (offset == nullptr) {
    return;
  }
  const auto seconds = parse_int(offset);
  if (!seconds) {
    throw InputError(
      fmt::format("HLM_DISPATCH_CLOCK_OFFSET={} is not a number of seconds", printable(offset)));
  }
  run.clock = [seconds = *seconds] { return unix_seconds_now() + seconds; };
}

} // namespace

int
main(int argc, char** argv)
{
  // An ignored SIGCHLD, inherited from a parent, would let the kernel reap
  // the handlers this tool runs before it can wait for them.
  std::signal(SIGCHLD, SIG_DFL);
  using namespace hlm;
  CLI::App app{"Process pending migrate and recall requests", "hlm-dispatch"};
  app.set_version_flag("--version", cli::version_text("hlm-dispatch"));

  std::optional<std::filesystem::path> config_path;
  bool once = false;
  std::optional<int> interval;
  dispatch::LoopOptions options;
  auto& run = options.dispatch;
  app.add_option("--config", config_path, "hlm.conf (default: $HLM_CONF, else /etc/hlm/hlm.conf)");
  auto* once_flag = app.add_flag("--once", once, "drain the queue once and exit (the default)");
  auto* loop_flag =
    app.add_flag("--loop", options.loop, "keep draining, waiting --interval seconds between runs")
      ->excludes(once_flag);
  // Without --loop there is no second run to wait for: a usage error, not
  // an option silently ignored.
  app
    .add_option("--interval",
                interval,
                "seconds between runs with --loop (default: [dispatch] interval)")
    ->check(CLI::Range(1, 86400))
    ->needs(loop_flag);
  add_run_options(app, run);
  app.add_flag("--json", options.json, "print each run's report as JSON");
  app
    .add_flag("--dry-run",
              options.dry_run,
              "print what the next run would do and what the backends expect it to cost "
              "(objects, bytes, cartridges, mounts, drive-seconds, wall time), changing nothing")
    ->excludes(loop_flag);
  app.add_flag("-q,--quiet", options.quiet, "no progress messages on stderr");
  cli::add_complete_command(app);

  int status = k_exit_success;
  app.callback([&] {
    if (run.process < 0 || run.process >= run.processes) {
      throw InputError(fmt::format("--process {} is not in 0..{}", run.process, run.processes - 1));
    }
    if (interval) {
      options.interval = std::chrono::seconds(*interval);
    }
    use_clock_offset(run);
    swift::global_init();
    transport::global_init();
    const auto conf = config::load_hlm_conf(config_path, std::getenv("HLM_CONF"));
    status = options.dry_run ? dispatch::run_dry_run(conf, options)
                             : dispatch::run_dispatcher(conf, options);
  });
  return cli::run(app, "hlm-dispatch", argc, argv, status, k_exit_usage);
}
