#pragma once

#include <cstddef>
#include <iosfwd>
#include <map>
#include <string>

namespace hlm::ctl {

// Replica errors for stderr, each text once: a node that cannot answer at
// all fails every replica it holds with the same words, and 30,000 equal
// lines hide the one that matters. The first object with an error is
// named; the others with the same error are counted by finish() (or the
// destructor). Only the first 10,000 distinct texts are counted; later new
// texts are still printed, each time.
class ErrorLines
{
public:
  explicit ErrorLines(std::ostream& out);
  ErrorLines(const ErrorLines&) = delete;
  ErrorLines& operator=(const ErrorLines&) = delete;
  ~ErrorLines();

  // Prints "hlmctl: error: OBJECT: ERROR" the first time ERROR is seen.
  void add(const std::string& object, const std::string& error);
  // Prints "hlmctl: error: ERROR (also for N more replicas)" for each repeated
  // text, once; later calls print nothing.
  void finish();

private:
  static constexpr std::size_t k_max_texts = 10'000;
  std::ostream& m_out;
  std::map<std::string, std::size_t> m_repeats; // error text → further occurrences
  bool m_finished = false;
};

} // namespace hlm::ctl
