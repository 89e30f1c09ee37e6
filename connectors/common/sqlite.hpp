#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace hlm::connector::sqlite {

// An open sqlite database, created (with its parent directory) when
// missing. Every failure throws hlm::Error as "<owner>: "<path>": <what
// sqlite said>", so a message names the connector and the file.
class Database
{
public:
  // `owner` prefixes messages, e.g. "dummy connector". Waits up to
  // `busy_timeout_ms` for a lock another process holds.
  Database(std::string owner, std::filesystem::path path, int busy_timeout_ms = 30'000);
  ~Database();

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows.
  void exec(const char* sql);

  sqlite3*
  handle()
  {
    return m_db;
  }

  // Throws the error sqlite reports for this database.
  [[noreturn]] void fail() const;

private:
  std::string m_owner;
  std::string m_path;
  sqlite3* m_db = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit()
// ran, so an exception leaves the database as it was.
class Transaction
{
public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

private:
  Database& m_db;
  bool m_done = false;
};

// BEGIN DEFERRED on construction: the reads up to commit() (or the
// destructor's ROLLBACK) see one snapshot and share one SHARED lock, taken
// at the first read, instead of taking and dropping it (and re-checking the
// journal and the file header) once per statement as autocommit does. A
// writer waits (busy_timeout) for the lock to go, so keep it to one batch.
// Reads only: a write inside would need the RESERVED lock, which another
// writer may hold while it waits for this reader, a deadlock sqlite
// reports as SQLITE_BUSY at once.
class ReadTransaction
{
public:
  explicit ReadTransaction(Database& db);
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

  // Ends the transaction. Does nothing when sqlite already ended it (it
  // rolls back by itself after some I/O and memory errors).
  void commit();

private:
  Database& m_db;
  bool m_done = false;
};

// A prepared statement; bind() indexes start at 1, column indexes at 0.
class Statement
{
public:
  Statement(Database& db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, std::string_view text);
  void bind(int index, std::int64_t value);
  void bind(int index, double value);
  void bind_null(int index);

  // True while a row is available; false when the statement is done.
  bool step();
  // Runs a statement that returns no rows, then resets it (also when it
  // fails).
  void run();

  std::string_view column_text(int index);
  std::int64_t column_int(int index);
  double column_double(int index);
  bool column_is_null(int index);

  // Ready for new bindings and a new step(). Until then a statement that
  // returned a row stays active: outside a transaction it keeps the
  // database's SHARED lock, so one kept for reuse must be reset after use.
  void reset();

private:
  void check(int rc);

  Database& m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

} // namespace hlm::connector::sqlite
