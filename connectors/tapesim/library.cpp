#include <hlm/util/error.hpp>

#include <connectors/tapesim/library.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace hlm::connector::tapesim {

namespace {

constexpr std::string_view k_owner = "tapesim connector";

// Adds `column` to `table` when an older index lacks it.
void
add_column(sqlite::Database& db,
           std::string_view table,
           std::string_view column,
           std::string_view definition)
{
  const auto sql = fmt::format("SELECT name FROM pragma_table_info('{}')", table);
  sqlite::Statement columns(db, sql.c_str());
  while (columns.step()) {
    if (columns.column_text(0) == column) {
      return;
    }
  }
  db.exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", table, column, definition).c_str());
}

void
create_schema(sqlite::Database& db)
{
  db.exec("CREATE TABLE IF NOT EXISTS cartridges ("
          " barcode TEXT PRIMARY KEY,"
          " pool TEXT NOT NULL,"
          " capacity INTEGER NOT NULL)");
  db.exec("CREATE TABLE IF NOT EXISTS objects ("
          " file TEXT PRIMARY KEY,"
          " object TEXT NOT NULL,"
          " cartridge TEXT NOT NULL REFERENCES cartridges (barcode),"
          " position INTEGER NOT NULL,"
          " length INTEGER NOT NULL,"
          " md5 TEXT NOT NULL,"
          " state TEXT NOT NULL CHECK (state IN ('premigrated', 'migrated')),"
          " released INTEGER NOT NULL DEFAULT 0,"
          " header_position INTEGER)");
  // Indexes written before copies had headers: their copies keep NULL.
  add_column(db, "objects", "header_position", "INTEGER");
  // Indexes written before copy sets and writers: their cartridges are
  // copy set 1 of no particular writer.
  add_column(db, "cartridges", "copy_set", "INTEGER NOT NULL DEFAULT 1");
  add_column(db, "cartridges", "writer", "TEXT NOT NULL DEFAULT ''");
  db.exec("CREATE INDEX IF NOT EXISTS objects_by_object ON objects (object)");
  db.exec("CREATE TABLE IF NOT EXISTS drives ("
          " id INTEGER PRIMARY KEY,"
          " cartridge TEXT,"
          " position INTEGER NOT NULL DEFAULT 0,"
          " last_used REAL NOT NULL DEFAULT 0)");
  db.exec("CREATE TABLE IF NOT EXISTS clock ("
          " id INTEGER PRIMARY KEY CHECK (id = 0),"
          " seconds REAL NOT NULL)");
  db.exec("INSERT OR IGNORE INTO clock (id, seconds) VALUES (0, 0)");
  // The library's identity, made once when its index is created: what
  // placements name it by, so that nodes sharing a library agree on it and
  // two libraries never do (their barcodes repeat).
  db.exec("CREATE TABLE IF NOT EXISTS identity ("
          " id INTEGER PRIMARY KEY CHECK (id = 0),"
          " library TEXT NOT NULL)");
  db.exec("INSERT OR IGNORE INTO identity (id, library) VALUES (0, lower(hex(randomblob(16))))");
  // What each call cost in simulated drive-seconds: the record benchmarks
  // and operators read.
  db.exec("CREATE TABLE IF NOT EXISTS calls ("
          " id INTEGER PRIMARY KEY AUTOINCREMENT,"
          " operation TEXT NOT NULL,"
          " items INTEGER NOT NULL,"
          " failed INTEGER NOT NULL,"
          " mounts INTEGER NOT NULL,"
          " bytes INTEGER NOT NULL,"
          " robot_seconds REAL NOT NULL,"
          " load_seconds REAL NOT NULL,"
          " locate_seconds REAL NOT NULL,"
          " transfer_seconds REAL NOT NULL,"
          " rewind_seconds REAL NOT NULL,"
          " unload_seconds REAL NOT NULL,"
          " drive_seconds REAL NOT NULL,"
          " elapsed_seconds REAL NOT NULL,"
          " at REAL NOT NULL DEFAULT (julianday('now')))");
}

std::filesystem::path
index_path(const LibraryOptions& options)
{
  std::error_code ec;
  std::filesystem::create_directories(options.root / "cartridges", ec);
  if (ec) {
    throw Error(fmt::format("{}: cannot create library \"{}\": {}",
                            k_owner,
                            options.root.string(),
                            ec.message()));
  }
  return options.root / "index.sqlite";
}

std::int64_t
as_int(std::uint64_t value)
{
  return static_cast<std::int64_t>(value);
}

} // namespace

