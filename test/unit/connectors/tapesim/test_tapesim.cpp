#include "../../support/outcomes.hpp"
#include "../../support/swift_metadata.hpp"
#include "../../support/temp_dir.hpp"
#include "../sqlite_locks.hpp"

#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>

#include <connectors/builtin.hpp>
#include <connectors/tapesim/file_io.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <set>
#include <span>
#include <sstream>
#include <thread>

using namespace hlm;
using namespace hlm::connector;
using hlm::test::states;
namespace fs = std::filesystem;
using S = ObjectState;

namespace {

using test::read_file;

void
write_file(const fs::path& path, const std::string& data)
{
  std::ofstream(path, std::ios::binary) << data;
}

// Replicas that look like Swift's: bytes in a .data file, metadata in its
// xattr with the right ETag.
struct Replicas
{
  std::vector<Item> items;
  std::vector<std::string> bodies;

  Replicas(const fs::path& dir, const std::vector<std::size_t>& sizes, unsigned seed = 1)
  {
    std::mt19937 random(seed);
    fs::create_directories(dir);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      std::string body(sizes[i], '\0');
      for (auto& c : body) {
        c = static_cast<char>(random());
      }
      const auto file = dir / fmt::format("{:04}.data", i);
      write_file(file, body);
      const auto name = fmt::format("/AUTH_test/c/o{}", i);
      test::write_object_metadata(file,
                                  name,
                                  "1700000000.00000",
                                  to_hex(md5(body)),
                                  std::to_string(body.size()));
      items.push_back({name, file.string()});
      bodies.push_back(std::move(body));
    }
  }
};

std::unique_ptr<Connector>
make_tapesim(const fs::path& library, std::vector<std::pair<std::string, std::string>> extra = {})
{
  auto values = extra;
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"library", library.string()},
                                                        {"cartridge_capacity", "64K"},
                                                        {"drives", "2"}}) {
    if (std::none_of(extra.begin(), extra.end(), [&](const auto& kv) { return kv.first == key; })) {
      values.emplace_back(key, value);
    }
  }
  return create_connector("tapesim", Settings("[hlm:tapesim]", values));
}

std::vector<S>
all(std::size_t n, S state)
{
  return std::vector<S>(n, state);
}

// Runs one SQL query returning one number.
double
query(const fs::path& library, const std::string& sql)
{
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((library / "index.sqlite").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const double value = sqlite3_column_double(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

// Every index entry points at bytes on its cartridge that have the MD5 it
// recorded; returns how many entries there are.
std::size_t
check_index_consistent(const fs::path& library)
{
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((library / "index.sqlite").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT cartridge, position, length, md5 FROM objects",
                         -1,
                         &stmt,
                         nullptr)
      != SQLITE_OK) {
    // Killed before the library had its tables.
    CHECK_THAT(sqlite3_errmsg(db), Catch::Contains("no such table"));
    sqlite3_close(db);
    return 0;
  }
  std::size_t rows = 0;
  std::map<std::string, std::string> cartridges;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const std::string cartridge = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    const auto position = static_cast<std::size_t>(sqlite3_column_int64(stmt, 1));
    const auto length = static_cast<std::size_t>(sqlite3_column_int64(stmt, 2));
    const std::string recorded = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    auto it = cartridges.find(cartridge);
    if (it == cartridges.end()) {
      it = cartridges.emplace(cartridge, read_file(library / "cartridges" / cartridge)).first;
    }
    const std::string& bytes = it->second;
    REQUIRE(bytes.size() >= position + length);
    CHECK(to_hex(md5(std::string_view(bytes).substr(position, length))) == recorded);
    ++rows;
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

// A recall brings every replica's bytes back.
void
check_recall_restores(Connector& tapesim, const Replicas& replicas, const Replicas& originals)
{
  const auto n = replicas.items.size();
  CHECK(states(tapesim.run(Operation::recall, replicas.items)) == all(n, S::premigrated));
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(read_file(replicas.items[i].file) == originals.bodies[i]);
  }
}

// After a migrate died: every replica the library does not hold is intact
// on disk; a rerun finishes the job and a recall brings every byte back.
void
check_migrate_recovers(Connector& tapesim, const Replicas& replicas, const Replicas& originals)
{
  const auto before = tapesim.run(Operation::status, replicas.items);
  for (std::size_t i = 0; i < replicas.items.size(); ++i) {
    if (before[i].state == S::resident) {
      CHECK(read_file(replicas.items[i].file) == originals.bodies[i]);
    }
  }
  CHECK(states(tapesim.run(Operation::migrate, replicas.items))
        == all(replicas.items.size(), S::migrated));
  check_recall_restores(tapesim, replicas, originals);
}

} // namespace

TEST_CASE("tapesim moves bytes to cartridges and back", "[tapesim]")
{
  test::TempDir dir;
  // 65,000 bytes: with its header the largest record a 64 KiB cartridge holds.
  Replicas replicas(dir.path() / "disk", {0, 1, 1000, 20'000, 30'000, 40'000, 65'000, 5});
  const auto& items = replicas.items;
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library);

  CHECK(states(tapesim->run(Operation::status, items)) == all(items.size(), S::resident));
  CHECK(states(tapesim->run(Operation::migrate, items)) == all(items.size(), S::migrated));
  CHECK(states(tapesim->run(Operation::status, items)) == all(items.size(), S::migrated));
  CHECK(check_index_consistent(library) == items.size());
  // 64 KiB cartridges: the bytes are spread over several, all on tape.
  std::uintmax_t on_tape = 0;
  std::size_t cartridges = 0;
  for (const auto& entry : fs::directory_iterator(library / "cartridges")) {
    on_tape += fs::file_size(entry.path());
    ++cartridges;
  }
  // Each record: its header, then the data.
  const auto headers = query(library, "SELECT total(position - header_position) FROM objects");
  CHECK(headers > 0);
  CHECK(static_cast<double>(on_tape)
        == 0 + 1 + 1000 + 20'000 + 30'000 + 40'000 + 65'000 + 5 + headers);
  CHECK(cartridges >= 3);
  // release = keep: the disk copies are untouched.
  for (std::size_t i = 0; i < items.size(); ++i) {
    CHECK(read_file(items[i].file) == replicas.bodies[i]);
  }

  CHECK(states(tapesim->run(Operation::recall, items)) == all(items.size(), S::premigrated));
  CHECK(states(tapesim->run(Operation::status, items)) == all(items.size(), S::premigrated));
  const double mounts_after_recall = query(library, "SELECT total(mounts) FROM calls");

  // Migrating premigrated replicas moves no bytes and mounts nothing.
  CHECK(states(tapesim->run(Operation::migrate, items)) == all(items.size(), S::migrated));
  CHECK(query(library, "SELECT bytes FROM calls ORDER BY id DESC LIMIT 1") == 0);
  CHECK(query(library, "SELECT total(mounts) FROM calls") == mounts_after_recall);

  // The state is in the library, not the connector object.
  auto again = make_tapesim(library);
  CHECK(states(again->run(Operation::status, items)) == all(items.size(), S::migrated));
}

