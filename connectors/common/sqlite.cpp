#include <hlm/util/error.hpp>

#include <connectors/common/sqlite.hpp>

#include <fmt/format.h>

#include <sqlite3.h>

namespace hlm::connector::sqlite {

Database::Database(std::string owner, std::filesystem::path path, int busy_timeout_ms)
  : m_owner(std::move(owner)),
    m_path(path.string())
{
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  // A connection is used by one thread at a time (a handler's connector
  // runs on its main thread): sqlite's own locking of each call (its
  // "serialized" mode) only costs time, a mutex taken and released around
  // every step.
  if (sqlite3_open_v2(m_path.c_str(),
                      &m_db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr)
      != SQLITE_OK) {
    const std::string message = m_db ? sqlite3_errmsg(m_db) : "out of memory";
    sqlite3_close(m_db);
    m_db = nullptr;
    throw Error(fmt::format("{}: cannot open \"{}\": {}", m_owner, m_path, message));
  }
  sqlite3_busy_timeout(m_db, busy_timeout_ms);
}

Database::~Database()
{
  sqlite3_close(m_db);
}

void
Database::exec(const char* sql)
{
  char* error = nullptr;
  if (sqlite3_exec(m_db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errmsg(m_db);
    sqlite3_free(error);
    throw Error(fmt::format("{}: \"{}\": {}", m_owner, m_path, message));
  }
}

void
Database::fail() const
{
  throw Error(fmt::format("{}: \"{}\": {}", m_owner, m_path, sqlite3_errmsg(m_db)));
}

Transaction::Transaction(Database& db)
  : m_db(db)
{
  m_db.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction()
{
  if (!m_done) {
    sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void
Transaction::commit()
{
  m_db.exec("COMMIT");
  m_done = true;
}

ReadTransaction::ReadTransaction(Database& db)
  : m_db(db)
{
  m_db.exec("BEGIN DEFERRED");
}

ReadTransaction::~ReadTransaction()
{
  if (!m_done && sqlite3_get_autocommit(m_db.handle()) == 0) {
    sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void
ReadTransaction::commit()
{
  if (sqlite3_get_autocommit(m_db.handle()) == 0) {
    m_db.exec("COMMIT");
  }
  m_done = true;
}

Statement::Statement(Database& db, const char* sql)
  : m_db(db)
{
  if (sqlite3_prepare_v2(db.handle(), sql, -1, &m_stmt, nullptr) != SQLITE_OK) {
    db.fail();
  }
}

Statement::~Statement()
{
  sqlite3_finalize(m_stmt);
}

void
Statement::bind(int index, std::string_view text)
{
  check(
    sqlite3_bind_text(m_stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
}

void
Statement::bind(int index, std::int64_t value)
{
  check(sqlite3_bind_int64(m_stmt, index, value));
}

void
Statement::bind(int index, double value)
{
  check(sqlite3_bind_double(m_stmt, index, value));
}

void
Statement::bind_null(int index)
{
  check(sqlite3_bind_null(m_stmt, index));
}

bool
Statement::step()
{
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc != SQLITE_DONE) {
    m_db.fail();
  }
  return false;
}

void
Statement::run()
{
  try {
    step();
  } catch (...) {
    reset();
    throw;
  }
  reset();
}

std::string_view
Statement::column_text(int index)
{
  const auto* text = sqlite3_column_text(m_stmt, index);
  return text ? std::string_view(reinterpret_cast<const char*>(text),
                                 static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, index)))
              : std::string_view();
}

std::int64_t
Statement::column_int(int index)
{
  return sqlite3_column_int64(m_stmt, index);
}

double
Statement::column_double(int index)
{
  return sqlite3_column_double(m_stmt, index);
}

bool
Statement::column_is_null(int index)
{
  return sqlite3_column_type(m_stmt, index) == SQLITE_NULL;
}

void
Statement::reset()
{
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

void
Statement::check(int rc)
{
  if (rc != SQLITE_OK) {
    m_db.fail();
  }
}

} // namespace hlm::connector::sqlite