Library::Library(LibraryOptions options)
  : m_options(std::move(options)),
    m_index(std::string(k_owner), index_path(m_options))
{
  m_options.timing.tape_length = m_options.cartridge_capacity;
  const auto lock = m_options.root / "lock";
  m_lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m_lock_fd < 0) {
    throw Error(
      fmt::format("{}: cannot open \"{}\": {}", k_owner, lock.string(), std::strerror(errno)));
  }
  m_index.exec("PRAGMA foreign_keys = ON");
  sqlite::Transaction transaction(m_index);
  create_schema(m_index);
  transaction.commit();
}

std::string
Library::id()
{
  if (m_id.empty()) {
    sqlite::Statement select(m_index, "SELECT library FROM identity WHERE id = 0");
    if (select.step()) {
      m_id = std::string(select.column_text(0));
    }
  }
  return m_id;
}

Library::~Library()
{
  if (m_lock_fd >= 0) {
    ::close(m_lock_fd);
  }
}

Library::Hold::Hold(int fd)
  : m_fd(fd)
{
}

Library::Hold::Hold(Hold&& other) noexcept
  : m_fd(other.m_fd)
{
  other.m_fd = -1;
}

Library::Hold::~Hold()
{
  if (m_fd >= 0) {
    ::flock(m_fd, LOCK_UN);
  }
}

Library::Hold
Library::hold()
{
  while (::flock(m_lock_fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      throw Error(fmt::format("{}: cannot lock \"{}\": {}",
                              k_owner,
                              (m_options.root / "lock").string(),
                              std::strerror(errno)));
    }
  }
  return Hold(m_lock_fd);
}

namespace {

constexpr const char* k_copy_columns =
  "file, object, cartridge, position, length, md5, state, released, header_position FROM objects";

TapeCopy
copy_from(sqlite::Statement& select)
{
  TapeCopy copy;
  copy.file = select.column_text(0);
  copy.object = select.column_text(1);
  copy.cartridge = select.column_text(2);
  copy.position = static_cast<std::uint64_t>(select.column_int(3));
  copy.length = static_cast<std::uint64_t>(select.column_int(4));
  copy.md5 = select.column_text(5);
  copy.state = parse_object_state(select.column_text(6)).value_or(ObjectState::unknown);
  copy.released = select.column_int(7) != 0;
  if (!select.column_is_null(8)) {
    copy.header_position = static_cast<std::uint64_t>(select.column_int(8));
  }
  return copy;
}

// Resets a kept statement when its caller is done with it, also on a
// throw: a statement left on a row would keep the index's lock.
class ResetAfter
{
public:
  explicit ResetAfter(sqlite::Statement& statement)
    : m_statement(statement)
  {
  }
  ~ResetAfter()
  {
    m_statement.reset();
  }
  ResetAfter(const ResetAfter&) = delete;
  ResetAfter& operator=(const ResetAfter&) = delete;

private:
  sqlite::Statement& m_statement;
};

} // namespace

sqlite::Statement&
Library::prepared(std::optional<sqlite::Statement>& slot, const std::string& sql)
{
  if (!slot) {
    slot.emplace(m_index, sql.c_str());
  }
  return *slot;
}