TEST_CASE("tapesim release = punch frees the disk copy and recall restores it", "[tapesim]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {5000, 12'345, 0});
  const auto& items = replicas.items;
  auto tapesim = make_tapesim(dir.path() / "library", {{"release", "punch"}});

  CHECK(states(tapesim->run(Operation::migrate, items)) == all(items.size(), S::migrated));
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto body = read_file(items[i].file);
    CHECK(body.size() == replicas.bodies[i].size()); // size kept
    CHECK(body == std::string(body.size(), '\0'));   // data gone
  }
  CHECK(states(tapesim->run(Operation::recall, items)) == all(items.size(), S::premigrated));
  for (std::size_t i = 0; i < items.size(); ++i) {
    CHECK(read_file(items[i].file) == replicas.bodies[i]);
  }
}

TEST_CASE("tapesim recall of a corrupted copy fails and changes nothing", "[tapesim]")
{
  test::TempDir dir;
  // Two 40 KB objects: one per 64 KiB cartridge.
  Replicas replicas(dir.path() / "disk", {40'000, 40'000});
  const auto& items = replicas.items;
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library, {{"release", "punch"}});
  REQUIRE(states(tapesim->run(Operation::migrate, items)) == all(2, S::migrated));

  // Flip one data byte of the first cartridge.
  const auto cartridge = library / "cartridges" / "000001L9";
  std::string bytes = read_file(cartridge);
  const auto data = static_cast<std::size_t>(
    query(library, "SELECT position FROM objects WHERE cartridge = '000001L9'"));
  REQUIRE(bytes.size() == data + 40'000);
  bytes[data + 1234] = static_cast<char>(bytes[data + 1234] ^ 0x40);
  write_file(cartridge, bytes);

  const auto outcomes = tapesim->run(Operation::recall, items);
  REQUIRE(outcomes.size() == 2);
  CHECK_FALSE(outcomes[0].ok());
  CHECK(outcomes[0].state == S::migrated);
  CHECK_THAT(*outcomes[0].error(),
             Catch::Contains("checksum mismatch on cartridge 000001L9")
               && Catch::Contains("/AUTH_test/c/o0"));
  CHECK(outcomes[1].ok());
  CHECK(read_file(items[0].file) == std::string(40'000, '\0')); // nothing written back
  CHECK(read_file(items[1].file) == replicas.bodies[1]);
  CHECK(states(tapesim->run(Operation::status, items)) == std::vector{S::migrated, S::premigrated});
}

TEST_CASE("tapesim refuses a disk copy that does not match its ETag", "[tapesim]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {3000, 3000});
  const auto& items = replicas.items;
  write_file(items[1].file, std::string(3000, 'x')); // bit rot, same size
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library);

  const auto outcomes = tapesim->run(Operation::migrate, items);
  CHECK(outcomes[0].ok());
  CHECK_FALSE(outcomes[1].ok());
  CHECK(outcomes[1].state == S::resident);
  CHECK_THAT(*outcomes[1].error(), Catch::Contains("does not match its ETag"));
  // The rejected bytes were taken off the cartridge again.
  CHECK(static_cast<double>(fs::file_size(library / "cartridges" / "000001L9"))
        == query(library, "SELECT position + length FROM objects"));
  CHECK(check_index_consistent(library) == 1);
}

TEST_CASE("tapesim recall_state = resident forgets the tape copy", "[tapesim]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {100, 200});
  auto tapesim = make_tapesim(dir.path() / "library", {{"recall_state", "resident"}});
  REQUIRE(states(tapesim->run(Operation::migrate, replicas.items)) == all(2, S::migrated));
  CHECK(states(tapesim->run(Operation::recall, replicas.items)) == all(2, S::resident));
  CHECK(states(tapesim->run(Operation::status, replicas.items)) == all(2, S::resident));
}

TEST_CASE("tapesim reports a full pool per object", "[tapesim]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {40'000, 40'000, 100'000});
  auto tapesim = make_tapesim(dir.path() / "library", {{"slots", "1"}});
  const auto outcomes = tapesim->run(Operation::migrate, replicas.items);
  CHECK(outcomes[0].ok());
  CHECK_FALSE(outcomes[1].ok());
  CHECK_THAT(*outcomes[1].error(), Catch::Contains("pool \"pool1\" is full"));
  CHECK_FALSE(outcomes[2].ok());
  CHECK_THAT(*outcomes[2].error(), Catch::Contains("larger than a cartridge"));
  CHECK(states(tapesim->run(Operation::status, replicas.items))
        == std::vector{S::migrated, S::resident, S::resident});
}

TEST_CASE("tapesim time_scale sleeps for the simulated time", "[tapesim]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {100});
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library, {{"time_scale", "0.002"}});
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(states(tapesim->run(Operation::migrate, replicas.items)) == all(1, S::migrated));
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  // One mount: robot exchange 15 s + load 17 s, and a tiny transfer.
  const double simulated = query(library, "SELECT drive_seconds FROM calls");
  CHECK(simulated == Approx(32).epsilon(0.001));
  CHECK(elapsed.count() >= 0.002 * 32 * 0.99);
}

TEST_CASE("tapesim settings are checked", "[tapesim]")
{
  test::TempDir dir;
  const auto library = (dir.path() / "library").string();
  const auto make = [&](std::string key, std::string value) {
    return create_connector("tapesim",
                            Settings("[hlm:tapesim]", {{"library", library}, {key, value}}));
  };
  CHECK_THROWS_WITH(make("release", "maybe"),
                    Catch::Contains("release = \"maybe\": expected keep or punch"));
  CHECK_THROWS_WITH(make("drives", "0"), Catch::Contains("drives"));
  CHECK_THROWS_WITH(make("cartridge_capacity", "12Q"), Catch::Contains("cartridge_capacity"));
  CHECK_THROWS_WITH(make("drive_rate_mb", "0"), Catch::Contains("a positive number"));
  CHECK_THROWS_WITH(make("load_second", "17"), Catch::Contains("load_seconds"));
  CHECK_THROWS_AS(make("recall_state", "migrated"), ConfigError);
  CHECK_NOTHROW(make("cartridge_capacity", "18T"));
}

