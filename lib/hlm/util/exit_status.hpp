#pragma once

namespace hlm {

// Exit codes shared by every hlm executable; documented under EXIT STATUS in
// each man page.
enum ExitStatus : int {
  k_exit_success = 0,
  k_exit_failure = 1,
  k_exit_usage = 2,
  k_exit_partial = 3,
  // hlmctl recall: a target already being recalled (its request pending),
  // nothing queued: Glacier's 409 RestoreAlreadyInProgress.
  k_exit_in_progress = 4,
  k_exit_interrupted = 130,
};

} // namespace hlm