std::optional<TapeCopy>
Library::find(const std::string& file)
{
  auto& select = prepared(m_find, fmt::format("SELECT {} WHERE file = ?1", k_copy_columns));
  const ResetAfter reset(select);
  select.bind(1, file);
  if (!select.step()) {
    return std::nullopt;
  }
  return copy_from(select);
}

std::optional<TapeCopy>
Library::find_newest_in(const std::string& object_dir)
{
  // Every path below "<dir>/" sorts between "<dir>/" and "<dir>0" ('0'
  // follows '/'), so the primary key's index serves the range.
  const std::string low = object_dir + "/";
  const std::string high = object_dir + "0";
  auto& select = prepared(
    m_find_newest_in,
    fmt::format("SELECT {} WHERE file > ?1 AND file < ?2 AND file LIKE '%.data'"
                " ORDER BY file DESC",
                k_copy_columns));
  const ResetAfter reset(select);
  select.bind(1, low);
  select.bind(2, high);
  while (select.step()) {
    auto copy = copy_from(select);
    if (copy.file.find('/', low.size()) == std::string::npos) {
      return copy;
    }
  }
  return std::nullopt;
}

std::vector<TapeCopy>
Library::copies()
{
  sqlite::Statement select(m_index, fmt::format("SELECT {}", k_copy_columns).c_str());
  std::vector<TapeCopy> copies;
  while (select.step()) {
    copies.push_back(copy_from(select));
  }
  return copies;
}