TEST_CASE("tapesim migrate killed at any moment loses nothing", "[tapesim][crash]")
{
  test::TempDir dir;
  std::vector<std::size_t> sizes(600, 20'000);
  Replicas originals(dir.path() / "originals", sizes);

  // How long an uninterrupted migrate takes, to spread the kills over it.
  const auto timed_library = dir.path() / "timed";
  Replicas timed(dir.path() / "timed-disk", sizes);
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(states(make_tapesim(timed_library, {{"release", "punch"}, {"cartridge_capacity", "4M"}})
                   ->run(Operation::migrate, timed.items))
          == all(sizes.size(), S::migrated));
  const auto duration = std::chrono::steady_clock::now() - started;

  constexpr int k_trials = 8;
  for (int trial = 0; trial < k_trials; ++trial) {
    const auto disk = dir.path() / fmt::format("disk-{}", trial);
    const auto library = dir.path() / fmt::format("library-{}", trial);
    Replicas replicas(disk, sizes); // same seed: the same bodies as `originals`
    const auto kill_after = duration * (trial + 0.5) / k_trials;

    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      try {
        make_tapesim(library, {{"release", "punch"}, {"cartridge_capacity", "4M"}})
          ->run(Operation::migrate, replicas.items);
      } catch (...) {
        _exit(2);
      }
      _exit(0);
    }
    std::this_thread::sleep_for(kill_after);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    // Killed, or finished cleanly before the kill; never failed.
    CHECK((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));

    // Every replica is intact on disk, or indexed with a good tape copy.
    const std::size_t indexed = check_index_consistent(library);
    INFO("trial " << trial << ": killed after " << std::chrono::duration<double>(kill_after).count()
                  << " s; " << indexed << " indexed");
    check_migrate_recovers(
      *make_tapesim(library, {{"release", "punch"}, {"cartridge_capacity", "4M"}}),
      replicas,
      originals);
  }
}

