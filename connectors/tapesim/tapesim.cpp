#include <hlm/diskfile/metadata.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <connectors/tapesim/file_io.hpp>
#include <connectors/tapesim/library.hpp>
#include <connectors/tapesim/rebuild.hpp>
#include <connectors/tapesim/schedule.hpp>
#include <connectors/tapesim/tape_record.hpp>
#include <connectors/tapesim/tapesim.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <thread>

namespace hlm::connector::tapesim {

namespace {

enum class Release { keep, punch };

struct Config
{
  LibraryOptions library;
  Release release = Release::keep;
  ObjectState recall_state = ObjectState::premigrated;
  double time_scale = 0; // real seconds slept per simulated second
};

// Index updates are committed in groups this large: a crash loses at most
// one group's bookkeeping (the bytes are on the cartridge, unindexed, and
// the disk copies untouched), and a large batch does not pay a sync each.
constexpr std::size_t k_commit_group = 256;

// The most slots or drives a library may have.
constexpr long long k_max_count = 100'000;

Config
parse_config(Settings& settings)
{
  const auto count = [&](std::string_view key, std::size_t fallback) {
    return static_cast<std::size_t>(
      settings.count(key, static_cast<long long>(fallback), k_max_count));
  };
  const auto seconds = [&](std::string_view key, double fallback) {
    return settings.real(key, fallback, Settings::Minimum::zero);
  };
  Config config;
  auto& lib = config.library;
  lib.root = settings.take_or("library", "/var/lib/hlm/tapesim");
  lib.pool = settings.take_or("pool", "pool1");
  if (lib.pool.empty() || !is_valid_utf8(lib.pool)) {
    settings.reject("pool", lib.pool, "a pool name");
  }
  lib.cartridge_capacity = settings.size("cartridge_capacity", lib.cartridge_capacity);
  lib.slots = count("slots", lib.slots);
  lib.drives = count("drives", lib.drives);
  auto& t = lib.timing;
  t.robot_exchange_seconds = seconds("robot_exchange_seconds", t.robot_exchange_seconds);
  t.load_seconds = seconds("load_seconds", t.load_seconds);
  t.locate_average_seconds = seconds("locate_average_seconds", t.locate_average_seconds);
  t.rewind_average_seconds = seconds("rewind_average_seconds", t.rewind_average_seconds);
  t.unload_seconds = seconds("unload_seconds", t.unload_seconds);
  t.bytes_per_second =
    1e6 * settings.real("drive_rate_mb", t.bytes_per_second / 1e6, Settings::Minimum::above_zero);
  config.time_scale = seconds("time_scale", 0);
  config.release = settings.choice("release",
                                   Release::keep,
                                   {{"keep", Release::keep}, {"punch", Release::punch}});
  config.recall_state = settings.choice(
    "recall_state",
    ObjectState::premigrated,
    {{"premigrated", ObjectState::premigrated}, {"resident", ObjectState::resident}});
  return config;
}

// tapesim's messages have always named the section first (`[hlm:tapesim]
// in FILE: drives = "0": expected ...`); the reader names it after the
// value, so its refusals are reworded here.
Config
parse_config_section_first(Settings& settings)
{
  try {
    return parse_config(settings);
  } catch (const SettingError& e) {
    throw ConfigError(fmt::format("{}: {} = \"{}\": expected {}",
                                  settings.origin(),
                                  e.key(),
                                  printable(e.value()),
                                  e.expected()));
  }
}

// What the handler says of a replica with no file, kept for one missing
// here and not on tape either.
constexpr std::string_view k_not_on_device = "object is not on this device";

Outcome
failure(ObjectState state, std::string message)
{
  return {state, make_failure(FailureKind::backend, fmt::format("tapesim: {}", message))};
}

// A replica without a file that could not be rebuilt: missing when tape has
// no copy either, a backend failure otherwise.
Outcome
not_rebuilt(const std::string& message)
{
  return Outcome::failed(message,
                         message == k_not_on_device ? FailureKind::missing : FailureKind::backend);
}

// Test hook: with HLM_TAPESIM_FAULT=<point> in the environment, the
// process dies (_exit 86, as a SIGKILL would leave it) when it reaches that
// point, so tests can stop a migrate or recall between any two steps.
void
fault_point(std::string_view point)
{
  const char* fault = std::getenv("HLM_TAPESIM_FAULT");
  if (fault && point == fault) {
    ::_exit(86);
  }
}

// One connector call holding the library: the drives as the last call
// left them, the index changes not yet committed, and the cost so far.
class Call
{
public:
  Call(Library& library, double time_scale)
    : m_library(library),
      m_hold(library.hold()),
      m_start(library.clock()),
      m_drives(library.options().timing, library.load_drives(), m_start),
      m_time_scale(time_scale),
      m_real_start(std::chrono::steady_clock::now())
  {
  }

  Drives&
  drives()
  {
    return m_drives;
  }

