#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hlm {

// Sorts byte strings ("records") in bounded memory, for lists of any
// length (hlmctl's target lists). Records are kept in memory until they
// fill a run of `run_bytes`; a full run is sorted and written to an
// unlinked temporary file under `temp_dir`, and finish() merges the runs
// (k-way). A list that fits in one run never touches the disk.
//
// Order: unsigned byte order (memcmp, shorter first on a common prefix),
// which for UTF-8 is code point order and is the order of Swift's
// listings. Records with equal keys (`key_of`, the whole record by
// default) are passed on once: the first in that order.
class ExternalSorter
{
public:
  struct Options
  {
    std::size_t run_bytes = std::size_t{32} << 20;            // memory per run, records and index
    std::string temp_dir;                                     // empty: $TMPDIR, else /tmp
    std::function<std::string_view(std::string_view)> key_of; // empty: the whole record
  };

  ExternalSorter();
  explicit ExternalSorter(Options options);
  ~ExternalSorter();
  ExternalSorter(const ExternalSorter&) = delete;
  ExternalSorter& operator=(const ExternalSorter&) = delete;

  // Throws hlm::Error when a run cannot be written (temp_dir unwritable,
  // disk full), and after finish().
  void add(std::string_view record);

  // Calls `on_record` for each record with a distinct key, in byte order.
  // Returns how many records were dropped as duplicates. Once only; the
  // temporary files are closed (and so gone) when it returns, or when the
  // sorter is destroyed.
  std::size_t finish(const std::function<void(std::string_view)>& on_record);

  // Runs in temporary files now (0: all in memory so far; 0 after finish).
  std::size_t spilled_runs() const;

private:
  struct Run;
  void sort_run();
  void spill();
  std::string_view record(std::size_t index) const;

  Options m_options;
  std::string m_arena;                                          // the run's records, back to back
  std::vector<std::pair<std::uint64_t, std::uint32_t>> m_index; // offset, size
  std::vector<std::unique_ptr<Run>> m_runs;
  bool m_finished = false;
};

} // namespace hlm
