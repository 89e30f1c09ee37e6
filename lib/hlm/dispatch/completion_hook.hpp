#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hlm::dispatch {

// hlm.conf's on_complete: a program run for each request a run completes
// or finally fails, with a JSON document on its stdin (the fields are in
// hlm-dispatch(8), COMPLETION HOOK): argv as configured, no shell. Runs
// happen in threads of their own, at most k_parallel at once, each ended
// (SIGTERM, then SIGKILL) after `timeout`: a slow, hanging or failing hook
// is said (through `say`) and never holds up or changes the queue. At most
// k_backlog documents wait; beyond that a document is dropped, and said.
// finish() (or the destructor) waits for the runs under way and the
// backlog, each still bounded by `timeout`.
class CompletionHook
{
public:
  static constexpr std::size_t k_parallel = 4;
  static constexpr std::size_t k_backlog = 10'000;

  using Say = std::function<void(const std::string&)>;

  CompletionHook(std::vector<std::string> argv, std::chrono::seconds timeout, Say say);
  ~CompletionHook();
  CompletionHook(const CompletionHook&) = delete;
  CompletionHook& operator=(const CompletionHook&) = delete;

  // Queues a run with `document` on its stdin.
  void notify(nlohmann::json document);
  // Waits for every queued run to end.
  void finish();

private:
  void work();
  void run(const nlohmann::json& document);

  std::vector<std::string> m_argv;
  std::chrono::seconds m_timeout;
  Say m_say;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<nlohmann::json> m_backlog;
  bool m_closing = false;
  std::vector<std::thread> m_workers;
};

} // namespace hlm::dispatch