  // With time_scale set, sleeps until the real time since the call began
  // is time_scale × the simulated time the call has taken so far (the
  // drives work in parallel, so that is their makespan).
  void
  pace() const
  {
    if (m_time_scale > 0) {
      std::this_thread::sleep_until(
        m_real_start
        + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(m_drives.makespan() * m_time_scale)));
    }
  }

  // Queues an index update for the next commit.
  void
  queue(std::function<void()> update)
  {
    m_updates.push_back(std::move(update));
  }

  bool
  group_full() const
  {
    return m_updates.size() >= k_commit_group;
  }

  // Runs before every commit: what must be durable before the index may
  // say so.
  void
  before_commit(std::function<void()> hook)
  {
    m_before_commit = std::move(hook);
  }

  // Commits the queued updates in one transaction. Throws hlm::Error when
  // the index cannot be written: nothing queued is then applied, and the
  // caller must not act as if it were.
  void
  commit()
  {
    write({});
  }

  // Commits what is left and records the call's cost.
  void
  finish(std::string_view operation, std::size_t items, std::size_t failed)
  {
    write([&] {
      m_library.record_call(operation, items, failed, m_drives.total(), m_drives.makespan());
    });
  }

private:
  Library& m_library;
  Library::Hold m_hold;
  double m_start;
  Drives m_drives;
  double m_time_scale;
  std::chrono::steady_clock::time_point m_real_start;
  std::vector<std::function<void()>> m_updates;
  std::function<void()> m_before_commit;

  // One transaction: the queued updates, the drives and clock, and `also`.
  void
  write(const std::function<void()>& also)
  {
    if (m_updates.empty() && !also) {
      return;
    }
    if (m_before_commit) {
      m_before_commit();
    }
    sqlite::Transaction transaction(m_library.index());
    for (const auto& update : m_updates) {
      update();
    }
    m_library.save_drives(m_drives.states(), m_start + m_drives.makespan());
    if (also) {
      also();
    }
    transaction.commit();
    m_updates.clear();
  }
};

std::size_t
count_failed(const std::vector<Outcome>& outcomes)
{
  return static_cast<std::size_t>(
    std::count_if(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return !o.ok(); }));
}

// The items' indexes in the order of the index's key (the file, or for a
// missing one the hash directory it belongs in): looked up in that order,
// consecutive lookups share B-tree pages in sqlite's page cache, where in
// the batch's order (the listing's, random over the index) nearly every
// one reads a page from the file.
std::vector<std::size_t>
index_order(std::span<const Item> items)
{
  const auto key = [&](std::size_t i) -> const std::string& {
    return items[i].file.empty() ? items[i].object_dir : items[i].file;
  };
  std::vector<std::size_t> order(items.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return key(a) < key(b);
  });
  return order;
}

// The node a replica's file is on, as the writer of its tape copy: this
// host and the devices directory above the replica's device
// (<devices>/<device>/objects[-N]/...), so object servers of one host with
// their own devices directories (a test cluster) are writers of their own.
std::string
writer_of(const std::string& file)
{
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) {
    host[0] = '\0';
  }
  const std::filesystem::path path(file);
  for (auto dir = path.parent_path(); dir.has_relative_path(); dir = dir.parent_path()) {
    const auto name = dir.filename().string();
    if (name == "objects" || name.starts_with("objects-")) {
      return fmt::format("{}:{}", host.data(), dir.parent_path().parent_path().string());
    }
  }
  return host.data();
}

// The lowest copy set (from 1) in neither `taken` nor `also`.
std::int64_t
free_copy_set(const std::set<std::int64_t>& taken, const std::set<std::int64_t>& also)
{
  std::int64_t set = 1;
  while (taken.contains(set) || also.contains(set)) {
    ++set;
  }
  return set;
}

// The drive an append to `barcode` goes to (the one holding it, else the
// one pick_drive_for_mount gives): mounts it there and charges writing
// `length` bytes at `position`. Migrate and its estimate both use it.
void
charge_append(Drives& drives,
              const std::string& barcode,
              std::uint64_t position,
              std::uint64_t length)
{
  const auto drive = drives.holding(barcode).value_or(drives.pick_drive_for_mount());
  drives.mount(drive, barcode);
  drives.access(drive, position, length);
}

// Mounts a run's cartridge in the drive that reads it (the one holding it,
// else the one plan_reads chose) and returns that drive. Recall and its
// estimate both use it.
std::size_t
mount_run(Drives& drives, const CartridgeRun& run)
{
  const auto drive = drives.holding(run.cartridge).value_or(run.drive);
  drives.mount(drive, run.cartridge);
  return drive;
}

// A replica's tape record before it is written: the header, encoded, and
// the .data file it takes the data from.
struct Record
{
  File source; // open for reading
  TapeRecordHeader header;
  std::string encoded;
  std::uint64_t length = 0; // of the data
  std::string etag;         // as the Swift metadata has it
};