namespace {

// Runs `work` in a child process with HLM_TAPESIM_FAULT=`point` and
// returns its exit status: 86 when it died at that point.
template<typename Work>
int
run_until_fault(const char* point, Work work)
{
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    setenv("HLM_TAPESIM_FAULT", point, 1);
    try {
      work();
    } catch (...) {
      _exit(2);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

TEST_CASE("tapesim loses nothing when a call dies between any two steps", "[tapesim][crash]")
{
  const std::vector<std::pair<std::string, std::string>> punch = {{"release", "punch"},
                                                                  {"cartridge_capacity", "1M"}};
  const std::vector<std::size_t> sizes(300, 10'000); // more than one commit group
  test::TempDir dir;
  Replicas originals(dir.path() / "originals", sizes);

  for (const char* point :
       {"migrate-appended", "migrate-synced", "migrate-committed", "migrate-punched"}) {
    INFO("migrate dies at " << point);
    const auto disk = dir.path() / point / "disk";
    const auto library = dir.path() / point / "library";
    Replicas replicas(disk, sizes);
    CHECK(run_until_fault(
            point,
            [&] { make_tapesim(library, punch)->run(Operation::migrate, replicas.items); })
          == 86);
    check_index_consistent(library);
    check_migrate_recovers(*make_tapesim(library, punch), replicas, originals);
  }

  for (const char* point : {"recall-written", "recall-synced"}) {
    INFO("recall dies at " << point);
    const auto disk = dir.path() / point / "disk";
    const auto library = dir.path() / point / "library";
    Replicas replicas(disk, sizes);
    REQUIRE(states(make_tapesim(library, punch)->run(Operation::migrate, replicas.items))
            == all(sizes.size(), S::migrated));
    CHECK(
      run_until_fault(point,
                      [&] { make_tapesim(library, punch)->run(Operation::recall, replicas.items); })
      == 86);
    check_index_consistent(library);
    auto tapesim = make_tapesim(library, punch);
    // Whatever the index says is on disk, is.
    const auto before = tapesim->run(Operation::status, replicas.items);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (before[i].state == S::premigrated) {
        CHECK(read_file(replicas.items[i].file) == originals.bodies[i]);
      }
    }
    check_recall_restores(*tapesim, replicas, originals);
  }
}

TEST_CASE("tapesim keeps a freed disk copy marked freed when release changes", "[tapesim]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {5000, 7000});
  const auto library = dir.path() / "library";
  REQUIRE(
    states(make_tapesim(library, {{"release", "punch"}})->run(Operation::migrate, replicas.items))
    == all(2, S::migrated));
  // The operator switches to release = keep and migrates again.
  auto keep = make_tapesim(library, {{"release", "keep"}});
  CHECK(states(keep->run(Operation::migrate, replicas.items)) == all(2, S::migrated));
  CHECK(states(keep->run(Operation::recall, replicas.items)) == all(2, S::premigrated));
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(read_file(replicas.items[i].file) == replicas.bodies[i]);
  }
}

namespace {

using XattrList = std::vector<std::pair<std::string, std::string>>;

XattrList
swift_xattrs(const fs::path& file)
{
  return tapesim::File(file, O_RDONLY).xattrs("user.swift.");
}

// Replicas laid out as on a Swift device, one hash directory each, with
// metadata split over two xattrs plus its checksum (as Swift writes
// metadata past 64 KiB), so every user.swift.* key is exercised.
struct DeviceReplicas
{
  fs::path device;
  std::vector<Item> items;
  std::vector<std::string> bodies;
  std::vector<XattrList> xattrs;

  DeviceReplicas(const fs::path& root, const std::vector<std::size_t>& sizes)
    : device(root / "node" / "sdb1")
  {
    std::mt19937 random(7);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      std::string body(sizes[i], '\0');
      for (auto& c : body) {
        c = static_cast<char>(random());
      }
      const auto dir = device / fmt::format("objects/{}/00{}/{:032x}", i, i, i);
      fs::create_directories(dir);
      const auto file = dir / fmt::format("17000000{:02}.12345.data", i);
      write_file(file, body);
      const auto name = fmt::format("/AUTH_test/c/o{}", i);
      test::write_object_metadata(file,
                                  name,
                                  fmt::format("17000000{:02}.12345", i),
                                  to_hex(md5(body)),
                                  std::to_string(body.size()));
      std::string pickle(4096, '\0');
      const auto n = getxattr(file.c_str(), "user.swift.metadata", pickle.data(), pickle.size());
      REQUIRE(n > 10);
      pickle.resize(static_cast<std::size_t>(n));
      const std::string first = pickle.substr(0, 10);
      const std::string rest = pickle.substr(10);
      const std::string checksum = to_hex(md5(pickle));
      REQUIRE(setxattr(file.c_str(), "user.swift.metadata", first.data(), first.size(), 0) == 0);
      REQUIRE(setxattr(file.c_str(), "user.swift.metadata1", rest.data(), rest.size(), 0) == 0);
      REQUIRE(
        setxattr(file.c_str(), "user.swift.metadata_checksum", checksum.data(), checksum.size(), 0)
        == 0);
      items.push_back({name, file.string(), ""});
      bodies.push_back(std::move(body));
      xattrs.push_back(swift_xattrs(file));
    }
  }

  // The item of replica `i` once its file is gone.
  Item
  lost(std::size_t i) const
  {
    return {items[i].object, "", fs::path(items[i].file).parent_path().string()};
  }
};

} // namespace

TEST_CASE("tapesim rebuilds a lost replica from its tape record", "[tapesim][rebuild]")
{
  test::TempDir dir;
  DeviceReplicas replicas(dir.path(), {30'000, 1, 0});
  REQUIRE(replicas.xattrs[0].size() == 3);
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library, {{"release", "punch"}});
  REQUIRE(states(tapesim->run(Operation::migrate, replicas.items)) == all(3, S::migrated));

  // One file removed by hand; one whole hash directory gone (a new disk).
  fs::remove(replicas.items[0].file);
  fs::remove_all(fs::path(replicas.items[1].file).parent_path());
  fs::remove(replicas.items[2].file);
  const std::vector<Item> lost = {replicas.lost(0), replicas.lost(1), replicas.lost(2)};

  CHECK(states(tapesim->run(Operation::status, lost)) == all(3, S::migrated));
  CHECK(fs::exists(lost[0].object_dir)); // status changes nothing
  CHECK_FALSE(fs::exists(lost[1].object_dir));

  CHECK(states(tapesim->run(Operation::recall, lost)) == all(3, S::premigrated));
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("replica " << i);
    const auto& file = replicas.items[i].file;
    REQUIRE(fs::exists(file)); // same directory, same name
    CHECK(read_file(file) == replicas.bodies[i]);
    CHECK(swift_xattrs(file) == replicas.xattrs[i]);
  }
  // The index follows: the replicas are premigrated under their own names.
  CHECK(states(tapesim->run(Operation::status, replicas.items)) == all(3, S::premigrated));
  CHECK(fs::is_empty(replicas.device / "tmp"));
  CHECK(check_index_consistent(library) == 3);
}

TEST_CASE("tapesim rebuild with recall_state = resident forgets the tape copy",
          "[tapesim][rebuild]")
{
  test::TempDir dir;
  DeviceReplicas replicas(dir.path(), {5000});
  auto tapesim = make_tapesim(dir.path() / "library",
                              {{"release", "punch"}, {"recall_state", "resident"}});
  REQUIRE(states(tapesim->run(Operation::migrate, replicas.items)) == all(1, S::migrated));
  fs::remove(replicas.items[0].file);
  const std::vector<Item> lost = {replicas.lost(0)};
  CHECK(states(tapesim->run(Operation::recall, lost)) == all(1, S::resident));
  CHECK(read_file(replicas.items[0].file) == replicas.bodies[0]);
  CHECK(states(tapesim->run(Operation::status, replicas.items)) == all(1, S::resident));
}

TEST_CASE("tapesim rebuild of a corrupt tape copy writes nothing", "[tapesim][rebuild]")
{
  test::TempDir dir;
  DeviceReplicas replicas(dir.path(), {20'000});
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library, {{"release", "punch"}});
  REQUIRE(states(tapesim->run(Operation::migrate, replicas.items)) == all(1, S::migrated));
  fs::remove(replicas.items[0].file);
  const std::vector<Item> lost = {replicas.lost(0)};

  const auto cartridge = library / "cartridges" / "000001L9";
  std::string bytes = read_file(cartridge);

  SECTION("a data byte flipped")
  {
    const auto at = static_cast<std::size_t>(query(library, "SELECT position FROM objects")) + 77;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
    write_file(cartridge, bytes);
    const auto outcomes = tapesim->run(Operation::recall, lost);
    CHECK_FALSE(outcomes[0].ok());
    CHECK(outcomes[0].state == S::migrated);
    CHECK_THAT(*outcomes[0].error(), Catch::Contains("checksum mismatch"));
  }
  SECTION("a header byte flipped")
  {
    const auto at = static_cast<std::size_t>(query(library, "SELECT header_position FROM objects"))
                    + 20;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
    write_file(cartridge, bytes);
    const auto outcomes = tapesim->run(Operation::recall, lost);
    CHECK_FALSE(outcomes[0].ok());
    CHECK_THAT(*outcomes[0].error(), Catch::Contains("header checksum mismatch"));
  }
  CHECK(fs::is_empty(lost[0].object_dir));
  CHECK((!fs::exists(replicas.device / "tmp") || fs::is_empty(replicas.device / "tmp")));
  CHECK(states(tapesim->run(Operation::status, lost))
        == all(1, S::migrated)); // still rebuildable, says status
}

TEST_CASE("tapesim does not rebuild over a tombstone", "[tapesim][rebuild]")
{
  test::TempDir dir;
  DeviceReplicas replicas(dir.path(), {3000});
  auto tapesim = make_tapesim(dir.path() / "library", {{"release", "punch"}});
  REQUIRE(states(tapesim->run(Operation::migrate, replicas.items)) == all(1, S::migrated));
  fs::remove(replicas.items[0].file);
  const auto tombstone = fs::path(replicas.lost(0).object_dir) / "1800000000.00000.ts";
  write_file(tombstone, "");
  const std::vector<Item> lost = {replicas.lost(0)};
  const auto outcomes = tapesim->run(Operation::recall, lost);
  CHECK_FALSE(outcomes[0].ok());
  CHECK_THAT(*outcomes[0].error(),
             Catch::Contains("tombstone") && Catch::Contains("nothing rebuilt"));
  CHECK_FALSE(fs::exists(replicas.items[0].file));
  CHECK(fs::exists(tombstone));
}

TEST_CASE("tapesim: a lost replica that is not on tape keeps the handler's error",
          "[tapesim][rebuild]")
{
  test::TempDir dir;
  DeviceReplicas replicas(dir.path(), {100, 100});
  auto tapesim = make_tapesim(dir.path() / "library");
  // Only the second is migrated; the first is lost before it ever was.
  const std::vector<Item> second = {replicas.items[1]};
  REQUIRE(states(tapesim->run(Operation::migrate, second)) == all(1, S::migrated));
  fs::remove(replicas.items[0].file);
  const std::vector<Item> lost = {replicas.lost(0)};
  for (const auto& outcomes :
       {tapesim->run(Operation::status, lost), tapesim->run(Operation::recall, lost)}) {
    CHECK(outcomes[0].state == S::unknown);
    CHECK(outcomes[0].error() == "object is not on this device");
  }
}

TEST_CASE("tapesim opens an index written before tape records had headers", "[tapesim][rebuild]")
{
  test::TempDir dir;
  DeviceReplicas replicas(dir.path(), {4000, 6000});
  const auto library = dir.path() / "library";
  // What tapesim wrote before this change: data alone on the cartridge,
  // an objects table without header_position; both copies migrated and
  // their disk copies freed.
  fs::create_directories(library / "cartridges");
  write_file(library / "cartridges" / "000001L9", replicas.bodies[0] + replicas.bodies[1]);
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((library / "index.sqlite").c_str(), &db) == SQLITE_OK);
    std::string sql =
      "CREATE TABLE cartridges (barcode TEXT PRIMARY KEY, pool TEXT NOT NULL,"
      " capacity INTEGER NOT NULL);"
      "INSERT INTO cartridges VALUES ('000001L9', 'pool1', 65536);"
      "CREATE TABLE objects (file TEXT PRIMARY KEY, object TEXT NOT NULL,"
      " cartridge TEXT NOT NULL REFERENCES cartridges (barcode), position INTEGER NOT NULL,"
      " length INTEGER NOT NULL, md5 TEXT NOT NULL,"
      " state TEXT NOT NULL CHECK (state IN ('premigrated', 'migrated')),"
      " released INTEGER NOT NULL DEFAULT 0);";
    std::size_t position = 0;
    for (std::size_t i = 0; i < 2; ++i) {
      sql += fmt::format("INSERT INTO objects VALUES ('{}', '{}', '000001L9', {}, {}, '{}', "
                         "'migrated', 1);",
                         replicas.items[i].file,
                         replicas.items[i].object,
                         position,
                         replicas.bodies[i].size(),
                         to_hex(md5(replicas.bodies[i])));
      position += replicas.bodies[i].size();
      write_file(replicas.items[i].file, std::string(replicas.bodies[i].size(), '\0'));
    }
    REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }

  auto tapesim = make_tapesim(library, {{"release", "punch"}});
  CHECK(query(library,
              "SELECT count(*) FROM pragma_table_info('objects')"
              " WHERE name = 'header_position'")
        == 1);
  CHECK(states(tapesim->run(Operation::status, replicas.items)) == all(2, S::migrated));

  // A lost replica of such a copy cannot be rebuilt, and says why.
  fs::remove(replicas.items[1].file);
  const std::vector<Item> lost = {replicas.lost(1)};
  for (const auto& outcomes :
       {tapesim->run(Operation::status, lost), tapesim->run(Operation::recall, lost)}) {
    CHECK_FALSE(outcomes[0].ok());
    CHECK_THAT(*outcomes[0].error(),
               Catch::Contains("before tapesim recorded headers")
                 && Catch::Contains("object is not on this device"));
  }
  CHECK_FALSE(fs::exists(replicas.items[1].file));

  // The other recalls as it always did.
  const std::vector<Item> first = {replicas.items[0]};
  CHECK(states(tapesim->run(Operation::recall, first)) == all(1, S::premigrated));
  CHECK(read_file(replicas.items[0].file) == replicas.bodies[0]);
  // A copy already on tape is not written again: it keeps no header.
  CHECK(states(tapesim->run(Operation::migrate, first)) == all(1, S::migrated));
  CHECK(query(library, "SELECT count(header_position) FROM objects") == 0);
}

TEST_CASE("tapesim recall of more than a commit group already on disk, in one batch", "[tapesim]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", std::vector<std::size_t>(300, 100));
  Replicas never_migrated(dir.path() / "other", {100}, 2);
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library, {{"cartridge_capacity", "1M"}});
  REQUIRE(states(tapesim->run(Operation::migrate, replicas.items)) == all(300, S::migrated));
  REQUIRE(states(tapesim->run(Operation::recall, replicas.items)) == all(300, S::premigrated));

  // Premigrated and kept: every copy is settled without a read, and the
  // settling commits (256 at a time) come after all lookups.
  auto items = replicas.items;
  items.push_back(never_migrated.items[0]);
  auto expected = all(300, S::premigrated);
  expected.push_back(S::resident);
  const double mounts = query(library, "SELECT total(mounts) FROM calls");
  CHECK(states(tapesim->run(Operation::recall, items)) == expected);
  CHECK(query(library, "SELECT total(mounts) FROM calls") == mounts);
  CHECK(states(tapesim->run(Operation::status, items)) == expected);
  CHECK(check_index_consistent(library) == 300);
}

TEST_CASE("tapesim leaves no lock on its index after a call", "[tapesim]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {100, 200, 300});
  const auto library = dir.path() / "library";
  const auto index = library / "index.sqlite";
  auto tapesim = make_tapesim(library);
  for (const auto operation :
       {Operation::status, Operation::migrate, Operation::status, Operation::recall}) {
    INFO(to_string(operation));
    tapesim->run(operation, replicas.items);
    CHECK(test::nobody_holds_a_lock(index));
  }
}

TEST_CASE("tapesim status and recall wait for another writer of the index, then proceed",
          "[tapesim]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {100, 200, 300});
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library);
  REQUIRE(states(tapesim->run(Operation::migrate, replicas.items)) == all(3, S::migrated));
  const auto set_premigrated = fmt::format(
    "UPDATE objects SET state = 'premigrated' WHERE file = '{}'",
    replicas.items[1].file);

  for (const auto operation : {Operation::status, Operation::recall}) {
    INFO(to_string(operation));
    test::ExclusiveWriter writer(library / "index.sqlite", set_premigrated);
    std::atomic<bool> answered = false;
    auto call = std::async(std::launch::async, [&] {
      auto outcomes = tapesim->run(operation, replicas.items);
      answered = true;
      return outcomes;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK_FALSE(answered); // busy_timeout: waiting, not failed
    writer.commit();
    CHECK(states(call.get())
          == (operation == Operation::status ? std::vector{S::migrated, S::premigrated, S::migrated}
                                             : all(3, S::premigrated)));
  }
}

namespace {

// Each indexed copy's cartridge, data position and length, and its header's
// position, as the index says.
struct IndexRow
{
  std::string cartridge;
  std::uint64_t position = 0;
  std::uint64_t length = 0;
  std::uint64_t header_position = 0;
};

std::map<std::string, IndexRow>
index_rows(const fs::path& library)
{
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((library / "index.sqlite").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(
    sqlite3_prepare_v2(db,
                       "SELECT file, cartridge, position, length, header_position FROM objects",
                       -1,
                       &stmt,
                       nullptr)
    == SQLITE_OK);
  std::map<std::string, IndexRow> rows;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    rows[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))] = IndexRow{
      reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)),
      static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 2)),
      static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 3)),
      static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 4))};
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

// The cartridges the drive table says are loaded.
std::set<std::string>
loaded_cartridges(const fs::path& library)
{
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((library / "index.sqlite").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT cartridge FROM drives WHERE cartridge IS NOT NULL",
                             -1,
                             &stmt,
                             nullptr)
          == SQLITE_OK);
  std::set<std::string> loaded;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    loaded.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return loaded;
}

} // namespace