void
Library::put(const std::string& file, const TapeCopy& copy)
{
  auto& insert = prepared(m_put,
                          "INSERT OR REPLACE INTO objects"
                          " (file, object, cartridge, position, length, md5, state, released,"
                          " header_position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  insert.bind(1, file);
  insert.bind(2, copy.object);
  insert.bind(3, copy.cartridge);
  insert.bind(4, as_int(copy.position));
  insert.bind(5, as_int(copy.length));
  insert.bind(6, copy.md5);
  insert.bind(7, to_string(copy.state));
  insert.bind(8, std::int64_t{copy.released ? 1 : 0});
  if (copy.header_position) {
    insert.bind(9, as_int(*copy.header_position));
  } else {
    insert.bind_null(9);
  }
  insert.run();
}

void
Library::set_state(const std::string& file, ObjectState state, bool released)
{
  auto& update = prepared(m_set_state,
                          "UPDATE objects SET state = ?2, released = ?3 WHERE file = ?1");
  update.bind(1, file);
  update.bind(2, to_string(state));
  update.bind(3, std::int64_t{released ? 1 : 0});
  update.run();
}

void
Library::forget(const std::string& file)
{
  auto& remove = prepared(m_forget, "DELETE FROM objects WHERE file = ?1");
  remove.bind(1, file);
  remove.run();
}

std::filesystem::path
Library::cartridge_path(const std::string& barcode) const
{
  return m_options.root / "cartridges" / barcode;
}

File
Library::open_for_append(const std::string& barcode)
{
  const auto path = cartridge_path(barcode);
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  File cartridge(path, O_RDWR | O_CREAT);
  if (!existed) {
    // The new name must survive a crash before any index entry points at
    // the file.
    File(path.parent_path(), O_RDONLY | O_DIRECTORY).sync();
  }
  return cartridge;
}

std::set<std::int64_t>
Library::copy_sets_of(const std::string& object)
{
  auto& select = prepared(m_copy_sets,
                          "SELECT DISTINCT c.copy_set FROM objects o"
                          " JOIN cartridges c ON c.barcode = o.cartridge WHERE o.object = ?1");
  const ResetAfter reset(select);
  select.bind(1, object);
  std::set<std::int64_t> sets;
  while (select.step()) {
    sets.insert(select.column_int(0));
  }
  return sets;
}

std::string
Library::cartridge_for(std::uint64_t length, const CopyStream& stream)
{
  auto choice = choose_cartridge(length, stream);
  if (choice.fresh) {
    sqlite::Statement insert(m_index,
                             "INSERT INTO cartridges (barcode, pool, capacity, copy_set, writer)"
                             " VALUES (?1, ?2, ?3, ?4, ?5)");
    insert.bind(1, choice.barcode);
    insert.bind(2, m_options.pool);
    insert.bind(3, as_int(m_options.cartridge_capacity));
    insert.bind(4, stream.copy_set);
    insert.bind(5, stream.writer);
    insert.run();
  }
  return std::move(choice.barcode);
}

CartridgeChoice
Library::choose_cartridge(std::uint64_t length,
                          const CopyStream& stream,
                          const PlannedCartridges& planned)
{
  if (length > m_options.cartridge_capacity) {
    throw Error(fmt::format("object of {} bytes is larger than a cartridge ({} bytes)",
                            length,
                            m_options.cartridge_capacity));
  }
  if (const auto newest = newest_cartridge(stream, planned)) {
    const auto& [barcode, capacity] = *newest;
    const auto appended = planned.appended.find(barcode);
    const auto used = used_bytes(barcode)
                      + (appended == planned.appended.end() ? 0 : appended->second);
    if (used + length <= capacity) {
      return {barcode, false, used};
    }
  }

  sqlite::Statement count(m_index, "SELECT count(*) FROM cartridges");
  count.step();
  const auto cartridges = static_cast<std::size_t>(count.column_int(0)) + planned.added.size();
  if (cartridges >= m_options.slots) {
    throw Error(fmt::format("pool \"{}\" is full: all {} slots of library \"{}\" hold "
                            "cartridges, none with {} bytes free",
                            m_options.pool,
                            m_options.slots,
                            m_options.root.string(),
                            length));
  }
  // Six-character volume serials with the LTO-9 suffix, as on real labels.
  return {fmt::format("{:06}L9", cartridges + 1), true, 0};
}

std::optional<std::pair<std::string, std::uint64_t>>
Library::newest_cartridge(const CopyStream& stream, const PlannedCartridges& planned)
{
  const auto added = std::find_if(planned.added.rbegin(),
                                  planned.added.rend(),
                                  [&](const auto& cartridge) {
                                    return cartridge.pool == m_options.pool
                                           && cartridge.stream.copy_set == stream.copy_set
                                           && cartridge.stream.writer == stream.writer;
                                  });
  if (added != planned.added.rend()) {
    return std::pair(added->barcode, added->capacity);
  }
  // The newest cartridge of the pool: earlier ones are full, or nearly,
  // and appending stays on one cartridge as long as it can.
  sqlite::Statement select(m_index,
                           "SELECT barcode, capacity FROM cartridges"
                           " WHERE pool = ?1 AND copy_set = ?2 AND writer = ?3"
                           " ORDER BY rowid DESC LIMIT 1");
  select.bind(1, m_options.pool);
  select.bind(2, stream.copy_set);
  select.bind(3, stream.writer);
  if (!select.step()) {
    return std::nullopt;
  }
  return std::pair(std::string(select.column_text(0)),
                   static_cast<std::uint64_t>(select.column_int(1)));
}

std::uint64_t
Library::used_bytes(const std::string& barcode)
{
  std::error_code ec;
  const auto path = cartridge_path(barcode);
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec) {
    return size;
  }
  sqlite::Statement copies(m_index, "SELECT count(*) FROM objects WHERE cartridge = ?1");
  copies.bind(1, barcode);
  copies.step();
  if (copies.column_int(0) > 0) {
    throw Error(fmt::format("cartridge {} holds {} indexed copies, but \"{}\": {}",
                            barcode,
                            copies.column_int(0),
                            path.string(),
                            ec.message()));
  }
  return 0; // created, nothing written yet
}