// The record of `item`. Throws hlm::Error when the replica has no ETag, its
// file cannot be opened, or it cannot be described.
Record
describe(const Item& item)
{
  const auto metadata = diskfile::read_object_metadata(item.file);
  const auto etag = metadata.etag();
  if (!etag) {
    throw Error(fmt::format("\"{}\" has no ETag in its Swift metadata", item.file));
  }
  Record record{File(item.file, O_RDONLY), {}, {}, 0, *etag};
  record.length = record.source.size();
  auto& header = record.header;
  header.object = item.object;
  header.data_file = std::filesystem::path(item.file).filename().string();
  header.data_length = record.length;
  // The header goes first, so it carries the MD5 the data must have; the
  // copy checks the data against it.
  header.data_md5 = to_lower(*etag);
  header.xattrs = record.source.xattrs("user.swift.");
  try {
    record.encoded = encode_header(header);
  } catch (const InputError& e) {
    throw Error(
      fmt::format("cannot describe {} on tape ({}); not migrated", item.object, e.what()));
  }
  return record;
}

// What a recall of `item` reads, from its lookup: the copy's data, or for
// a missing .data file the whole record (header and data); nothing when
// there is no copy, the lookup failed, or the data is on disk already.
std::optional<Extent>
extent_to_read(const Item& item, const std::optional<TapeCopy>& copy, bool failed)
{
  if (failed || !copy) {
    return std::nullopt;
  }
  if (item.file.empty()) {
    const auto start = copy->header_position.value_or(copy->position);
    return Extent{copy->cartridge, start, copy->position + copy->length - start};
  }
  if (copy->state == ObjectState::premigrated && !copy->released) {
    return std::nullopt;
  }
  return Extent{copy->cartridge, copy->position, copy->length};
}

// What estimates in this process planned on a library and did not do: the
// drives and clock they left it with, and for migrate the cartridges they
// filled and the copy sets they gave objects. The next estimate of the
// library starts there, as the next call would start where the last one
// left the library; unless a real call changed the library's drives or
// clock since the chain began, when it starts from the real state again (a
// call that used no drive, such as a migrate of copies already on tape,
// leaves the chain going). Copies are not carried: a chained estimate sees
// the copies the index holds, not those an earlier estimate planned to
// write or recall, so two estimates of one batch both count it.
struct Planned
{
  double real_clock = 0;               // the library's clock when the chain began
  std::vector<DriveState> real_drives; // and its drives
  double clock = 0;
  std::vector<DriveState> drives;
  PlannedCartridges cartridges;
  std::map<std::string, std::set<std::int64_t>> copy_sets; // by object
};

bool
same_drives(const std::vector<DriveState>& a, const std::vector<DriveState>& b)
{
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.cartridge == y.cartridge && x.position == y.position && x.last_used == y.last_used;
  });
}

// The chains of this process, by library (its index's path). The handler
// calls connectors from one thread; the lock keeps the map whole should
// other threads estimate too (their estimates then chain in any order).
class PlannedLibraries
{
public:
  static PlannedLibraries&
  instance()
  {
    static PlannedLibraries libraries;
    return libraries;
  }

  // Where the next estimate of `library` starts: the chain's state, or
  // the library's own when there is no chain or a real call has moved it.
  Planned
  start(const std::string& library, double real_clock, std::vector<DriveState> real_drives)
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_chains.find(library);
    if (it != m_chains.end() && it->second.real_clock == real_clock
        && same_drives(it->second.real_drives, real_drives)) {
      return it->second;
    }
    Planned fresh;
    fresh.real_clock = real_clock;
    fresh.clock = real_clock;
    fresh.drives = real_drives;
    fresh.real_drives = std::move(real_drives);
    return fresh;
  }

  void
  save(const std::string& library, Planned planned)
  {
    const std::lock_guard lock(m_mutex);
    m_chains[library] = std::move(planned);
  }

private:
  std::mutex m_mutex;
  std::map<std::string, Planned> m_chains;
};

class TapesimConnector final : public Connector
{
public:
  explicit TapesimConnector(Config config)
    : m_config(std::move(config)),
      m_library(m_config.library)
  {
  }

  bool
  can_rebuild() const override
  {
    return true;
  }

private:
  std::vector<Outcome>
  apply(Operation operation, std::span<const Item> items) override
  {
    switch (operation) {
    case Operation::migrate:
      return migrate(items);
    case Operation::recall:
      return recall(items);
    case Operation::status:
      break;
    }
    return status(items);
  }

  // One migrate call's work in progress.
  struct MigrateCall
  {
    MigrateCall(Library& library, double time_scale, std::span<const Item> to_migrate, bool release)
      : call(library, time_scale),
        items(to_migrate),
        outcomes(to_migrate.size()),
        punch(release)
    {
    }

    Call call;
    std::span<const Item> items;
    std::vector<Outcome> outcomes;
    bool punch;
    // Items whose index entry says released but whose disk copy still
    // holds data: punched once every index change is committed.
    std::vector<std::size_t> to_release;
    std::map<std::string, File> cartridges;
    // Copies written since the cartridges were last synced: indexed only
    // after the sync, so the index never points at bytes a crash could
    // lose.
    std::vector<std::pair<std::size_t, TapeCopy>> written;
    // Per object, the copy sets this call wrote to (not yet indexed).
    std::map<std::string, std::set<std::int64_t>> copy_sets;
  };

