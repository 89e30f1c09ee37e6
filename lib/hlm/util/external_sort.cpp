#include <hlm/util/error.hpp>
#include <hlm/util/external_sort.hpp>
#include <hlm/util/temp_file.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>

namespace hlm {

namespace {

constexpr std::size_t k_index_bytes = sizeof(std::pair<std::uint64_t, std::uint32_t>);

std::string
default_temp_dir()
{
  const char* dir = std::getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

[[noreturn]] void
fail(const std::string& what, int error)
{
  throw Error(fmt::format("{}: {}", what, std::strerror(error)));
}

} // namespace

// One sorted run in an unlinked temporary file: records as a 4-byte
// length and the bytes. Closing the stream frees the file.
struct ExternalSorter::Run
{
  explicit Run(const std::string& dir)
    : owner(unlinked_temporary_file("hlm-sort", dir)),
      file(owner.get())
  {
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  void
  write(std::string_view record)
  {
    const auto size = static_cast<std::uint32_t>(record.size());
    if (std::fwrite(&size, sizeof size, 1, file) != 1
        || std::fwrite(record.data(), 1, record.size(), file) != record.size()) {
      fail("cannot write a temporary file", errno);
    }
  }

  void
  rewind()
  {
    if (std::fflush(file) != 0) {
      fail("cannot write a temporary file", errno);
    }
    std::rewind(file);
  }

  // The next record into `current`; false at the end.
  bool
  next()
  {
    std::uint32_t size = 0;
    if (std::fread(&size, sizeof size, 1, file) != 1) {
      if (std::ferror(file)) {
        fail("cannot read a temporary file", errno);
      }
      return false;
    }
    current.resize(size);
    if (std::fread(current.data(), 1, size, file) != size) {
      fail("cannot read a temporary file", std::ferror(file) ? errno : EIO);
    }
    return true;
  }

  TemporaryFile owner;
  std::FILE* file = nullptr; // owner's
  std::string current;
};

ExternalSorter::ExternalSorter()
  : ExternalSorter(Options{})
{
}

ExternalSorter::ExternalSorter(Options options)
  : m_options(std::move(options))
{
  if (m_options.temp_dir.empty()) {
    m_options.temp_dir = default_temp_dir();
  }
  if (!m_options.key_of) {
    m_options.key_of = [](std::string_view record) { return record; };
  }
}

ExternalSorter::~ExternalSorter() = default;

std::string_view
ExternalSorter::record(std::size_t index) const
{
  const auto [offset, size] = m_index[index];
  return std::string_view(m_arena).substr(offset, size);
}

void
ExternalSorter::add(std::string_view record)
{
  if (m_finished) {
    throw Error("ExternalSorter::add after finish");
  }
  if (record.size() > UINT32_MAX) {
    throw Error("ExternalSorter: a record over 4 GiB");
  }
  if (m_arena.capacity() < m_options.run_bytes
      && m_arena.size() + record.size() > m_arena.capacity()) {
    // Growing by copies would hold the old and the new buffer at once:
    // reserve the run's size instead (pages are resident only once used).
    m_arena.reserve(m_options.run_bytes);
    m_index.reserve(m_options.run_bytes / (k_index_bytes + 16));
  }
  m_index.emplace_back(m_arena.size(), static_cast<std::uint32_t>(record.size()));
  m_arena.append(record);
  if (m_arena.size() + m_index.size() * k_index_bytes >= m_options.run_bytes) {
    spill();
  }
}

void
ExternalSorter::sort_run()
{
  std::sort(m_index.begin(), m_index.end(), [this](const auto& a, const auto& b) {
    return std::string_view(m_arena).substr(a.first, a.second)
           < std::string_view(m_arena).substr(b.first, b.second);
  });
}

void
ExternalSorter::spill()
{
  sort_run();
  auto run = std::make_unique<Run>(m_options.temp_dir);
  for (std::size_t i = 0; i < m_index.size(); ++i) {
    run->write(record(i));
  }
  m_runs.push_back(std::move(run));
  m_arena.clear(); // the capacity is kept for the next run
  m_index.clear();
}

std::size_t
ExternalSorter::spilled_runs() const
{
  return m_runs.size();
}

std::size_t
ExternalSorter::finish(const std::function<void(std::string_view)>& on_record)
{
  if (m_finished) {
    throw Error("ExternalSorter::finish called twice");
  }
  m_finished = true;
  std::size_t duplicates = 0;
  std::string last_key;
  bool first = true;
  const auto pass_on = [&](std::string_view rec) {
    const auto key = m_options.key_of(rec);
    if (!first && key == last_key) {
      ++duplicates;
      return;
    }
    first = false;
    last_key.assign(key);
    on_record(rec);
  };
  if (m_runs.empty()) {
    sort_run();
    for (std::size_t i = 0; i < m_index.size(); ++i) {
      pass_on(record(i));
    }
  } else {
    if (!m_index.empty()) {
      spill();
    }
    const auto greater = [this](std::size_t a, std::size_t b) {
      return m_runs[a]->current > m_runs[b]->current;
    };
    std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(greater)> heads(greater);
    for (std::size_t i = 0; i < m_runs.size(); ++i) {
      m_runs[i]->rewind();
      if (m_runs[i]->next()) {
        heads.push(i);
      }
    }
    while (!heads.empty()) {
      const auto i = heads.top();
      heads.pop();
      pass_on(m_runs[i]->current);
      if (m_runs[i]->next()) {
        heads.push(i);
      }
    }
  }
  m_runs.clear();
  std::string().swap(m_arena);
  std::vector<std::pair<std::uint64_t, std::uint32_t>>().swap(m_index);
  return duplicates;
}

} // namespace hlm
