#include "../../support/outcomes.hpp"
#include "../../support/temp_dir.hpp"
#include "../sqlite_locks.hpp"

#include <hlm/util/error.hpp>

#include <connectors/builtin.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

using namespace hlm;
using namespace hlm::connector;
using hlm::test::states;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<Connector>
make_dummy(const std::filesystem::path& db)
{
  return create_connector("dummy", Settings("[hlm:dummy]", {{"db_path", db.string()}}));
}

std::vector<Item>
numbered_items(std::size_t first, std::size_t n)
{
  std::vector<Item> items;
  for (std::size_t i = first; i < first + n; ++i) {
    items.push_back({fmt::format("/a/c/o{}", i), fmt::format("/srv/1/f{}.data", i)});
  }
  return items;
}

} // namespace

TEST_CASE("dummy connector follows the seed's state machine", "[connector][dummy]")
{
  test::TempDir dir;
  const auto db = dir.path() / "sub" / "dummy.sqlite";
  const std::vector<Item> a = {{"/a/c/o1", "/srv/1/f1.data"}};
  const std::vector<Item> ab = {{"/a/c/o1", "/srv/1/f1.data"}, {"/a/c/o2", "/srv/1/f2.data"}};
  using S = ObjectState;

  auto dummy = make_dummy(db);
  CHECK(states(dummy->run(Operation::status, ab)) == std::vector{S::resident, S::resident});
  CHECK(states(dummy->run(Operation::recall, a)) == std::vector{S::resident}); // nothing to recall
  CHECK(states(dummy->run(Operation::migrate, a)) == std::vector{S::migrated});
  CHECK(states(dummy->run(Operation::status, ab)) == std::vector{S::migrated, S::resident});
  CHECK(states(dummy->run(Operation::recall, ab)) == std::vector{S::premigrated, S::resident});
  CHECK(states(dummy->run(Operation::migrate, a)) == std::vector{S::migrated});

  // State persists across connector instances (a new handler process).
  auto again = make_dummy(db);
  CHECK(states(again->run(Operation::status, ab)) == std::vector{S::migrated, S::resident});

  // The operations record: 1 + 1 + 2 + 1 applied items, status not logged.
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(handle,
                             "SELECT operation || ':' || state FROM operations ORDER BY id",
                             -1,
                             &stmt,
                             nullptr)
          == SQLITE_OK);
  std::vector<std::string> log;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    log.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  CHECK(log
        == std::vector<std::string>{"recall:resident",
                                    "migrate:migrated",
                                    "recall:premigrated",
                                    "recall:resident",
                                    "migrate:migrated"});
}

TEST_CASE("dummy connector: an unusable database fails the batch as a whole", "[connector][dummy]")
{
  test::TempDir dir;
  const auto file = dir.write("not-a-dir", "x");
  CHECK_THROWS_AS(make_dummy(file / "db.sqlite"), Error);

  const auto garbage = dir.write("garbage.sqlite", std::string(4096, 'g'));
  CHECK_THROWS_AS(make_dummy(garbage), Error);
}

TEST_CASE("dummy status of a batch leaves no lock on the database", "[connector][dummy]")
{
  test::TempDir dir;
  const auto db = dir.path() / "dummy.sqlite";
  auto dummy = make_dummy(db);
  const auto items = numbered_items(0, 100);
  REQUIRE(states(dummy->run(Operation::migrate, numbered_items(0, 50))).size() == 50);
  const auto status = states(dummy->run(Operation::status, items));
  CHECK(std::count(status.begin(), status.end(), ObjectState::migrated) == 50);
  CHECK(std::count(status.begin(), status.end(), ObjectState::resident) == 50);
  CHECK(test::nobody_holds_a_lock(db));
}

TEST_CASE("dummy status waits for another handler's write, then reports it", "[connector][dummy]")
{
  test::TempDir dir;
  const auto db = dir.path() / "dummy.sqlite";
  auto dummy = make_dummy(db);
  const auto items = numbered_items(0, 3);

  test::ExclusiveWriter writer(db,
                               "INSERT INTO objects (file, object, state)"
                               " VALUES ('/srv/1/f1.data', '/a/c/o1', 'migrated')");
  std::atomic<bool> answered = false;
  auto status = std::async(std::launch::async, [&] {
    auto outcomes = dummy->run(Operation::status, items);
    answered = true;
    return outcomes;
  });
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(answered); // busy_timeout: waiting, not failed
  writer.commit();
  CHECK(states(status.get())
        == std::vector{ObjectState::resident, ObjectState::migrated, ObjectState::resident});
}

