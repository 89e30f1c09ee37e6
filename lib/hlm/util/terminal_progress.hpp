#pragma once

#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace hlm {

// One status line on standard error that rewrites itself, shown only when
// standard error is a terminal (and the caller allows it: never with
// --json); redrawn at most ten times a second.
class TerminalProgress
{
public:
  explicit TerminalProgress(bool allowed)
    : m_enabled(allowed && ::isatty(STDERR_FILENO) == 1),
      m_start(std::chrono::steady_clock::now())
  {
  }
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;
  ~TerminalProgress()
  {
    finish();
  }

  bool
  enabled() const
  {
    return m_enabled;
  }

  // Seconds since the operation began, as "mm:ss".
  std::string
  elapsed_text() const
  {
    return clock_text(std::chrono::steady_clock::now() - m_start);
  }

  // ", about mm:ss left" from the rate so far, or "" when it cannot tell.
  std::string
  eta_text(std::size_t done, std::size_t total) const
  {
    if (done == 0 || done >= total) {
      return "";
    }
    const auto elapsed = std::chrono::steady_clock::now() - m_start;
    return fmt::format(
      ", about {} left",
      clock_text(elapsed * static_cast<long>(total - done) / static_cast<long>(done)));
  }

  // ", about mm:ss left (estimated)" from an estimate of the whole
  // operation's `seconds` made when it began, or ", past the estimate of
  // mm:ss" once that is over.
  std::string
  estimate_text(double seconds) const
  {
    const auto estimated = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
    const auto elapsed = std::chrono::steady_clock::now() - m_start;
    if (elapsed > estimated) {
      return fmt::format(", past the estimate of {}", clock_text(estimated));
    }
    return fmt::format(", about {} left (estimated)", clock_text(estimated - elapsed));
  }

  void
  update(const std::string& line, bool force = false)
  {
    if (!m_enabled) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!force && m_shown && now - m_last < std::chrono::milliseconds(100)) {
      return;
    }
    m_last = now;
    m_shown = true;
    fmt::print(stderr, "\r{}\033[K", line);
    std::fflush(stderr);
  }

  // Ends the line, so what follows starts on a fresh one.
  void
  finish()
  {
    if (m_shown) {
      fmt::print(stderr, "\n");
      m_shown = false;
    }
  }

  static std::string
  clock_text(std::chrono::steady_clock::duration duration)
  {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration).count();
    return fmt::format("{:02}:{:02}", seconds / 60, seconds % 60);
  }

private:
  bool m_enabled;
  bool m_shown = false;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last;
};

} // namespace hlm
