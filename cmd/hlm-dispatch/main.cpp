// hlm-dispatch: drains the request queue once (cron) or in a loop. Every
// decision lives in lib/hlm/dispatch; this file parses, loops and maps
// errors to exit codes. See man/hlm-dispatch.8.adoc.

#include <common/cli.hpp>
#include <common/complete.hpp>
#include <common/progress.hpp>
#include <hlm/config/hlm_conf.hpp>
#include <hlm/dispatch/dispatcher.hpp>
#include <hlm/swift/http.hpp>
#include <hlm/transport/transport.hpp>
#include <hlm/util/file_lock.hpp>
#include <hlm/util/strings.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void
on_signal(int signal)
{
  g_stop = signal;
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
  bool loop = false;
  bool once = false;
  std::optional<int> interval;
  bool json = false;
  bool quiet = false;
  dispatch::DispatchOptions options;
  app.add_option("--config", config_path, "hlm.conf (default: $HLM_CONF, else /etc/hlm/hlm.conf)");
  auto* once_flag = app.add_flag("--once", once, "drain the queue once and exit (the default)");
  auto* loop_flag =
    app.add_flag("--loop", loop, "keep draining, waiting --interval seconds between runs")->excludes(once_flag);
  // Without --loop there is no second run to wait for: a usage error, not
  // an option silently ignored.
  app.add_option("--interval", interval, "seconds between runs with --loop (default: [dispatch] interval)")
    ->check(CLI::Range(1, 86400))
    ->needs(loop_flag);
  app.add_option("--processes", options.processes, "dispatchers sharing the queue")
    ->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--process", options.process, "this dispatcher's number, 0 to --processes - 1")
    ->capture_default_str();
  std::string schedule = "batched";
  app.add_option("--schedule", schedule,
                 "batched: all pending requests of an operation as one list per node, so the "
                 "backend can order them; fifo: one request at a time in arrival order (the seed's)")
    ->check(CLI::IsMember({"batched", "fifo"}))
    ->capture_default_str();
  app.add_flag("--json", json, "print each run's report as JSON");
  app.add_flag("-q,--quiet", quiet, "no progress messages on stderr");
  cli::add_complete_command(app);

  int status = k_exit_success;
  app.callback([&] {
    if (options.process < 0 || options.process >= options.processes) {
      throw InputError(fmt::format("--process {} is not in 0..{}", options.process, options.processes - 1));
    }
    options.schedule = schedule == "fifo" ? dispatch::Schedule::fifo : dispatch::Schedule::batched;
    swift::global_init();
    transport::global_init();
    const auto conf = config::load_hlm_conf(config_path, std::getenv("HLM_CONF"));
    // One line per event; "<N>" priorities when the stream is the journal.
    const journal::LogStream log(stderr);
    const dispatch::Fanout fanout(conf, dispatch::default_transport_factory(),
                                  [&](const std::string& warning) {
                                    log.print(journal::Priority::warning,
                                              fmt::format("hlm-dispatch: warning: {}", warning));
                                  });
    const auto http = swift::make_curl_client();
    const journal::LogStream out(stdout);
    const dispatch::Progress progress = [&](std::string_view message) {
      if (!quiet) {
        log.print(journal::Priority::info, fmt::format("hlm-dispatch: {}", message));
      }
    };
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    do {
      const auto lock = FileLock::try_acquire(conf.lock_file);
      if (!lock) {
        if (!quiet) {
          log.print(journal::Priority::notice,
                    fmt::format("hlm-dispatch: another hlm-dispatch holds {}; leaving the queue to it",
                                conf.lock_file.string()));
        }
      } else {
        // On a terminal, a progress line instead of one line per round.
        cli::TerminalProgress bar(!quiet && !json);
        auto run_options = options;
        if (bar.enabled()) {
          run_options.on_counts = [&bar](const dispatch::DispatchReport& r) {
            const auto settled = r.settled();
            std::string later;
            if (r.retrying + r.deferred > 0) {
              later = fmt::format(", {} to retry, {} deferred", r.retrying, r.deferred);
            }
            // "done" counts only completed requests: one deferred to a
            // later run is handled by this one, not done.
            bar.update(fmt::format("hlm-dispatch: {} of {} handled ({} done, {} failed{}), {} sent, {}{}",
                                   settled, counted(r.entries, "request", "requests"), r.completed,
                                   r.failed + r.undecodable, later,
                                   counted(r.objects, "object", "objects"), bar.elapsed_text(),
                                   bar.eta_text(settled, r.entries)),
                       settled == r.entries); // the last count is always shown
          };
        }
        const auto report = dispatch::dispatch_once(
          conf, *http, fanout, run_options,
          bar.enabled() ? dispatch::Progress() : progress);
        bar.finish();
        // A failed attempt that will be retried is a failure of this run
        // too: it is worth a look before the last attempt.
        const bool partial = report.failed + report.undecodable + report.retrying > 0;
        out.print(partial ? journal::Priority::warning : journal::Priority::info,
                  json ? nlohmann::json{{"entries", report.entries}, {"completed", report.completed},
                                        {"failed", report.failed}, {"undecodable", report.undecodable},
                                        {"retrying", report.retrying}, {"deferred", report.deferred},
                                        {"objects", report.objects}}.dump()
                       : fmt::format("{}: {} completed, {} failed, {} undecodable, {} to "
                                     "retry, {} deferred; {}",
                                     counted(report.entries, "entry", "entries"), report.completed,
                                     report.failed, report.undecodable, report.retrying,
                                     report.deferred, counted(report.objects, "object", "objects")));
        status = partial ? k_exit_partial : k_exit_success;
      }
      const auto wait = std::chrono::seconds(interval.value_or(static_cast<int>(conf.interval.count())));
      for (auto waited = std::chrono::milliseconds(0); loop && !g_stop && waited < wait;
           waited += std::chrono::milliseconds(200)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    } while (loop && !g_stop);
    if (g_stop == SIGINT) {
      status = k_exit_interrupted;
    }
  });
  return cli::run(app, "hlm-dispatch", argc, argv, status, k_exit_usage);
}
