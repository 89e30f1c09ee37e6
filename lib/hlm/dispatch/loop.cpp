#include <hlm/dispatch/estimate.hpp>
#include <hlm/dispatch/loop.hpp>
#include <hlm/swift/http.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/file_lock.hpp>
#include <hlm/util/journal.hpp>
#include <hlm/util/strings.hpp>
#include <hlm/util/terminal_progress.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace hlm::dispatch {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void
on_signal(int signal)
{
  g_stop = signal;
}

// The terminal's progress line.
std::string
progress_line(const DispatchReport& r, const TerminalProgress& bar)
{
  const auto settled = r.settled();
  std::string later;
  if (r.retrying + r.deferred > 0) {
    later = fmt::format(", {} to retry, {} deferred", r.retrying, r.deferred);
  }
  // "done" counts only completed requests: one deferred to a later run is
  // handled by this one, not done.
  return fmt::format("hlm-dispatch: {} of {} handled ({} done, {} failed{}), {} sent, {}{}",
                     settled,
                     counted(r.entries, "request", "requests"),
                     r.completed,
                     r.failed + r.undecodable,
                     later,
                     counted(r.objects, "object", "objects"),
                     bar.elapsed_text(),
                     bar.eta_text(settled, r.entries));
}

// What every run of a process shares.
struct Session
{
  const config::HlmConf& conf;
  const LoopOptions& options;
  // One line per event; "<N>" priorities when the stream is the journal.
  journal::LogStream log{stderr};
  journal::LogStream out{stdout};
  Fanout fanout{conf, default_transport_factory(), [this](const std::string& warning) {
                  log.print(journal::Priority::warning,
                            fmt::format("hlm-dispatch: warning: {}", warning));
                }};
  std::unique_ptr<swift::HttpClient> http = swift::make_curl_client();

  Session(const config::HlmConf& c, const LoopOptions& o)
    : conf(c),
      options(o)
  {
  }

  void
  say(journal::Priority priority, const std::string& message) const
  {
    if (!options.quiet) {
      log.print(priority, fmt::format("hlm-dispatch: {}", message));
    }
  }

  // One run, its progress and its report; its exit status.
  int
  run_once() const
  {
    // On a terminal, a progress line instead of one line per round.
    TerminalProgress bar(!options.quiet && !options.json);
    auto run_options = options.dispatch;
    if (bar.enabled()) {
      run_options.on_counts = [&bar](const DispatchReport& r) {
        bar.update(progress_line(r, bar),
                   r.settled() == r.entries); // the last count is always shown
      };
    }
    const Progress progress = [this](std::string_view message) {
      say(journal::Priority::info, std::string(message));
    };
    const auto report =
      dispatch_once(conf, *http, fanout, run_options, bar.enabled() ? Progress() : progress);
    // The nodes' handlers are not kept through the wait for the next run.
    fanout.close_sessions();
    bar.finish();
    out.print(needs_attention(report) ? journal::Priority::warning : journal::Priority::info,
              options.json ? to_json(report).dump() : to_text(report));
    return exit_status_of(report);
  }
};

// Sleeps up to `wait`, less when a signal asks to stop.
void
wait_unless_stopped(std::chrono::seconds wait)
{
  for (auto waited = std::chrono::milliseconds(0); !g_stop && waited < wait;
       waited += std::chrono::milliseconds(200)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

} // namespace

int
run_dry_run(const config::HlmConf& conf, const LoopOptions& options)
{
  const Session session(conf, options);
  const Progress progress = [&session](std::string_view message) {
    session.say(journal::Priority::info, std::string(message));
  };
  const auto report =
    estimate_once(conf, *session.http, session.fanout, options.dispatch, progress);
  session.fanout.close_sessions();
  if (options.json) {
    session.out.print(journal::Priority::info, to_json(report).dump());
  } else {
    std::fputs(to_text(report).c_str(), stdout);
  }
  return report.failed_requests > 0 ? k_exit_partial : k_exit_success;
}

int
run_dispatcher(const config::HlmConf& conf, const LoopOptions& options)
{
  const Session session(conf, options);
  const auto interval = options.interval.value_or(conf.interval);
  g_stop = 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  int status = k_exit_success;
  do {
    const auto lock = FileLock::try_acquire(conf.lock_file);
    if (!lock) {
      session.say(journal::Priority::notice,
                  fmt::format("another hlm-dispatch holds {}; leaving the queue to it",
                              conf.lock_file.string()));
    } else {
      status = session.run_once();
    }
    if (options.loop) {
      wait_unless_stopped(interval); // the lock held (see loop.hpp)
    }
  } while (options.loop && !g_stop);
  return g_stop == SIGINT ? static_cast<int>(k_exit_interrupted) : status;
}

} // namespace hlm::dispatch
