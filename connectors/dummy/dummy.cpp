#include <connectors/dummy/dummy.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <filesystem>

namespace hlm::connector::dummy {

namespace {

constexpr std::string_view k_default_db_path = "/var/lib/hlm/dummy.sqlite";

class Database
{
public:
  explicit Database(std::string path)
    : m_path(std::move(path))
  {
    const auto parent = std::filesystem::path(m_path).parent_path();
    std::error_code ec;
    if (!parent.empty()) {
      std::filesystem::create_directories(parent, ec);
    }
    if (sqlite3_open_v2(m_path.c_str(),
                        &m_db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr)
        != SQLITE_OK) {
      const std::string message = m_db ? sqlite3_errmsg(m_db) : "out of memory";
      sqlite3_close(m_db);
      throw Error(fmt::format("dummy connector: cannot open \"{}\": {}", m_path, message));
    }
    // Several handlers (one per object server) may share one database.
    sqlite3_busy_timeout(m_db, 30'000);
    exec("CREATE TABLE IF NOT EXISTS objects ("
         " file TEXT PRIMARY KEY,"
         " object TEXT NOT NULL,"
         " state TEXT NOT NULL CHECK (state IN ('resident','premigrated','migrated')))");
    // Every migrate and recall applied, in order: the record operators and
    // tests read to see what the backend was asked to do, and how often.
    exec("CREATE TABLE IF NOT EXISTS operations ("
         " id INTEGER PRIMARY KEY AUTOINCREMENT,"
         " file TEXT NOT NULL,"
         " object TEXT NOT NULL,"
         " operation TEXT NOT NULL,"
         " state TEXT NOT NULL,"
         " at REAL NOT NULL DEFAULT (julianday('now')))");
  }

  ~Database()
  {
    sqlite3_close(m_db);
  }

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void
  exec(const char* sql)
  {
    char* error = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : sqlite3_errmsg(m_db);
      sqlite3_free(error);
      throw Error(fmt::format("dummy connector: \"{}\": {}", m_path, message));
    }
  }

  sqlite3*
  handle()
  {
    return m_db;
  }

  const std::string&
  path() const
  {
    return m_path;
  }

private:
  std::string m_path;
  sqlite3* m_db = nullptr;
};

class Statement
{
public:
  Statement(Database& db, const char* sql)
    : m_db(db)
  {
    if (sqlite3_prepare_v2(db.handle(), sql, -1, &m_stmt, nullptr) != SQLITE_OK) {
      throw Error(fmt::format(
        "dummy connector: \"{}\": {}", db.path(), sqlite3_errmsg(db.handle())));
    }
  }

  ~Statement()
  {
    sqlite3_finalize(m_stmt);
  }

  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void
  bind(int index, std::string_view text)
  {
    check(sqlite3_bind_text(
      m_stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
  }

  // True while a row is available.
  bool
  step()
  {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc != SQLITE_DONE) {
      check(rc);
    }
    return false;
  }

  std::string_view
  column_text(int index)
  {
    const auto* text = sqlite3_column_text(m_stmt, index);
    return text ? reinterpret_cast<const char*>(text) : "";
  }

  void
  reset()
  {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
  }

private:
  void
  check(int rc)
  {
    if (rc != SQLITE_OK) {
      throw Error(fmt::format("dummy connector: \"{}\": {}",
                              m_db.path(),
                              sqlite3_errmsg(m_db.handle())));
    }
  }

  Database& m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

class DummyConnector final : public Connector
{
public:
  explicit DummyConnector(std::string db_path)
    : m_db(std::move(db_path))
  {
  }

  std::vector<Outcome>
  migrate(std::span<const Item> items) override
  {
    return transition(Operation::migrate, items, [](ObjectState) { return ObjectState::migrated; });
  }

  std::vector<Outcome>
  recall(std::span<const Item> items) override
  {
    return transition(Operation::recall, items, [](ObjectState state) {
      return state == ObjectState::migrated ? ObjectState::premigrated : state;
    });
  }

  std::vector<Outcome>
  status(std::span<const Item> items) override
  {
    std::vector<Outcome> outcomes;
    outcomes.reserve(items.size());
    Statement select(m_db, "SELECT state FROM objects WHERE file = ?1");
    for (const auto& item : items) {
      outcomes.push_back({lookup(select, item.file), std::nullopt});
    }
    return outcomes;
  }

private:
  ObjectState
  lookup(Statement& select, std::string_view file)
  {
    select.reset();
    select.bind(1, file);
    if (!select.step()) {
      return ObjectState::resident;
    }
    return parse_object_state(select.column_text(0)).value_or(ObjectState::unknown);
  }

  // One transaction per batch: a failure leaves the database as it was, so
  // a batch is either applied or reported as not done.
  template<typename Next>
  std::vector<Outcome>
  transition(Operation operation, std::span<const Item> items, Next next)
  {
    std::vector<Outcome> outcomes;
    outcomes.reserve(items.size());
    m_db.exec("BEGIN IMMEDIATE");
    try {
      Statement select(m_db, "SELECT state FROM objects WHERE file = ?1");
      Statement upsert(m_db,
                       "INSERT INTO objects (file, object, state) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT (file) DO UPDATE SET object = ?2, state = ?3");
      Statement record(m_db,
                       "INSERT INTO operations (file, object, operation, state)"
                       " VALUES (?1, ?2, ?3, ?4)");
      for (const auto& item : items) {
        const ObjectState state = next(lookup(select, item.file));
        upsert.reset();
        upsert.bind(1, item.file);
        upsert.bind(2, item.object);
        upsert.bind(3, to_string(state));
        upsert.step();
        record.reset();
        record.bind(1, item.file);
        record.bind(2, item.object);
        record.bind(3, to_string(operation));
        record.bind(4, to_string(state));
        record.step();
        outcomes.push_back({state, std::nullopt});
      }
      m_db.exec("COMMIT");
    } catch (...) {
      sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    return outcomes;
  }

  Database m_db;
};

} // namespace

std::unique_ptr<Connector>
create(Settings& settings)
{
  return std::make_unique<DummyConnector>(
    settings.take_or("db_path", k_default_db_path));
}

} // namespace hlm::connector::dummy
