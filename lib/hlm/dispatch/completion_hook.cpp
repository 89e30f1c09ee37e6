#include <hlm/dispatch/completion_hook.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/process.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <utility>

namespace hlm::dispatch {

CompletionHook::CompletionHook(std::vector<std::string> argv, std::chrono::seconds timeout, Say say)
  : m_argv(std::move(argv)),
    m_timeout(timeout),
    m_say(std::move(say))
{
}

CompletionHook::~CompletionHook()
{
  finish();
}

void
CompletionHook::notify(nlohmann::json document)
{
  std::string dropped;
  {
    std::lock_guard lock(m_mutex);
    if (m_backlog.size() >= k_backlog) {
      dropped = document.value("id", std::string());
    } else {
      m_backlog.push_back(std::move(document));
      // Up to k_parallel workers, each taking documents until finish().
      if (m_workers.size() < k_parallel) {
        m_workers.emplace_back([this] { work(); });
      }
    }
  }
  if (!dropped.empty() && m_say) {
    m_say(fmt::format("on_complete: {} runs wait already; not run for {}",
                      k_backlog,
                      printable(dropped)));
  }
  m_wake.notify_one();
}

void
CompletionHook::finish()
{
  {
    std::lock_guard lock(m_mutex);
    m_closing = true;
  }
  m_wake.notify_all();
  for (auto& worker : m_workers) {
    if (worker.joinable()) {
      worker.join();
    }
  }
  m_workers.clear();
  std::lock_guard lock(m_mutex);
  m_closing = false;
}

void
CompletionHook::work()
{
  for (;;) {
    nlohmann::json document;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this] { return m_closing || !m_backlog.empty(); });
      if (m_backlog.empty()) {
        return; // closing, nothing left
      }
      document = std::move(m_backlog.front());
      m_backlog.pop_front();
    }
    run(document);
  }
}

void
CompletionHook::run(const nlohmann::json& document)
{
  const std::string id = document.value("id", std::string());
  std::string problem;
  try {
    ProcessOptions options;
    options.timeout = m_timeout;
    const auto result = run_process(
      m_argv,
      document.dump() + "\n",
      [](std::string_view) { return true; },
      options);
    if (result.timed_out) {
      problem = fmt::format("ended after {} s (on_complete_timeout)", m_timeout.count());
    } else if (!result.succeeded()) {
      problem = result.exit_status ? fmt::format("exited {}", *result.exit_status)
                                   : fmt::format("ended by SIG{}", result.signal.value_or("?"));
      if (!result.error_output.empty()) {
        problem += ": " + printable(trim(result.error_output));
      }
    }
  } catch (const Error& e) {
    problem = e.what();
  }
  if (!problem.empty() && m_say) {
    m_say(fmt::format("on_complete for {}: {}", printable(id), problem));
  }
}

} // namespace hlm::dispatch
