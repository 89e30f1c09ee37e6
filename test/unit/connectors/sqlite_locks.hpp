#pragma once

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace hlm::test {

// Whether another connection can take the database's EXCLUSIVE lock at
// once (no busy wait): false while any connection holds even a SHARED lock,
// e.g. an open read transaction or a statement left on a row.
inline bool
nobody_holds_a_lock(const std::filesystem::path& db)
{
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
  sqlite3_busy_timeout(handle, 0);
  const int rc = sqlite3_exec(handle, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    REQUIRE(sqlite3_exec(handle, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  sqlite3_close(handle);
  return rc == SQLITE_OK;
}

// Another process's writer: holds the database's EXCLUSIVE lock from
// construction (after running `sql` in it) until commit(), so neither
// readers nor writers get in meanwhile.
class ExclusiveWriter
{
public:
  ExclusiveWriter(const std::filesystem::path& db, const std::string& sql)
  {
    REQUIRE(sqlite3_open(db.c_str(), &m_handle) == SQLITE_OK);
    REQUIRE(sqlite3_exec(m_handle, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_exec(m_handle, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  ~ExclusiveWriter()
  {
    sqlite3_close(m_handle);
  } // rolls back unless committed
  ExclusiveWriter(const ExclusiveWriter&) = delete;
  ExclusiveWriter& operator=(const ExclusiveWriter&) = delete;

  void
  commit()
  {
    REQUIRE(sqlite3_exec(m_handle, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  }

private:
  sqlite3* m_handle = nullptr;
};

} // namespace hlm::test
