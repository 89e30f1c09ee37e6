#include "../../support/temp_dir.hpp"
#include "../sqlite_locks.hpp"

#include <hlm/util/error.hpp>

#include <connectors/common/sqlite.hpp>

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

using namespace hlm;
using namespace hlm::connector;
using namespace std::chrono_literals;

namespace {

std::int64_t
count_rows(sqlite::Database& db)
{
  sqlite::Statement count(db, "SELECT count(*) FROM t");
  REQUIRE(count.step());
  return count.column_int(0);
}

} // namespace

TEST_CASE("sqlite::ReadTransaction holds the lock from its first read to commit or destruction",
          "[connector][sqlite]")
{
  test::TempDir dir;
  const auto path = dir.path() / "db.sqlite";
  sqlite::Database db("test", path);
  db.exec("CREATE TABLE t (x INTEGER)");

  {
    sqlite::ReadTransaction transaction(db);
    CHECK(sqlite3_get_autocommit(db.handle()) == 0);
    CHECK(test::nobody_holds_a_lock(path)); // deferred: no lock before a read
    CHECK(count_rows(db) == 0);
    CHECK_FALSE(test::nobody_holds_a_lock(path)); // SHARED, across statements
    CHECK(count_rows(db) == 0);
    CHECK_FALSE(test::nobody_holds_a_lock(path));
    transaction.commit();
    CHECK(sqlite3_get_autocommit(db.handle()) != 0);
    CHECK(test::nobody_holds_a_lock(path));
  }

  // An exception on the way out rolls back and releases the lock.
  CHECK_THROWS_AS(
    [&] {
      sqlite::ReadTransaction transaction(db);
      count_rows(db);
      throw std::runtime_error("fails mid-batch");
    }(),
    std::runtime_error);
  CHECK(sqlite3_get_autocommit(db.handle()) != 0);
  CHECK(test::nobody_holds_a_lock(path));
}

TEST_CASE("sqlite: a writer waits for a read transaction, then commits", "[connector][sqlite]")
{
  test::TempDir dir;
  const auto path = dir.path() / "db.sqlite";
  sqlite::Database reader("reader", path);
  reader.exec("CREATE TABLE t (x INTEGER)");
  sqlite::Database writer("writer", path, 10'000);

  sqlite::ReadTransaction transaction(reader);
  CHECK(count_rows(reader) == 0);
  std::atomic<bool> written = false;
  auto write = std::async(std::launch::async, [&] {
    sqlite::Transaction writing(writer);
    writer.exec("INSERT INTO t VALUES (1)");
    writing.commit(); // needs EXCLUSIVE: waits (busy_timeout) for the reader
    written = true;
  });
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(written);
  CHECK(count_rows(reader) == 0); // the reader's snapshot
  transaction.commit();
  CHECK_NOTHROW(write.get());
  CHECK(written);
  CHECK(count_rows(reader) == 1);
}

TEST_CASE("sqlite: a read transaction waits for a writer's lock, then reads what it wrote",
          "[connector][sqlite]")
{
  test::TempDir dir;
  const auto path = dir.path() / "db.sqlite";
  sqlite::Database reader("reader", path, 10'000);
  reader.exec("CREATE TABLE t (x INTEGER)");

  test::ExclusiveWriter writer(path, "INSERT INTO t VALUES (1), (2)");
  std::atomic<bool> read = false;
  auto reading = std::async(std::launch::async, [&] {
    sqlite::ReadTransaction transaction(reader);
    const auto rows = count_rows(reader);
    transaction.commit();
    read = true;
    return rows;
  });
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(read);
  writer.commit();
  CHECK(reading.get() == 2);
}

TEST_CASE("sqlite::Statement::run resets a failed statement", "[connector][sqlite]")
{
  test::TempDir dir;
  const auto path = dir.path() / "db.sqlite";
  sqlite::Database db("test", path);
  db.exec("CREATE TABLE t (x INTEGER PRIMARY KEY)");
  sqlite::Statement insert(db, "INSERT INTO t VALUES (?1)");
  insert.bind(1, std::int64_t{1});
  insert.run();
  insert.bind(1, std::int64_t{1});
  CHECK_THROWS_WITH(insert.run(), Catch::Contains("UNIQUE constraint failed"));
  // Reusable at once: new bindings, a new step.
  insert.bind(1, std::int64_t{2});
  CHECK_NOTHROW(insert.run());
  CHECK(count_rows(db) == 2);
  CHECK(test::nobody_holds_a_lock(path));
}