  // One recall call's work in progress.
  struct RecallCall
  {
    RecallCall(Library& library, double time_scale, std::span<const Item> to_recall)
      : call(library, time_scale),
        items(to_recall),
        outcomes(to_recall.size())
    {
    }

    Call call;
    std::span<const Item> items;
    std::vector<Outcome> outcomes;
    // Replicas written back or found on disk, whose index change waits for
    // the next commit; their outcomes are set only once it is committed.
    std::vector<std::size_t> settled;
    std::vector<File> unsynced; // written back, not yet synced
    std::vector<Extent> extents;
    std::vector<std::pair<std::size_t, TapeCopy>> reads; // item index, copy; parallel to extents
  };

  // estimate(): what migrate or recall would cost now, simulated on the
  // drives where the last estimate of this library in the process left
  // them (Planned), with the calls' own scheduling and timing. Reads the
  // index, the replicas' metadata and the cartridges' sizes; writes
  // nothing.
  std::optional<Estimate> plan(Operation operation, std::span<const Item> items) override;
  // Recall: the copies' extents (look_up, extent_to_read), read as
  // recall's read_run reads them, in plan_reads' order.
  Estimate plan_recall(Planned& planned, std::span<const Item> items);
  // Migrate: the replicas not on tape yet, appended as write_to_tape
  // appends them. Differs from the call where a write would fail after
  // the drives worked: a disk copy that does not match its ETag (the call
  // charges the drive time, then takes the bytes off the cartridge, so
  // later copies land earlier than planned), or a write error.
  Estimate plan_migrate(Planned& planned, std::span<const Item> items);
  // One replica of plan_migrate: adds its append to `drives` and
  // `planned`, returns the cartridge it goes to. Throws hlm::Error where
  // migrate would fail the item before any drive work.
  std::string plan_append(Planned& planned, Drives& drives, const Item& item);
  // The key of this connector's library among the chains: its index's path.
  std::string library_key() const;

  std::vector<Outcome> migrate(std::span<const Item> items);
  // Migrates item `i`: an index change for a copy already on tape, else a
  // new copy on tape, indexed with its group.
  void migrate_item(MigrateCall& batch, std::size_t i);
  // Syncs the cartridges, then indexes the copies written since.
  void index_written(MigrateCall& batch);
  // Frees the disk copies of `to_release`, now that the index says so.
  void release_disk_copies(MigrateCall& batch);

  // A tape copy the index holds, or why there is none.
  struct Lookup
  {
    std::optional<TapeCopy> copy;
    std::optional<std::string> error;
  };

  std::vector<Outcome> recall(std::span<const Item> items);
  // Every item's tape copy (find, or find_lost for a missing file), read
  // in one read transaction before the call changes the index.
  std::vector<Lookup> look_up(std::span<const Item> items);
  // Settles item `i` at once (never on tape, already on disk) or queues
  // its tape copy's extent for reading.
  void plan_recall_item(RecallCall& batch, std::size_t i, Lookup found);
  // Reads one run's extents from its cartridge and writes them back.
  void read_run(RecallCall& batch, const CartridgeRun& run);
  // Queues the index change for item `i` (`file`: the item's, or the one
  // a rebuild recreated); commits when the group is full.
  void settle_recalled(RecallCall& batch, std::size_t i, const std::string& file);
  // Commits the queued changes, then gives their items their outcome.
  void commit_recalled(RecallCall& batch);

  // One read transaction for the batch: sqlite takes its lock (and checks
  // the journal and the file header) once per call, not once per item;
  // lookups in index order.
  std::vector<Outcome>
  status(std::span<const Item> items)
  {
    std::vector<Outcome> outcomes(items.size());
    sqlite::ReadTransaction transaction(m_library.index());
    for (const auto i : index_order(items)) {
      const auto& item = items[i];
      if (item.file.empty()) {
        const auto copy = find_lost(item);
        outcomes[i] = copy.error ? not_rebuilt(*copy.error)
                                 : Outcome{ObjectState::migrated, std::nullopt};
        continue;
      }
      const auto copy = m_library.find(item.file);
      outcomes[i] = {copy ? copy->state : ObjectState::resident, std::nullopt};
    }
    transaction.commit();
    return outcomes;
  }

  // Each item's copy (the extent a recall would read) and whether its
  // cartridge is in a drive, from the index and the drive table in one
  // read transaction, as status reads them. No mount, no library hold: a
  // placement is a hint that a concurrent call may make stale.
  std::vector<std::optional<Placement>> placements(std::span<const Item> items) override;

  // The tape copy to rebuild a missing replica (`item.file` empty) from,
  // or why there is none.
  Lookup find_lost(const Item& item);
  // Reads a missing replica's tape record and recreates its file.
  Outcome rebuild_from_tape(const Item& item, const TapeCopy& copy, const File& cartridge);