TEST_CASE("tapesim locate places each copy from the index and the drives", "[tapesim][locate]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {20'000, 30'000, 40'000, 50'000, 10});
  const auto& items = replicas.items;
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library);

  // Nothing on tape yet: no placement.
  const auto before = tapesim->locate(items);
  REQUIRE(before.size() == items.size());
  CHECK(std::none_of(before.begin(), before.end(), [](const auto& p) { return p.has_value(); }));

  // Migrate all but the last one.
  const std::span<const Item> migrated(items.data(), items.size() - 1);
  REQUIRE(states(tapesim->run(Operation::migrate, migrated)) == all(migrated.size(), S::migrated));
  const auto rows = index_rows(library);
  const auto loaded = loaded_cartridges(library);
  REQUIRE_FALSE(loaded.empty()); // migrate leaves its last cartridges in the drives
  const double calls = query(library, "SELECT count(*) FROM calls");

  const auto placed = tapesim->locate(items);
  REQUIRE(placed.size() == items.size());
  REQUIRE(placed[0].has_value());
  // The library's id: made once, shared by whoever opens the library.
  const std::string library_id = placed[0]->library;
  CHECK(library_id.size() == 32);
  std::set<std::string> volumes;
  for (std::size_t i = 0; i < migrated.size(); ++i) {
    INFO("replica " << i);
    REQUIRE(placed[i].has_value());
    const auto& row = rows.at(items[i].file);
    CHECK(*placed[i]
          == Placement{row.cartridge,
                       row.position,
                       row.length,
                       loaded.contains(row.cartridge),
                       false,
                       library_id});
    volumes.insert(placed[i]->volume);
  }
  CHECK_FALSE(placed.back().has_value()); // never migrated
  // 64 KiB cartridges: the copies are on several, some of them not in a drive.
  CHECK(volumes.size() >= 3);
  CHECK(std::any_of(placed.begin(), placed.end(), [](const auto& p) { return p && !p->in_drive; }));
  CHECK(std::any_of(placed.begin(), placed.end(), [](const auto& p) { return p && p->in_drive; }));
  // Placing reads only: no call recorded, nothing mounted.
  CHECK(query(library, "SELECT count(*) FROM calls") == calls);
  CHECK(loaded_cartridges(library) == loaded);

  // Another connector on the same library (another node sharing it) names
  // it alike; a library of its own, with the same barcodes, does not.
  CHECK(make_tapesim(library)->locate(items)[0]->library == library_id);
  auto other = make_tapesim(dir.path() / "other-library");
  Replicas others(dir.path() / "disk2", {20'000});
  REQUIRE(states(other->run(Operation::migrate, others.items)) == all(1, S::migrated));
  const auto elsewhere = other->locate(others.items);
  REQUIRE(elsewhere[0].has_value());
  CHECK(elsewhere[0]->volume == placed[0]->volume);
  CHECK(elsewhere[0]->library != library_id);

  // Recalled: the data is on disk too.
  REQUIRE(states(tapesim->run(Operation::recall, migrated))
          == all(migrated.size(), S::premigrated));
  const auto recalled = tapesim->locate(migrated);
  const auto loaded_after = loaded_cartridges(library);
  for (std::size_t i = 0; i < migrated.size(); ++i) {
    REQUIRE(recalled[i].has_value());
    CHECK(recalled[i]->on_disk);
    CHECK(recalled[i]->volume == rows.at(items[i].file).cartridge);
    CHECK(recalled[i]->in_drive == loaded_after.contains(recalled[i]->volume));
  }
}

TEST_CASE("tapesim locate places a lost replica by the record a rebuild reads",
          "[tapesim][locate][rebuild]")
{
  test::TempDir dir;
  DeviceReplicas replicas(dir.path(), {30'000, 100});
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library, {{"release", "punch"}});
  REQUIRE(states(tapesim->run(Operation::migrate, replicas.items)) == all(2, S::migrated));
  const auto rows = index_rows(library);
  fs::remove(replicas.items[0].file);
  // A lost replica of an object the library never held: nothing to place.
  Item stranger = replicas.lost(1);
  stranger.object = "/AUTH_test/c/other";
  const std::vector<Item> items = {replicas.lost(0), stranger, replicas.items[1]};

  const auto placed = tapesim->locate(items);
  REQUIRE(placed.size() == 3);
  const auto& row = rows.at(replicas.items[0].file);
  REQUIRE(placed[0].has_value());
  CHECK(placed[0]->volume == row.cartridge);
  CHECK(placed[0]->position == row.header_position);
  CHECK(placed[0]->length == row.position + row.length - row.header_position);
  CHECK_FALSE(placed[0]->on_disk);
  CHECK_FALSE(placed[1].has_value());
  REQUIRE(placed[2].has_value());
  CHECK(placed[2]->position == rows.at(replicas.items[1].file).position);
  CHECK_FALSE(placed[2]->on_disk); // migrated, released
}

TEST_CASE("tapesim answers a batch in its own order, not the index's", "[tapesim][locate]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {100, 200, 300, 400, 500, 600, 700, 800});
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library);
  // Every other replica on tape.
  std::vector<Item> on_tape;
  std::vector<S> expected;
  for (std::size_t i = 0; i < replicas.items.size(); ++i) {
    if (i % 2 == 0) {
      on_tape.push_back(replicas.items[i]);
    }
    expected.push_back(i % 2 == 0 ? S::migrated : S::resident);
  }
  REQUIRE(states(tapesim->run(Operation::migrate, on_tape)) == all(on_tape.size(), S::migrated));
  const auto forward = tapesim->locate(replicas.items);

  // The batch reversed (the files sort the other way), one item twice.
  auto items = replicas.items;
  std::reverse(items.begin(), items.end());
  std::reverse(expected.begin(), expected.end());
  items.push_back(items[1]);
  expected.push_back(expected[1]);
  CHECK(states(tapesim->run(Operation::status, items)) == expected);
  auto backward = tapesim->locate(items);
  REQUIRE(backward.size() == items.size());
  CHECK(backward.back() == backward[1]);
  backward.pop_back();
  std::reverse(backward.begin(), backward.end());
  CHECK(backward == forward);
  for (std::size_t i = 0; i < forward.size(); ++i) {
    CHECK(forward[i].has_value() == (i % 2 == 0));
  }
  items.pop_back();
  std::vector<S> recalled;
  for (const auto state : std::vector<S>(expected.begin(), expected.end() - 1)) {
    recalled.push_back(state == S::migrated ? S::premigrated : S::resident);
  }
  CHECK(states(tapesim->run(Operation::recall, items)) == recalled);
}

TEST_CASE("tapesim keeps the copies of an object apart: copy sets, one writer per cartridge",
          "[tapesim][layout]")
{
  test::TempDir dir;
  const auto library = dir.path() / "library";
  // Three nodes sharing the library, each with its own devices directory
  // (<devices>/<device>/objects/...): nodes 1 and 2 hold objects 0..3,
  // node 3 objects 0..5 (4 and 5 are on no other node).
  const auto node = [&](int n, std::size_t objects) {
    return Replicas(dir.path() / fmt::format("srv{0}/node/sdb{0}/objects/7/abc/hash", n),
                    std::vector<std::size_t>(objects, 9'000),
                    static_cast<unsigned>(n));
  };
  const std::vector<Replicas> nodes{node(1, 4), node(2, 4), node(3, 6)};
  for (const auto& replicas : nodes) {
    auto tapesim = make_tapesim(library);
    REQUIRE(states(tapesim->run(Operation::migrate, replicas.items))
            == all(replicas.items.size(), S::migrated));
  }

  const auto copy_set_of = [&](const Item& item) {
    return query(library,
                 fmt::format("SELECT c.copy_set FROM objects o JOIN cartridges c"
                             " ON c.barcode = o.cartridge WHERE o.file = '{}'",
                             item.file));
  };
  for (std::size_t i = 0; i < 4; ++i) {
    INFO("object " << i);
    // The n-th copy the library took of an object is in copy set n.
    CHECK(copy_set_of(nodes[0].items[i]) == 1);
    CHECK(copy_set_of(nodes[1].items[i]) == 2);
    CHECK(copy_set_of(nodes[2].items[i]) == 3);
    // No two copies of an object share a cartridge.
    CHECK(query(library,
                fmt::format("SELECT count(DISTINCT cartridge) FROM objects WHERE object = '{}'",
                            nodes[0].items[i].object))
          == 3);
  }
  // Objects only node 3 holds: their first copy, in set 1, but not on node
  // 1's cartridges (each writer appends to its own).
  CHECK(copy_set_of(nodes[2].items[4]) == 1);
  CHECK(copy_set_of(nodes[2].items[5]) == 1);
  CHECK(query(library,
              "SELECT count(*) FROM (SELECT cartridge FROM objects GROUP BY cartridge"
              " HAVING count(DISTINCT substr(file, 1, instr(file, '/node/'))) > 1)")
        == 0);
  CHECK(query(library, "SELECT count(DISTINCT writer) FROM cartridges") == 3);
  CHECK(query(library,
              "SELECT count(*) FROM (SELECT writer, copy_set FROM cartridges"
              " GROUP BY writer, copy_set)")
        == 4); // (1, set 1), (2, set 2), (3, set 3), (3, set 1)

  // A repeated migrate moves nothing; every copy reads back.
  auto tapesim = make_tapesim(library);
  const double cartridges = query(library, "SELECT count(*) FROM cartridges");
  REQUIRE(states(tapesim->run(Operation::migrate, nodes[1].items)) == all(4, S::migrated));
  CHECK(query(library, "SELECT count(*) FROM cartridges") == cartridges);
  for (const auto& replicas : nodes) {
    check_recall_restores(*tapesim, replicas, replicas);
  }
  CHECK(check_index_consistent(library) == 14);
}

namespace {

// Every row of the tables an estimate must leave alone (copies,
// cartridges, drives, clock, calls) and the cartridges' sizes, as text.
std::string
library_snapshot(const fs::path& library)
{
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((library / "index.sqlite").c_str(), &db) == SQLITE_OK);
  std::string snapshot;
  for (const auto* table : {"objects", "cartridges", "drives", "clock", "calls"}) {
    const auto sql = fmt::format("SELECT * FROM {} ORDER BY 1", table);
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    snapshot += fmt::format("{}:\n", table);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const auto* text = sqlite3_column_text(stmt, c);
        snapshot += text ? reinterpret_cast<const char*>(text) : "NULL";
        snapshot += '|';
      }
      snapshot += '\n';
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  for (const auto& entry : fs::directory_iterator(library / "cartridges")) {
    snapshot += fmt::format("{} {}\n", entry.path().filename().string(), fs::file_size(entry));
  }
  return snapshot;
}

// The cost the library recorded for call `id` (1 = the first), as an
// Estimate; `items` and `cartridges` are not recorded and stay 0.
Estimate
recorded_call(const fs::path& library, int id)
{
  const auto column = [&](std::string_view name) {
    return query(library, fmt::format("SELECT {} FROM calls WHERE id = {}", name, id));
  };
  Estimate recorded;
  recorded.bytes = static_cast<std::uint64_t>(column("bytes"));
  recorded.mounts = static_cast<std::uint64_t>(column("mounts"));
  recorded.drive_seconds = column("drive_seconds");
  recorded.wall_seconds = column("elapsed_seconds");
  return recorded;
}

int
last_call(const fs::path& library)
{
  return static_cast<int>(query(library, "SELECT max(id) FROM calls"));
}

// The estimate's cost is what the call recorded (to rounding).
void
check_estimate_matches(const Estimate& estimate, const Estimate& recorded)
{
  CHECK(estimate.bytes == recorded.bytes);
  CHECK(estimate.mounts == recorded.mounts);
  CHECK(estimate.drive_seconds == Approx(recorded.drive_seconds).epsilon(1e-6));
  CHECK(estimate.wall_seconds == Approx(recorded.wall_seconds).epsilon(1e-6));
}

// Distinct cartridges holding the copies of `items`.
std::size_t
cartridges_of(const fs::path& library, const std::vector<Item>& items)
{
  const auto rows = index_rows(library);
  std::set<std::string> cartridges;
  for (const auto& item : items) {
    cartridges.insert(rows.at(item.file).cartridge);
  }
  return cartridges.size();
}

} // namespace

TEST_CASE("tapesim estimates a recall as the recall then records it, changing nothing",
          "[tapesim][estimate]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk",
                    {20'000, 30'000, 40'000, 50'000, 10'000, 60'000, 5, 15'000});
  const auto& items = replicas.items;
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library, {{"release", "punch"}});
  REQUIRE(states(tapesim->run(Operation::migrate, items)) == all(items.size(), S::migrated));
  // One replica recalled already: its data is on disk, a recall reads nothing.
  REQUIRE(states(tapesim->run(Operation::recall, std::vector{items[0]})) == all(1, S::premigrated));
  const auto before = library_snapshot(library);

  const auto estimate = tapesim->estimate(Operation::recall, items);
  REQUIRE(estimate.has_value());
  CHECK(library_snapshot(library) == before); // nothing written, nothing mounted
  CHECK(estimate->items == items.size() - 1);
  CHECK(estimate->cartridges
        == cartridges_of(library, std::vector<Item>(items.begin() + 1, items.end())));
  CHECK(estimate->mounts > 0);
  CHECK(estimate->wall_seconds < estimate->drive_seconds); // two drives at work

  REQUIRE(states(tapesim->run(Operation::recall, items)) == all(items.size(), S::premigrated));
  check_estimate_matches(*estimate, recorded_call(library, last_call(library)));

  // Everything on disk now: nothing to read, nothing to pay.
  CHECK(tapesim->estimate(Operation::recall, items) == Estimate{});
  // The status has nothing to estimate.
  CHECK_THROWS_AS(tapesim->estimate(Operation::status, items), Error);
}

TEST_CASE("tapesim estimates a migrate as the migrate then records it, changing nothing",
          "[tapesim][estimate]")
{
  test::TempDir dir;
  Replicas replicas(dir.path() / "disk", {20'000, 30'000, 40'000, 50'000, 10'000, 60'000, 5, 0});
  const auto& items = replicas.items;
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library);
  // Two on tape already: the migrate only changes their state.
  REQUIRE(states(tapesim->run(Operation::migrate, std::vector(items.begin(), items.begin() + 2)))
          == all(2, S::migrated));
  std::vector<Item> batch = items;
  batch.push_back({"/AUTH_test/c/gone", "", (dir.path() / "gone").string()}); // no file
  const auto before = library_snapshot(library);

  const auto estimate = tapesim->estimate(Operation::migrate, batch);
  REQUIRE(estimate.has_value());
  CHECK(library_snapshot(library) == before);
  CHECK(estimate->items == items.size() - 2);
  CHECK(estimate->mounts >= 2); // 64 KiB cartridges: several new ones

  auto outcomes = tapesim->run(Operation::migrate, batch);
  REQUIRE(outcomes.size() == batch.size());
  CHECK_FALSE(outcomes.back().ok()); // not on this device
  outcomes.pop_back();
  CHECK(states(outcomes) == all(items.size(), S::migrated));
  const auto call = last_call(library);
  check_estimate_matches(*estimate, recorded_call(library, call));
  CHECK(static_cast<double>(estimate->cartridges)
        == query(library,
                 fmt::format("SELECT count(DISTINCT cartridge) FROM objects WHERE file NOT IN "
                             "('{}', '{}')",
                             items[0].file,
                             items[1].file)));

  // All on tape: a migrate moves nothing.
  CHECK(tapesim->estimate(Operation::migrate, items) == Estimate{});
}