TEST_CASE("dummy: handlers sharing a database read and write at once without failing",
          "[connector][dummy]")
{
  test::TempDir dir;
  const auto db = dir.path() / "dummy.sqlite";
  auto reader = make_dummy(db);
  auto writer = make_dummy(db);
  const auto all = numbered_items(0, 4000);
  constexpr std::size_t k_chunk = 100;

  // Status rounds (each a read transaction over 4000 items) while the other
  // handler migrates in chunks (a write transaction each).
  // No Catch2 assertions off the main thread: count what failed instead.
  auto reading = std::async(std::launch::async, [&] {
    std::size_t failed = 0;
    for (int round = 0; round < 10; ++round) {
      for (const auto& outcome : reader->run(Operation::status, all)) {
        failed += outcome.ok() ? 0 : 1;
      }
    }
    return failed;
  });
  for (std::size_t first = 0; first < all.size(); first += k_chunk) {
    const auto chunk = numbered_items(first, k_chunk);
    CHECK(states(writer->run(Operation::migrate, chunk))
          == std::vector<ObjectState>(k_chunk, ObjectState::migrated));
  }
  CHECK(reading.get() == 0); // and nothing threw
  CHECK(states(reader->run(Operation::status, all))
        == std::vector<ObjectState>(all.size(), ObjectState::migrated));
}

TEST_CASE("dummy status answers in the batch's order whatever the index's", "[connector][dummy]")
{
  test::TempDir dir;
  const auto db = dir.path() / "dummy.sqlite";
  auto dummy = make_dummy(db);
  using S = ObjectState;
  // Every third item migrated, every fifth migrated then recalled.
  auto items = numbered_items(0, 200);
  std::vector<Item> to_migrate;
  std::vector<Item> to_recall;
  std::vector<S> expected;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const bool migrated = i % 3 == 0 || i % 5 == 0;
    if (migrated) {
      to_migrate.push_back(items[i]);
    }
    if (i % 5 == 0) {
      to_recall.push_back(items[i]);
    }
    expected.push_back(i % 5 == 0 ? S::premigrated : migrated ? S::migrated : S::resident);
  }
  dummy->run(Operation::migrate, to_migrate);
  dummy->run(Operation::recall, to_recall);
  // A batch in an order unlike the index's (file names sort as text:
  // f1, f10, f100, ...), with one file twice.
  std::reverse(items.begin(), items.end());
  std::reverse(expected.begin(), expected.end());
  items.push_back(items[7]);
  expected.push_back(expected[7]);
  CHECK(states(dummy->run(Operation::status, items)) == expected);
}

namespace {

// The SQL that created table `name` in the database at `db`.
std::string
table_sql(const std::filesystem::path& db, const char* name)
{
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(
    sqlite3_prepare_v2(handle, "SELECT sql FROM sqlite_master WHERE name = ?1", -1, &stmt, nullptr)
    == SQLITE_OK);
  sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
  std::string sql;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    sql = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return sql;
}

} // namespace

TEST_CASE("dummy: a new database keeps the objects in their key's B-tree", "[connector][dummy]")
{
  test::TempDir dir;
  const auto db = dir.path() / "dummy.sqlite";
  make_dummy(db);
  CHECK_THAT(table_sql(db, "objects"), Catch::EndsWith("WITHOUT ROWID"));
}

TEST_CASE("dummy: a database with the earlier rowid table still works", "[connector][dummy]")
{
  test::TempDir dir;
  const auto db = dir.path() / "dummy.sqlite";
  {
    sqlite3* handle = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
    REQUIRE(sqlite3_exec(handle,
                         "CREATE TABLE objects (file TEXT PRIMARY KEY, object TEXT NOT NULL,"
                         " state TEXT NOT NULL CHECK (state IN"
                         " ('resident','premigrated','migrated')))",
                         nullptr,
                         nullptr,
                         nullptr)
            == SQLITE_OK);
    sqlite3_close(handle);
  }
  auto dummy = make_dummy(db);
  CHECK_THAT(table_sql(db, "objects"), !Catch::Contains("WITHOUT ROWID"));
  dummy->run(Operation::migrate, numbered_items(0, 3));
  dummy->run(Operation::recall, numbered_items(1, 1));
  using S = ObjectState;
  CHECK(states(dummy->run(Operation::status, numbered_items(0, 4)))
        == std::vector<S>{S::migrated, S::premigrated, S::migrated, S::resident});
}