  // Appends the replica's bytes to a cartridge of the pool (opened into
  // `cartridges` on first use) and returns its copy, not yet indexed.
  // `stream` says which cartridges (CopyStream).
  TapeCopy write_to_tape(Call& call,
                         const Item& item,
                         const CopyStream& stream,
                         std::map<std::string, File>& cartridges);
  // The stream a new copy of `item` goes to: the lowest copy set holding
  // no copy of its object yet, the writer of its file.
  CopyStream stream_for(MigrateCall& batch, const Item& item);
  // Checks a copy and writes it back to a released disk copy (left open in
  // `unsynced`, to be synced before the index changes).
  Outcome read_from_tape(const Item& item,
                         const TapeCopy& copy,
                         File& cartridge,
                         std::vector<File>& unsynced);

  Config m_config;
  Library m_library;
};

std::string
TapesimConnector::library_key() const
{
  std::error_code ec;
  const auto path = m_config.library.root / "index.sqlite";
  const auto canonical = std::filesystem::weakly_canonical(path, ec);
  return (ec ? path : canonical).string();
}

std::optional<Estimate>
TapesimConnector::plan(Operation operation, std::span<const Item> items)
{
  std::vector<DriveState> drives;
  double clock = 0;
  {
    // The drives and the clock as one call left them both.
    sqlite::ReadTransaction transaction(m_library.index());
    drives = m_library.load_drives();
    clock = m_library.clock();
    transaction.commit();
  }
  const auto key = library_key();
  auto planned = PlannedLibraries::instance().start(key, clock, std::move(drives));
  const auto estimate = operation == Operation::migrate ? plan_migrate(planned, items)
                                                        : plan_recall(planned, items);
  PlannedLibraries::instance().save(key, std::move(planned));
  return estimate;
}

namespace {

// An estimate from the drives' work, and the chain's next start.
Estimate
estimate_of(const Drives& drives, std::uint64_t items, std::size_t cartridges, Planned& planned)
{
  Estimate estimate;
  estimate.items = items;
  estimate.bytes = drives.total().bytes;
  estimate.cartridges = cartridges;
  estimate.mounts = drives.total().mounts;
  estimate.drive_seconds = drives.total().drive_seconds();
  estimate.wall_seconds = drives.makespan();
  // As Call saves them.
  planned.drives = drives.states();
  planned.clock += drives.makespan();
  return estimate;
}

} // namespace

Estimate
TapesimConnector::plan_recall(Planned& planned, std::span<const Item> items)
{
  const auto found = look_up(items);
  std::vector<Extent> extents;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (const auto extent = extent_to_read(items[i], found[i].copy, found[i].error.has_value())) {
      extents.push_back(*extent);
    }
  }
  Drives drives(m_library.options().timing, planned.drives, planned.clock);
  std::set<std::string> cartridges;
  for (const auto& run : plan_reads(extents, drives)) {
    const auto drive = mount_run(drives, run);
    cartridges.insert(run.cartridge);
    for (const std::size_t k : run.extents) {
      drives.access(drive, extents[k].position, extents[k].length);
    }
  }
  return estimate_of(drives, extents.size(), cartridges.size(), planned);
}

Estimate
TapesimConnector::plan_migrate(Planned& planned, std::span<const Item> items)
{
  Drives drives(m_library.options().timing, planned.drives, planned.clock);
  std::set<std::string> cartridges;
  std::uint64_t written = 0;
  for (const auto& item : items) {
    if (item.file.empty()) {
      continue; // migrate fails it: not on this device
    }
    try {
      if (m_library.find(item.file)) {
        continue; // on tape already: only its state changes
      }
      cartridges.insert(plan_append(planned, drives, item));
      ++written;
    } catch (const Error&) {
      // migrate fails the item before any drive work
    }
  }
  return estimate_of(drives, written, cartridges.size(), planned);
}

std::string
TapesimConnector::plan_append(Planned& planned, Drives& drives, const Item& item)
{
  // As stream_for, with the copy sets earlier estimates (and this one)
  // gave the object standing in for the batch's.
  auto& sets = planned.copy_sets[item.object];
  const CopyStream stream{free_copy_set(m_library.copy_sets_of(item.object), sets),
                          writer_of(item.file)};
  const auto record = describe(item);
  const auto length = record.encoded.size() + record.length;
  auto choice = m_library.choose_cartridge(length, stream, planned.cartridges);
  charge_append(drives, choice.barcode, choice.used, length);
  if (choice.fresh) {
    planned.cartridges.added.push_back(
      {choice.barcode, m_library.options().pool, stream, m_library.options().cartridge_capacity});
  }
  planned.cartridges.appended[choice.barcode] += length;
  sets.insert(stream.copy_set);
  return std::move(choice.barcode);
}