std::vector<DriveState>
Library::load_drives()
{
  std::vector<DriveState> drives(m_options.drives);
  sqlite::Statement select(m_index, "SELECT id, cartridge, position, last_used FROM drives");
  while (select.step()) {
    const auto id = select.column_int(0);
    if (id < 0 || static_cast<std::size_t>(id) >= drives.size()) {
      continue; // the config now has fewer drives; that cartridge went back to its slot
    }
    auto& drive = drives[static_cast<std::size_t>(id)];
    if (!select.column_is_null(1)) {
      drive.cartridge = std::string(select.column_text(1));
    }
    drive.position = static_cast<std::uint64_t>(select.column_int(2));
    drive.last_used = select.column_double(3);
  }
  return drives;
}

double
Library::clock()
{
  sqlite::Statement select(m_index, "SELECT seconds FROM clock WHERE id = 0");
  return select.step() ? select.column_double(0) : 0.0;
}

void
Library::save_drives(const std::vector<DriveState>& drives, double clock)
{
  m_index.exec("DELETE FROM drives");
  sqlite::Statement insert(m_index,
                           "INSERT INTO drives (id, cartridge, position, last_used)"
                           " VALUES (?1, ?2, ?3, ?4)");
  for (std::size_t i = 0; i < drives.size(); ++i) {
    insert.bind(1, static_cast<std::int64_t>(i));
    if (drives[i].cartridge) {
      insert.bind(2, *drives[i].cartridge);
    } else {
      insert.bind_null(2);
    }
    insert.bind(3, as_int(drives[i].position));
    insert.bind(4, drives[i].last_used);
    insert.run();
  }
  sqlite::Statement update(m_index, "UPDATE clock SET seconds = ?1 WHERE id = 0");
  update.bind(1, clock);
  update.run();
}

void
Library::record_call(std::string_view operation,
                     std::size_t items,
                     std::size_t failed,
                     const Cost& cost,
                     double elapsed)
{
  sqlite::Statement insert(
    m_index,
    "INSERT INTO calls (operation, items, failed, mounts, bytes, robot_seconds, load_seconds,"
    " locate_seconds, transfer_seconds, rewind_seconds, unload_seconds, drive_seconds,"
    " elapsed_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  insert.bind(1, operation);
  insert.bind(2, static_cast<std::int64_t>(items));
  insert.bind(3, static_cast<std::int64_t>(failed));
  insert.bind(4, as_int(cost.mounts));
  insert.bind(5, as_int(cost.bytes));
  insert.bind(6, cost.robot);
  insert.bind(7, cost.load);
  insert.bind(8, cost.locate);
  insert.bind(9, cost.transfer);
  insert.bind(10, cost.rewind);
  insert.bind(11, cost.unload);
  insert.bind(12, cost.drive_seconds());
  insert.bind(13, elapsed);
  insert.run();
}

Cost
Library::unload_all()
{
  const double now = clock();
  Drives drives(m_options.timing, load_drives(), now);
  for (std::size_t i = 0; i < drives.size(); ++i) {
    drives.dismount(i);
  }
  sqlite::Transaction transaction(m_index);
  save_drives(drives.states(), now + drives.makespan());
  record_call("unload", 0, 0, drives.total(), drives.makespan());
  transaction.commit();
  return drives.total();
}

Cost
Library::total_cost()
{
  sqlite::Statement select(m_index,
                           "SELECT total(mounts), total(bytes), total(robot_seconds),"
                           " total(load_seconds), total(locate_seconds), total(transfer_seconds),"
                           " total(rewind_seconds), total(unload_seconds) FROM calls");
  Cost cost;
  if (select.step()) {
    cost.mounts = static_cast<std::uint64_t>(select.column_double(0));
    cost.bytes = static_cast<std::uint64_t>(select.column_double(1));
    cost.robot = select.column_double(2);
    cost.load = select.column_double(3);
    cost.locate = select.column_double(4);
    cost.transfer = select.column_double(5);
    cost.rewind = select.column_double(6);
    cost.unload = select.column_double(7);
  }
  return cost;
}

} // namespace hlm::connector::tapesim