TEST_CASE("tapesim estimates of one library chain as its calls do", "[tapesim][estimate]")
{
  test::TempDir dir;
  const auto library = dir.path() / "library";
  // Two nodes sharing the library (two object servers of one host, each
  // its own writer), holding replicas of the same objects.
  const auto node = [&](int n) {
    return Replicas(dir.path() / fmt::format("srv{0}/node/sdb{0}/objects/7/abc/hash", n),
                    {20'000, 30'000, 40'000, 25'000, 35'000},
                    static_cast<unsigned>(n));
  };
  const auto a = node(1);
  const auto b = node(2);
  auto on_a = make_tapesim(library, {{"release", "punch"}});
  auto on_b = make_tapesim(library, {{"release", "punch"}});

  // Migrate: B's copies are the objects' second (copy set 2, new
  // cartridges after A's), which only a chain knows before A's are written.
  auto before = library_snapshot(library);
  const auto migrate_a = on_a->estimate(Operation::migrate, a.items);
  const auto migrate_b = on_b->estimate(Operation::migrate, b.items);
  REQUIRE(migrate_a.has_value());
  REQUIRE(migrate_b.has_value());
  CHECK(library_snapshot(library) == before);
  REQUIRE(states(on_a->run(Operation::migrate, a.items)) == all(5, S::migrated));
  check_estimate_matches(*migrate_a, recorded_call(library, last_call(library)));
  REQUIRE(states(on_b->run(Operation::migrate, b.items)) == all(5, S::migrated));
  check_estimate_matches(*migrate_b, recorded_call(library, last_call(library)));
  CHECK(migrate_b->cartridges == cartridges_of(library, b.items));

  // Recall: A's recall takes the drives from B's cartridges, so B's must
  // be mounted again; an estimate of B from the library as it is now
  // would find them in the drives.
  // (The same library copied elsewhere: no chain there yet.)
  fs::copy(library, dir.path() / "copy", fs::copy_options::recursive);
  const auto unchained =
    make_tapesim(dir.path() / "copy", {{"release", "punch"}})->estimate(Operation::recall, b.items);
  REQUIRE(unchained.has_value());
  before = library_snapshot(library);
  const auto recall_a = on_a->estimate(Operation::recall, a.items);
  const auto recall_b = on_b->estimate(Operation::recall, b.items);
  REQUIRE(recall_a.has_value());
  REQUIRE(recall_b.has_value());
  CHECK(library_snapshot(library) == before);
  CHECK(recall_b->mounts > unchained->mounts);
  REQUIRE(states(on_a->run(Operation::recall, a.items)) == all(5, S::premigrated));
  const auto first = last_call(library);
  REQUIRE(states(on_b->run(Operation::recall, b.items)) == all(5, S::premigrated));
  check_estimate_matches(*recall_a, recorded_call(library, first));
  check_estimate_matches(*recall_b, recorded_call(library, first + 1));
}

TEST_CASE("tapesim estimates the recall of a lost replica by the record it reads",
          "[tapesim][estimate][rebuild]")
{
  test::TempDir dir;
  DeviceReplicas replicas(dir.path(), {30'000, 1000});
  const auto library = dir.path() / "library";
  auto tapesim = make_tapesim(library, {{"release", "punch"}});
  REQUIRE(states(tapesim->run(Operation::migrate, replicas.items)) == all(2, S::migrated));
  const auto rows = index_rows(library);
  fs::remove(replicas.items[0].file);
  const std::vector<Item> items = {replicas.lost(0), replicas.items[1]};

  const auto estimate = tapesim->estimate(Operation::recall, items);
  REQUIRE(estimate.has_value());
  const auto& lost = rows.at(replicas.items[0].file);
  // The whole record of the lost one (header and data), the data of the other.
  CHECK(estimate->bytes == lost.position + lost.length - lost.header_position + 1000);
  REQUIRE(states(tapesim->run(Operation::recall, items)) == all(2, S::premigrated));
  check_estimate_matches(*estimate, recorded_call(library, last_call(library)));
}

TEST_CASE("tapesim estimates keep an object's copies apart as migrate does",
          "[tapesim][estimate][layout]")
{
  test::TempDir dir;
  const auto library = dir.path() / "library";
  // Two devices of one node (one writer) holding replicas of the same
  // objects: the second replica of each goes to copy set 2, on cartridges
  // of its own, in one batch or in the next.
  const auto device = [&](int n) {
    return Replicas(dir.path() / fmt::format("node/sdb{}/objects/7/abc/hash", n),
                    {9'000, 12'000, 7'000},
                    static_cast<unsigned>(n));
  };
  const auto first = device(1);
  const auto second = device(2);
  std::vector<Item> both = first.items;
  both.insert(both.end(), second.items.begin(), second.items.end());
  auto tapesim = make_tapesim(library);

  const auto one_batch = tapesim->estimate(Operation::migrate, both);
  REQUIRE(one_batch.has_value());
  CHECK(one_batch->cartridges == 2);
  // The library copied elsewhere: the same batch in two calls.
  const auto copy = dir.path() / "copy";
  fs::copy(library, copy, fs::copy_options::recursive);
  auto on_copy = make_tapesim(copy);
  const auto first_call = on_copy->estimate(Operation::migrate, first.items);
  const auto second_call = on_copy->estimate(Operation::migrate, second.items);
  REQUIRE(first_call.has_value());
  REQUIRE(second_call.has_value());
  CHECK(second_call->cartridges == 1);

  REQUIRE(states(tapesim->run(Operation::migrate, both)) == all(6, S::migrated));
  check_estimate_matches(*one_batch, recorded_call(library, last_call(library)));
  REQUIRE(states(on_copy->run(Operation::migrate, first.items)) == all(3, S::migrated));
  check_estimate_matches(*first_call, recorded_call(copy, last_call(copy)));
  REQUIRE(states(on_copy->run(Operation::migrate, second.items)) == all(3, S::migrated));
  check_estimate_matches(*second_call, recorded_call(copy, last_call(copy)));
  CHECK(cartridges_of(copy, second.items) == 1);
  CHECK(query(copy, "SELECT count(*) FROM cartridges") == 2);
}