std::vector<Outcome>
TapesimConnector::migrate(std::span<const Item> items)
{
  MigrateCall batch(m_library, m_config.time_scale, items, m_config.release == Release::punch);
  for (std::size_t i = 0; i < items.size(); ++i) {
    migrate_item(batch, i);
  }
  index_written(batch);
  // The index says released before any block is freed: a crash in between
  // leaves a replica that is on disk and on tape, and a recall rewrites it
  // with the same, verified bytes.
  batch.call.commit();
  release_disk_copies(batch);
  batch.call.finish("migrate", items.size(), count_failed(batch.outcomes));
  return std::move(batch.outcomes);
}

void
TapesimConnector::migrate_item(MigrateCall& batch, std::size_t i)
{
  const auto& item = batch.items[i];
  auto& outcome = batch.outcomes[i];
  if (item.file.empty()) {
    outcome = Outcome::failed(std::string(k_not_on_device), FailureKind::missing);
    return;
  }
  std::optional<TapeCopy> copy;
  try {
    copy = m_library.find(item.file);
  } catch (const Error& e) {
    outcome = failure(ObjectState::unknown, e.what());
    return;
  }
  if (copy) {
    // Already on tape (a repeated migrate, or one after a recall): only
    // the state changes. A disk copy freed before stays marked freed.
    const bool released = copy->released || batch.punch;
    batch.call.queue([this, file = item.file, released] {
      m_library.set_state(file, ObjectState::migrated, released);
    });
    outcome = {ObjectState::migrated, std::nullopt};
    if (batch.punch && !copy->released) {
      batch.to_release.push_back(i);
    }
    return;
  }
  try {
    const auto stream = stream_for(batch, item);
    batch.written.emplace_back(i, write_to_tape(batch.call, item, stream, batch.cartridges));
    batch.copy_sets[item.object].insert(stream.copy_set);
    fault_point("migrate-appended");
  } catch (const Error& e) {
    outcome = failure(ObjectState::resident, e.what());
  }
  if (batch.written.size() >= k_commit_group) {
    index_written(batch);
  }
}

void
TapesimConnector::index_written(MigrateCall& batch)
{
  if (batch.written.empty()) {
    return;
  }
  for (const auto& [barcode, cartridge] : batch.cartridges) {
    cartridge.sync();
  }
  fault_point("migrate-synced");
  for (const auto& [i, copy] : batch.written) {
    batch.call.queue(
      [this, file = batch.items[i].file, copy = copy] { m_library.put(file, copy); });
  }
  batch.call.commit(); // throws: the whole call fails, nothing punched
  fault_point("migrate-committed");
  for (const auto& [i, copy] : batch.written) {
    batch.outcomes[i] = {ObjectState::migrated, std::nullopt};
    if (batch.punch) {
      batch.to_release.push_back(i);
    }
  }
  batch.written.clear();
}

void
TapesimConnector::release_disk_copies(MigrateCall& batch)
{
  for (const std::size_t i : batch.to_release) {
    try {
      File(batch.items[i].file, O_WRONLY).punch_hole();
      fault_point("migrate-punched");
    } catch (const Error& e) {
      // Still on disk: say so in the index, so a retry punches again.
      batch.call.queue([this, file = batch.items[i].file] {
        m_library.set_state(file, ObjectState::migrated, false);
      });
      batch.outcomes[i] = failure(ObjectState::migrated,
                                  fmt::format("on tape, but the disk copy stays: {}", e.what()));
    }
  }
}

CopyStream
TapesimConnector::stream_for(MigrateCall& batch, const Item& item)
{
  const auto it = batch.copy_sets.find(item.object);
  return {free_copy_set(m_library.copy_sets_of(item.object),
                        it == batch.copy_sets.end() ? std::set<std::int64_t>() : it->second),
          writer_of(item.file)};
}

TapeCopy
TapesimConnector::write_to_tape(Call& call,
                                const Item& item,
                                const CopyStream& stream,
                                std::map<std::string, File>& cartridges)
{
  const auto record = describe(item);
  const auto length = record.length;
  const auto barcode = m_library.cartridge_for(record.encoded.size() + length, stream);
  auto it = cartridges.find(barcode);
  if (it == cartridges.end()) {
    it = cartridges.emplace(barcode, m_library.open_for_append(barcode)).first;
  }
  const File& cartridge = it->second;
  const auto header_position = cartridge.size();
  const auto position = header_position + record.encoded.size();

  charge_append(call.drives(), barcode, header_position, record.encoded.size() + length);
  call.pace();

  std::string md5;
  try {
    cartridge.write(header_position, record.encoded);
    md5 = record.source.copy(0, length, &cartridge, position);
  } catch (const Error&) {
    cartridge.truncate(header_position);
    throw;
  }
  if (md5 != record.header.data_md5) {
    cartridge.truncate(header_position);
    throw Error(fmt::format("the disk copy of {} does not match its ETag (MD5 {}, ETag {}); "
                            "not migrated",
                            item.object,
                            md5,
                            printable(record.etag)));
  }
  TapeCopy copy;
  copy.file = item.file;
  copy.object = item.object;
  copy.cartridge = barcode;
  copy.header_position = header_position;
  copy.position = position;
  copy.length = length;
  copy.md5 = md5;
  copy.state = ObjectState::migrated;
  copy.released = m_config.release == Release::punch;
  return copy;
}

