#pragma once

#include <hlm/queue/entry.hpp>
#include <hlm/util/external_sort.hpp>

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace hlm::ctl {

// How many bad lines (and refused targets) hlmctl prints one by one
// before it only counts them.
constexpr std::size_t k_shown_problems = 20;

// Reads one target list (hlmctl migrate|recall -f) line by line, in
// constant memory: `on_target` for each line that is a target (parse_target),
// `on_bad` with the reason for each line that is not. Blank lines and
// comments (lines whose first non-blank character is '#') are skipped; a
// CR before the LF is dropped. Line numbers count from 1. Throws
// hlm::InputError (naming `name`) when the stream cannot be read.
void read_target_list(std::istream& in,
                      const std::string& name,
                      const std::function<void(queue::Target, std::uint64_t line)>& on_target,
                      const std::function<void(std::uint64_t line, std::string reason)>& on_bad);

// Where a target was given: a list's line, or (line 0) an argument.
struct TargetOrigin
{
  std::string list; // the list's name ("standard input" for "-")
  std::uint64_t line = 0;
};
// "LIST line N", or "argument".
std::string to_string(const TargetOrigin& origin);

struct BadLine
{
  std::string list;
  std::uint64_t line = 0;
  std::string reason;
};

// Every target hlmctl migrate or recall is given: the arguments, then each
// list file's lines ("-": `standard_input`), sorted by (account, container,
// object) in byte order (Swift's listing order) with duplicates dropped,
// in bounded memory (ExternalSorter: a long list is sorted in runs spilled
// to temporary files).
class TargetList
{
public:
  explicit TargetList(ExternalSorter::Options sort = {});

  // Reads the arguments, then the lists. `resolve` fills in a target's
  // account (an empty one is the caller's). Throws hlm::InputError for an
  // argument that is not a target, a list that cannot be read, and when
  // there is no target and no bad line at all, so that nothing is queued.
  // A list's bad lines are counted and kept (the first k_shown_problems).
  void read(const std::vector<std::string>& arguments,
            const std::vector<std::string>& files,
            std::istream& standard_input,
            const std::function<queue::Target(queue::Target)>& resolve);

  std::uint64_t
  targets_read() const
  {
    return m_targets;
  } // duplicates included
  std::uint64_t
  bad_lines() const
  {
    return m_bad;
  }
  const std::vector<BadLine>&
  shown_bad_lines() const
  {
    return m_shown;
  }

  // "hlmctl: error: LIST line N: REASON" for each shown bad line, then per
  // list with bad lines "hlmctl: error: N bad lines in LIST, not queued"
  // (with "; first 20 shown" when there were more).
  void report_bad_lines(std::ostream& err) const;

  // Each distinct target with where it was first given, sorted. Returns
  // how many duplicates were dropped. Once only.
  std::uint64_t for_each(
    const std::function<void(const queue::Target&, const TargetOrigin&)>& on_target);

private:
  void add(const queue::Target& target, std::uint32_t list, std::uint64_t line);
  void read_list(const std::string& file,
                 std::istream& standard_input,
                 const std::function<queue::Target(queue::Target)>& resolve);

  std::unique_ptr<ExternalSorter> m_sorter;
  std::vector<std::string> m_lists; // index 0: the arguments
  std::vector<std::uint64_t> m_bad_per_list;
  std::vector<BadLine> m_shown;
  std::uint64_t m_targets = 0;
  std::uint64_t m_bad = 0;
  std::string m_record;
};

} // namespace hlm::ctl
