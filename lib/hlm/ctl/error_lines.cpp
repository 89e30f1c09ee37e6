#include <hlm/ctl/error_lines.hpp>

#include <fmt/ostream.h>

#include <ostream>

namespace hlm::ctl {

ErrorLines::ErrorLines(std::ostream& out)
  : m_out(out)
{
}

ErrorLines::~ErrorLines()
{
  // A destructor must not throw; a stream that fails here has nowhere to
  // report to anyway.
  try {
    finish();
  } catch (...) { // NOLINT(bugprone-empty-catch)
  }
}

void
ErrorLines::add(const std::string& object, const std::string& error)
{
  const auto it = m_repeats.find(error);
  if (it != m_repeats.end()) {
    ++it->second;
    return;
  }
  fmt::print(m_out, "hlmctl: error: {}: {}\n", object, error);
  if (m_repeats.size() < k_max_texts) {
    m_repeats.emplace(error, 0);
  }
}

void
ErrorLines::finish()
{
  if (m_finished) {
    return;
  }
  m_finished = true;
  for (const auto& [error, more] : m_repeats) {
    if (more > 0) {
      fmt::print(m_out,
                 "hlmctl: error: {} (also for {} more {})\n",
                 error,
                 more,
                 more == 1 ? "replica" : "replicas");
    }
  }
}

} // namespace hlm::ctl