std::vector<Outcome>
TapesimConnector::recall(std::span<const Item> items)
{
  RecallCall batch(m_library, m_config.time_scale, items);
  batch.call.before_commit([&batch] {
    for (const auto& file : batch.unsynced) {
      file.sync();
    }
    batch.unsynced.clear();
    fault_point("recall-synced");
  });
  auto found = look_up(items);
  for (std::size_t i = 0; i < items.size(); ++i) {
    plan_recall_item(batch, i, std::move(found[i]));
  }
  for (const auto& run : plan_reads(batch.extents, batch.call.drives())) {
    read_run(batch, run);
  }
  commit_recalled(batch);
  batch.call.finish("recall", items.size(), count_failed(batch.outcomes));
  return std::move(batch.outcomes);
}

std::vector<TapesimConnector::Lookup>
TapesimConnector::look_up(std::span<const Item> items)
{
  std::vector<Lookup> found(items.size());
  sqlite::ReadTransaction transaction(m_library.index());
  for (const auto i : index_order(items)) {
    if (items[i].file.empty()) {
      found[i] = find_lost(items[i]);
      continue;
    }
    try {
      found[i].copy = m_library.find(items[i].file);
    } catch (const Error& e) {
      found[i].error = e.what();
    }
  }
  transaction.commit();
  return found;
}

void
TapesimConnector::plan_recall_item(RecallCall& batch, std::size_t i, Lookup found)
{
  const auto& item = batch.items[i];
  auto& copy = found.copy;
  if (const auto extent = extent_to_read(item, copy, found.error.has_value())) {
    if (item.file.empty()) {
      copy->state = ObjectState::migrated; // its only copy now
    }
    batch.extents.push_back(*extent);
    batch.reads.emplace_back(i, std::move(*copy));
  } else if (found.error) {
    batch.outcomes[i] = item.file.empty() ? not_rebuilt(*found.error)
                                          : failure(ObjectState::unknown, *found.error);
  } else if (!copy) {
    batch.outcomes[i] = {ObjectState::resident, std::nullopt}; // never on tape
  } else {
    settle_recalled(batch, i, item.file); // already on disk
  }
}

void
TapesimConnector::read_run(RecallCall& batch, const CartridgeRun& run)
{
  Drives& drives = batch.call.drives();
  std::optional<File> cartridge;
  std::string cartridge_error;
  try {
    cartridge.emplace(m_library.cartridge_path(run.cartridge), O_RDONLY);
  } catch (const Error& e) {
    cartridge_error = e.what();
  }
  const auto drive = mount_run(drives, run);
  batch.call.pace();
  for (const std::size_t k : run.extents) {
    const auto& [i, copy] = batch.reads[k];
    const auto& item = batch.items[i];
    auto& outcome = batch.outcomes[i];
    // What the read covers: for a rebuild the whole record, header first.
    drives.access(drive, batch.extents[k].position, batch.extents[k].length);
    batch.call.pace();
    if (!cartridge) {
      outcome = failure(copy.state,
                        fmt::format("cartridge {}: {}", run.cartridge, cartridge_error));
      continue;
    }
    try {
      outcome = item.file.empty() ? rebuild_from_tape(item, copy, *cartridge)
                                  : read_from_tape(item, copy, *cartridge, batch.unsynced);
    } catch (const Error& e) {
      outcome = failure(copy.state, e.what());
    }
    if (outcome.ok()) {
      fault_point("recall-written");
      settle_recalled(batch, i, copy.file);
    }
  }
}

void
TapesimConnector::settle_recalled(RecallCall& batch, std::size_t i, const std::string& file)
{
  const bool to_resident = m_config.recall_state == ObjectState::resident;
  batch.call.queue([this, file, to_resident] {
    if (to_resident) {
      m_library.forget(file);
    } else {
      m_library.set_state(file, ObjectState::premigrated, false);
    }
  });
  batch.settled.push_back(i);
  if (batch.call.group_full()) {
    commit_recalled(batch);
  }
}

void
TapesimConnector::commit_recalled(RecallCall& batch)
{
  batch.call.commit(); // throws: the whole call fails
  for (const std::size_t i : batch.settled) {
    batch.outcomes[i] = {m_config.recall_state, std::nullopt};
  }
  batch.settled.clear();
}

