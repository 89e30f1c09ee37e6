// What one connector call costs per item, for `strace -c`: fills a dummy
// database or a tapesim index with N entries, or runs one status (or
// recall) call on N items and prints its wall time. Not a test; built
// beside unit_tests.
//
//   connector_bench dummy|tapesim DIR fill|status|recall N
//
// Fill and measure in separate runs, so the trace holds only the call
// (plus the process start, which a run with N = 0 shows).

#include <connectors/builtin.hpp>

#include <fmt/format.h>

#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::connector;
namespace fs = std::filesystem;

namespace {

std::vector<Item>
make_items(std::size_t n)
{
  std::vector<Item> items;
  items.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    items.push_back({fmt::format("/AUTH_test/c/obj{:08}", i),
                     fmt::format("/srv/1/node/sdb1/objects/{}/{:03x}/{:032x}/1700000000.00000.data",
                                 i % 1024,
                                 i % 4096,
                                 i)});
  }
  return items;
}

std::unique_ptr<Connector>
make(const std::string& kind, const fs::path& dir)
{
  if (kind == "dummy") {
    return create_connector(
      "dummy",
      Settings("[hlm:dummy]", {{"db_path", (dir / "dummy.sqlite").string()}}));
  }
  return create_connector("tapesim", Settings("[hlm:tapesim]", {{"library", dir.string()}}));
}

void
exec(sqlite3* db, const char* sql)
{
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw std::runtime_error(sqlite3_errmsg(db));
  }
}

// Index entries for every item, premigrated and not released: status says
// premigrated, recall settles them without reading tape.
void
fill_tapesim(const fs::path& dir, const std::vector<Item>& items)
{
  sqlite3* db = nullptr;
  if (sqlite3_open((dir / "index.sqlite").c_str(), &db) != SQLITE_OK) {
    throw std::runtime_error("cannot open the index");
  }
  exec(db, "BEGIN");
  exec(db, "INSERT INTO cartridges (barcode, pool, capacity) VALUES ('000001L9', 'pool1', 1e12)");
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO objects (file, object, cartridge, position, length, md5, state,"
                     " released, header_position) VALUES (?1, ?2, '000001L9', ?3, 10,"
                     " 'd41d8cd98f00b204e9800998ecf8427e', 'premigrated', 0, ?3)",
                     -1,
                     &insert,
                     nullptr);
  for (std::size_t i = 0; i < items.size(); ++i) {
    sqlite3_bind_text(insert, 1, items[i].file.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, items[i].object.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(insert, 3, static_cast<sqlite3_int64>(i * 100));
    if (sqlite3_step(insert) != SQLITE_DONE) {
      throw std::runtime_error(sqlite3_errmsg(db));
    }
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  exec(db, "COMMIT");
  sqlite3_close(db);
}

} // namespace

int
main(int argc, char** argv)
{
  if (argc != 5) {
    fmt::print(stderr, "usage: connector_bench dummy|tapesim DIR fill|status|recall N\n");
    return 2;
  }
  const std::string kind = argv[1];
  const fs::path dir = argv[2];
  const std::string what = argv[3];
  const auto items = make_items(std::strtoul(argv[4], nullptr, 10));
  auto connector = make(kind, dir);
  if (what == "fill") {
    if (kind == "dummy") {
      connector->run(Operation::migrate, items);
    } else {
      fill_tapesim(dir, items);
    }
    return 0;
  }
  const auto operation = what == "recall" ? Operation::recall : Operation::status;
  const auto start = std::chrono::steady_clock::now();
  const auto outcomes = connector->run(operation, items);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::map<std::string, std::size_t> counts;
  for (const auto& outcome : outcomes) {
    ++counts[std::string(to_string(outcome.state)) + (outcome.ok() ? "" : " (failed)")];
  }
  fmt::print("{} {} of {} items: {:.3f} s", kind, what, items.size(), elapsed.count());
  for (const auto& [state, count] : counts) {
    fmt::print(", {} {}", count, state);
  }
  fmt::print("\n");
  return 0;
}
