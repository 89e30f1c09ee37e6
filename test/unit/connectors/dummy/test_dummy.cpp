#include "../../support/outcomes.hpp"
#include "../../support/temp_dir.hpp"

#include <hlm/util/error.hpp>

#include <connectors/builtin.hpp>

#include <catch2/catch.hpp>

#include <sqlite3.h>

using namespace hlm;
using namespace hlm::connector;
using hlm::test::states;

namespace {

std::unique_ptr<Connector>
make_dummy(const std::filesystem::path& db)
{
  return create_connector("dummy", Settings("[hlm:dummy]", {{"db_path", db.string()}}));
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