std::vector<std::optional<Placement>>
TapesimConnector::placements(std::span<const Item> items)
{
  std::vector<std::optional<Placement>> placed(items.size());
  sqlite::ReadTransaction transaction(m_library.index());
  std::set<std::string> in_drives;
  for (const auto& drive : m_library.load_drives()) {
    if (drive.cartridge) {
      in_drives.insert(*drive.cartridge);
    }
  }
  for (const auto i : index_order(items)) {
    const auto& item = items[i];
    Placement placement;
    if (item.file.empty()) {
      const auto lost = find_lost(item);
      if (!lost.copy) {
        continue;
      }
      // A rebuild reads the whole record: header and data.
      const auto& copy = *lost.copy;
      placement.volume = copy.cartridge;
      placement.position = *copy.header_position;
      placement.length = copy.position + copy.length - *copy.header_position;
    } else {
      const auto copy = m_library.find(item.file);
      if (!copy) {
        continue; // never on tape
      }
      placement.volume = copy->cartridge;
      placement.position = copy->position;
      placement.length = copy->length;
      placement.on_disk = copy->state == ObjectState::premigrated && !copy->released;
    }
    placement.in_drive = in_drives.contains(placement.volume);
    placement.library = m_library.id();
    placed[i] = std::move(placement);
  }
  transaction.commit();
  return placed;
}

TapesimConnector::Lookup
TapesimConnector::find_lost(const Item& item)
{
  std::optional<TapeCopy> copy;
  try {
    copy = m_library.find_newest_in(item.object_dir);
  } catch (const Error& e) {
    return {std::nullopt, fmt::format("tapesim: {}", e.what())};
  }
  if (!copy || copy->object != item.object) {
    // Not on tape either (or the directory's copy is another object's,
    // which only a foreign devices tree could produce).
    return {std::nullopt, std::string(k_not_on_device)};
  }
  if (!copy->header_position) {
    return {std::nullopt,
            fmt::format("tapesim: the replica's .data file is missing and its tape copy (cartridge "
                        "{}) was written before tapesim recorded headers, so it cannot be "
                        "rebuilt: object is not on this device",
                        copy->cartridge)};
  }
  return {std::move(copy), std::nullopt};
}

Outcome
TapesimConnector::rebuild_from_tape(const Item& item, const TapeCopy& copy, const File& cartridge)
{
  std::uint64_t header_length = 0;
  const auto header = read_header(cartridge, *copy.header_position, header_length);
  const auto mismatch = [&](std::string_view what) {
    return failure(copy.state,
                   fmt::format("the tape record of {} on cartridge {} at byte {} does not match "
                               "the index ({}); nothing rebuilt",
                               item.object,
                               copy.cartridge,
                               *copy.header_position,
                               what));
  };
  if (header.object != item.object) {
    return mismatch(fmt::format("it holds \"{}\"", printable(header.object)));
  }
  if (*copy.header_position + header_length != copy.position || header.data_length != copy.length) {
    return mismatch("position or length");
  }
  if (header.data_md5 != copy.md5) {
    return mismatch(
      fmt::format("MD5 {} in the header, {} in the index", header.data_md5, copy.md5));
  }
  if (header.data_file != std::filesystem::path(copy.file).filename().string()) {
    return mismatch(fmt::format("file name \"{}\"", printable(header.data_file)));
  }
  rebuild_replica(cartridge, copy.position, header, item.object_dir);
  return {m_config.recall_state, std::nullopt};
}

Outcome
TapesimConnector::read_from_tape(const Item& item,
                                 const TapeCopy& copy,
                                 File& cartridge,
                                 std::vector<File>& unsynced)
{
  const auto md5 = cartridge.copy(copy.position, copy.length);
  if (md5 != copy.md5) {
    return failure(copy.state,
                   fmt::format("checksum mismatch on cartridge {} at byte {} ({} bytes of {}): "
                               "tape holds MD5 {}, migrate recorded {}; the object stays {}",
                               copy.cartridge,
                               copy.position,
                               copy.length,
                               item.object,
                               md5,
                               copy.md5,
                               to_string(copy.state)));
  }
  const auto etag = diskfile::read_object_metadata(item.file).etag();
  if (!etag || to_lower(*etag) != md5) {
    return failure(copy.state,
                   fmt::format("the tape copy of {} (MD5 {}) does not match the replica's ETag "
                               "({}); the object stays {}",
                               item.object,
                               md5,
                               etag ? printable(*etag) : "none",
                               to_string(copy.state)));
  }
  if (copy.released) {
    File disk(item.file, O_WRONLY);
    const auto written = cartridge.copy(copy.position, copy.length, &disk, 0);
    unsynced.push_back(std::move(disk));
    if (written != copy.md5) {
      // The disk copy now holds bytes that are not the object's; it held
      // none before (released), and the index still says released, so a
      // later recall writes it again.
      return failure(copy.state,
                     fmt::format("cartridge {} returned different bytes on a "
                                 "second read of {}; the object stays {}",
                                 copy.cartridge,
                                 item.object,
                                 to_string(copy.state)));
    }
  }
  return {m_config.recall_state, std::nullopt};
}

} // namespace

std::unique_ptr<Connector>
create(Settings& settings)
{
  return std::make_unique<TapesimConnector>(parse_config_section_first(settings));
}

} // namespace hlm::connector::tapesim
