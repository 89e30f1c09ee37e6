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
  // Runs a statement that returns no rows, then resets it.
  void run();

  std::string_view column_text(int index);
  std::int64_t column_int(int index);
  double column_double(int index);
  bool column_is_null(int index);

  // Ready for new bindings and a new step().
  void reset();

private:
  void check(int rc);

  Database& m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

} // namespace hlm::connector::sqlite
