#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/dispatch/dispatcher.hpp>

#include <chrono>
#include <optional>

namespace hlm::dispatch {

// What hlm-dispatch's command line asks for.
struct LoopOptions
{
  DispatchOptions dispatch;
  bool loop = false;                            // keep running, `interval` between runs
  std::optional<std::chrono::seconds> interval; // default: conf.interval
  bool json = false;                            // each run's report as JSON
  bool quiet = false;                           // no progress on stderr
  bool dry_run = false; // estimate the next run (estimate.hpp) instead of running it
};

// hlm-dispatch's work: a dispatch_once under conf.lock_file (a run that
// finds it held leaves the queue to its holder), once or, with
// options.loop, until SIGTERM or SIGINT (for which it installs handlers;
// the current run ends first). Progress goes to stderr, one log line per
// event or, on a terminal without --json, one line that rewrites itself;
// each run's report goes to stdout (to_text or to_json), at priority
// warning when it needs attention. The lock stays held between runs of a
// loop, so a --once dispatcher started meanwhile leaves the queue alone.
// Returns the exit status of the last run (exit_status_of; k_exit_success
// when the lock was held), k_exit_interrupted after SIGINT. Throws what
// dispatch_once throws.
int run_dispatcher(const config::HlmConf& conf, const LoopOptions& options);

// hlm-dispatch --dry-run: estimate_once, without the lock (it writes
// nothing), its report on stdout (to_text or to_json). Returns
// k_exit_success, or k_exit_partial when some request could not be
// estimated.
int run_dry_run(const config::HlmConf& conf, const LoopOptions& options);

} // namespace hlm::dispatch
