#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace hlm {

// Keeps the last `capacity` bytes of a stream (a program's stderr, for
// messages), whatever its length.
class TailBuffer
{
public:
  explicit TailBuffer(std::size_t capacity)
    : m_capacity(capacity)
  {
  }

  void
  append(std::string_view data)
  {
    m_text.append(data);
    // Trimming in batches keeps appends amortised O(1).
    if (m_text.size() > 2 * m_capacity) {
      m_text.erase(0, m_text.size() - m_capacity);
    }
  }

  // The kept bytes, at most `capacity`; empties the buffer.
  std::string
  take()
  {
    if (m_text.size() > m_capacity) {
      m_text.erase(0, m_text.size() - m_capacity);
    }
    return std::exchange(m_text, {});
  }

private:
  std::size_t m_capacity;
  std::string m_text;
};

} // namespace hlm
