#include "../support/temp_dir.hpp"

#include <hlm/diskfile/diskfile.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <tuple>

namespace fs = std::filesystem;
using hlm::diskfile::locate_replica;
using hlm::diskfile::LocatedReplica;
using hlm::diskfile::object_dir;
using hlm::diskfile::ReplicaScanner;
using hlm::diskfile::ReplicaState;

namespace {

using hlm::test::TempDir;

// A hash directory holding empty files with the given names.
LocatedReplica
locate(const TempDir& dir, std::initializer_list<const char*> names)
{
  for (const char* name : names) {
    std::ofstream(dir.path() / name).flush();
  }
  return locate_replica(dir.path());
}

} // namespace

TEST_CASE("object_dir: Swift's layout")
{
  const std::string hash = "e57f1f5d9f265938e95435bebef7b292";
  CHECK(object_dir("/srv/node", "sdb1", 0, 917, hash)
        == "/srv/node/sdb1/objects/917/292/e57f1f5d9f265938e95435bebef7b292");
  CHECK(object_dir("/srv/node/", "sdb1", 2, 0, hash)
        == "/srv/node/sdb1/objects-2/0/292/e57f1f5d9f265938e95435bebef7b292");
  CHECK(object_dir("devs", "d", 1, 4294967295u, hash)
        == "devs/d/objects-1/4294967295/292/e57f1f5d9f265938e95435bebef7b292");
}

TEST_CASE("object_dir: rejects input that could leave the devices root")
{
  const std::string hash = "e57f1f5d9f265938e95435bebef7b292";
  CHECK_THROWS_AS(object_dir("/srv/node", "sdb1", -1, 1, hash), hlm::InputError);
  for (const std::string& device :
       std::initializer_list<std::string>{"", ".", "..", "a/b", "/etc", std::string("a\0b", 3)}) {
    INFO("device \"" << device << "\"");
    CHECK_THROWS_AS(object_dir("/srv/node", device, 0, 1, hash), hlm::InputError);
  }
  for (const std::string bad : {"",
                                "292",
                                "E57F1F5D9F265938E95435BEBEF7B292",
                                "e57f1f5d9f265938e95435bebef7b29",
                                "e57f1f5d9f265938e95435bebef7b2921",
                                "../../../../etc/passwd/../../../x",
                                "e57f1f5d9f265938e95435bebef7b29g"}) {
    INFO("hash \"" << bad << "\"");
    CHECK_THROWS_WITH(object_dir("/srv/node", "sdb1", 0, 1, bad),
                      Catch::Contains("invalid object hash"));
  }
}

TEST_CASE("locate_replica: no state")
{
  TempDir dir;
  SECTION("directory missing")
  {
    const auto result = locate_replica(dir.path() / "nope");
    CHECK(result.state == ReplicaState::absent);
    CHECK(result.data_file.empty());
    CHECK(result.timestamp.empty());
  }
  SECTION("path is a file")
  {
    std::ofstream(dir.path() / "file").flush();
    CHECK(locate_replica(dir.path() / "file").state == ReplicaState::absent);
  }
  SECTION("empty directory")
  {
    CHECK(locate(dir, {}).state == ReplicaState::absent);
  }
  SECTION("only a .meta")
  {
    CHECK(locate(dir, {"1795332047.00000.meta"}).state == ReplicaState::absent);
  }
}

TEST_CASE("locate_replica: replicated objects")
{
  TempDir dir;
  const auto in_dir = [&](const char* name) { return dir.path() / name; };
  SECTION("only a .data")
  {
    const auto result = locate(dir, {"1795332046.73390.data"});
    CHECK(result.state == ReplicaState::present);
    CHECK(result.data_file == in_dir("1795332046.73390.data"));
    CHECK(result.timestamp == "1795332046.73390");
    CHECK(result.fragment_index == std::nullopt);
    CHECK(result.meta_file.empty());
  }
  SECTION("a newer tombstone")
  {
    const auto result = locate(dir, {"1795332046.73390.data", "1795332048.00000.ts"});
    CHECK(result.state == ReplicaState::deleted);
    CHECK(result.timestamp == "1795332048.00000");
    CHECK(result.data_file.empty());
  }
  SECTION("a tombstone at the same time wins")
  {
    CHECK(locate(dir, {"1795332046.73390.data", "1795332046.73390.ts"}).state
          == ReplicaState::deleted);
  }
  SECTION("a .data newer than the tombstone")
  {
    const auto result = locate(
      dir,
      {"1795332040.00000.ts", "1795332046.73390.data", "1795332047.00000.meta"});
    CHECK(result.state == ReplicaState::present);
    CHECK(result.data_file == in_dir("1795332046.73390.data"));
    CHECK(result.meta_file == in_dir("1795332047.00000.meta"));
  }
  SECTION("several .data: the newest")
  {
    const auto result = locate(
      dir,
      {"1795332046.73390.data", "1795332050.00000.data", "1795332049.99999.data"});
    CHECK(result.data_file == in_dir("1795332050.00000.data"));
  }
  SECTION(".meta files: the newest one newer than the data")
  {
    const auto result = locate(dir,
                               {"1795332045.00000.meta",
                                "1795332046.73390.meta",
                                "1795332046.73390.data",
                                "1795332047.00000.meta",
                                "1795332048.00000+0.meta",
                                "1795332048.00000.meta"});
    CHECK(result.state == ReplicaState::present);
    CHECK(result.data_file == in_dir("1795332046.73390.data"));
    // Same time: the one with a content-type time wins.
    CHECK(result.meta_file == in_dir("1795332048.00000+0.meta"));
  }
  SECTION(".meta no newer than the data is ignored")
  {
    const auto result = locate(
      dir,
      {"1795332045.00000.meta", "1795332046.73390.meta", "1795332046.73390.data"});
    CHECK(result.meta_file.empty());
  }
  SECTION(".meta names with content-type deltas")
  {
    const auto result = locate(
      dir,
      {"1795332046.73390.data", "1795332050.00000-186a0.meta", "1795332050.00000+0-5.meta"});
    // Same time; content-type times 1795332049 and 1795332050.
    CHECK(result.meta_file == in_dir("1795332050.00000+0-5.meta"));
  }
}

TEST_CASE("locate_replica: timestamps compare as Swift's Timestamp")
{
  TempDir dir;
  SECTION("numerically, not as strings")
  {
    CHECK(locate(dir, {"999999999.99999.data", "1000000000.00000.ts"}).state
          == ReplicaState::deleted);
  }
  SECTION("rounded to 10 us: equal forms are equal")
  {
    const auto result = locate(dir, {"1.5.data", "1.50000.ts"});
    CHECK(result.state == ReplicaState::deleted);
    CHECK(result.timestamp == "0000000001.50000");
  }
  SECTION("offsets order rewrites of the same instant")
  {
    const auto deleted = locate(dir,
                                {"1795332046.73390.data", "1795332046.73390_0000000000000001.ts"});
    CHECK(deleted.state == ReplicaState::deleted);
    CHECK(deleted.timestamp == "1795332046.73390_0000000000000001");

    const auto present = locate(dir, {"1795332046.73390_000000000000000a.data"});
    CHECK(present.state == ReplicaState::present);
    CHECK(present.timestamp == "1795332046.73390_000000000000000a");
    CHECK(present.data_file == dir.path() / "1795332046.73390_000000000000000a.data");
  }
  SECTION("an offset never outranks a later time")
  {
    CHECK(locate(dir, {"1795332046.73390_ffffffffffffffff.data", "1795332046.73391.ts"}).state
          == ReplicaState::deleted);
  }
  SECTION("a zero offset is the plain timestamp")
  {
    CHECK(locate(dir, {"1795332046.73390.data", "1795332046.73390_0000000000000000.ts"}).state
          == ReplicaState::deleted);
  }
}

TEST_CASE("locate_replica: erasure-coded fragments")
{
  TempDir dir;
  const auto in_dir = [&](const char* name) { return dir.path() / name; };
  SECTION("durable fragments: the highest index")
  {
    const auto result = locate(dir, {"1795332046.73390#0#d.data", "1795332046.73390#2#d.data"});
    CHECK(result.state == ReplicaState::present);
    CHECK(result.data_file == in_dir("1795332046.73390#2#d.data"));
    CHECK(result.fragment_index == 2);
    CHECK(result.timestamp == "1795332046.73390");
  }
  SECTION("a newer non-durable fragment is ignored")
  {
    const auto result = locate(dir, {"1795332046.73390#1#d.data", "1795332050.00000#1.data"});
    CHECK(result.data_file == in_dir("1795332046.73390#1#d.data"));
  }
  SECTION("only non-durable fragments: absent")
  {
    CHECK(locate(dir, {"1795332050.00000#1.data", "1795332050.00000#4.data"}).state
          == ReplicaState::absent);
  }
  SECTION("non-durable fragments newer than a tombstone: deleted")
  {
    const auto result = locate(dir, {"1795332040.00000.ts", "1795332050.00000#1.data"});
    CHECK(result.state == ReplicaState::deleted);
    CHECK(result.timestamp == "1795332040.00000");
  }
  SECTION("legacy .durable marks its timestamp's fragments durable")
  {
    const auto result = locate(
      dir,
      {"1795332046.73390#3.data", "1795332046.73390.durable", "1795332050.00000#1.data"});
    CHECK(result.data_file == in_dir("1795332046.73390#3.data"));
    CHECK(result.fragment_index == 3);
  }
  SECTION("a .durable newer than any fragment hides older #d fragments")
  {
    // Swift's _process_ondisk_files keeps the newer .durable as the durable
    // timestamp and finds no fragment set for it.
    CHECK(locate(dir, {"1795332046.73390#0#d.data", "1795332050.00000.durable"}).state
          == ReplicaState::absent);
  }
  SECTION("a .meta at the durable timestamp applies")
  {
    const auto result = locate(dir, {"1795332046.73390#0#d.data", "1795332046.73390.meta"});
    CHECK(result.meta_file == in_dir("1795332046.73390.meta"));
  }
  SECTION("plain .data names are not fragments and are ignored")
  {
    const auto result = locate(dir, {"1795332046.73390#5#d.data", "1795332050.00000.data"});
    CHECK(result.fragment_index == 5);
  }
}

TEST_CASE("locate_replica: unrelated and malformed names are ignored")
{
  TempDir dir;
  const std::initializer_list<const char*> garbage = {
    "hashes.pkl",
    ".1795332046.73390.data.Xy095a", // rsync temp file
    "tmpabc123",
    "abc.data",
    "1795332050.00000.data.tmp",
    ".data",
    "1e9.data",
    "1.5.5.data",
    "-1.0.data",
    "1.5_xyz.data",
    "1.5_.data",
    "1.5_00000000000000001.data", // 17 hex digits
    "12345678901.00000.data",     // >= 10^10 s
    "1795332050.00000#x.data",
    "1795332050.00000#-1.data",
    "1795332050.00000#1#x.data",
    "1795332050.00000#1#d#d.data",
    "#1.data",
    "1795332050.00000+zz.meta",
    "1795332050.00000+1+2+3.meta",
    "1795332050.00000.unknown",
    "1795332050",
  };
  SECTION("alone")
  {
    CHECK(locate(dir, garbage).state == ReplicaState::absent);
  }
  SECTION("next to a real .data")
  {
    const auto result = locate(dir, garbage);
    std::ofstream(dir.path() / "1795332046.73390.data").flush();
    fs::create_directory(dir.path() / "1795332049.00000.ts"); // still a name
    const auto with_data = locate_replica(dir.path());
    CHECK(result.state == ReplicaState::absent);
    CHECK(with_data.state == ReplicaState::deleted);
    CHECK(with_data.timestamp == "1795332049.00000");
  }
}

TEST_CASE("locate_replica: symlinks are reported by name, never followed")
{
  TempDir dir;
  fs::create_symlink("/etc/passwd", dir.path() / "1795332046.73390.data");
  fs::create_symlink("/nonexistent", dir.path() / "1795332047.00000.meta");
  const auto result = locate_replica(dir.path());
  CHECK(result.state == ReplicaState::present);
  CHECK(result.data_file == dir.path() / "1795332046.73390.data");
  CHECK(result.meta_file == dir.path() / "1795332047.00000.meta");
}

TEST_CASE("locate_replica: a directory that cannot be listed is an error")
{
  // Permissions cannot stop root (CI runs as root); a symlink loop fails
  // to open for everyone (ELOOP).
  TempDir dir;
  const auto loop = dir.path() / "hash";
  fs::create_symlink(loop, loop);
  CHECK_THROWS_WITH(locate_replica(loop), Catch::Contains("cannot list \"" + loop.string()));
}

TEST_CASE("format_object_dir: object_dir's text, into a reused string")
{
  const std::string hash = "e57f1f5d9f265938e95435bebef7b292";
  std::string out = "left over from before, longer than the result will be, to be replaced";
  for (const auto& [root, device, policy, partition] :
       {std::tuple<std::string, std::string, int, std::uint32_t>{"/srv/node", "sdb1", 0, 917},
        {"/srv/node/", "sdb1", 2, 0},
        {"devs", "d", 1, 4294967295u},
        {"", "d", 0, 1},
        {"/", "d", 12, 7}}) {
    INFO(root << " " << device << " " << policy << " " << partition);
    hlm::diskfile::format_object_dir(out, root, device, policy, partition, hash);
    CHECK(out == object_dir(root, device, policy, partition, hash).string());
  }
  CHECK_THROWS_AS(hlm::diskfile::format_object_dir(out, "/srv", "..", 0, 1, hash), hlm::InputError);
  CHECK_THROWS_WITH(hlm::diskfile::format_object_dir(out, "/srv", "d", 0, 1, "292"),
                    Catch::Contains("invalid object hash"));
}

TEST_CASE("ReplicaScanner: one read and the end-of-directory read for a small directory")
{
  TempDir dir;
  locate(dir, {"1795332046.73390.data", "1795332047.00000.meta", "hashes.pkl"});
  ReplicaScanner scanner;
  const auto result = scanner.scan(dir.path().string());
  CHECK(scanner.directory_reads() == 2);
  CHECK(result.state == ReplicaState::present);
  CHECK(result.data_name == "1795332046.73390.data");
  CHECK(result.meta_name == "1795332047.00000.meta");
  CHECK(result.timestamp->internal() == "1795332046.73390");
  CHECK(result.fragment_index == std::nullopt);
}

TEST_CASE("ReplicaScanner: a directory larger than the buffer is read in pieces")
{
  // About 1,500 entries of 48 bytes each: over 64 KiB of getdents64
  // records, so more than two reads of the default 32 KiB buffer.
  TempDir dir;
  constexpr int k_files = 1500;
  for (int i = 0; i < k_files; ++i) {
    std::ofstream(dir.path() / fmt::format("{}.{:05d}.data", 1700000000 + i, i % 100000)).flush();
  }
  for (int i = 0; i < k_files; ++i) {
    std::ofstream(dir.path() / fmt::format("{}.00000.meta", 1600000000 + i)).flush();
  }
  const std::string newest = fmt::format("{}.{:05d}.data",
                                         1700000000 + k_files - 1,
                                         (k_files - 1) % 100000);
  for (const std::size_t buffer : {ReplicaScanner::k_default_buffer_bytes, std::size_t{1024}}) {
    INFO("buffer " << buffer);
    ReplicaScanner scanner(buffer);
    const auto result = scanner.scan(dir.path().string());
    CHECK(scanner.directory_reads() >= 3);
    CHECK(result.state == ReplicaState::present);
    CHECK(result.data_name == newest);
    CHECK(result.meta_name.empty()); // every .meta is older than the data
    // The same directory again reads the same.
    const auto reads = scanner.directory_reads();
    CHECK(scanner.scan(dir.path().string()).data_name == newest);
    CHECK(scanner.directory_reads() == 2 * reads);
  }
  CHECK(locate_replica(dir.path()).data_file == dir.path() / newest);
}

TEST_CASE("ReplicaScanner: one scanner, many directories, nothing carried over")
{
  TempDir root;
  const auto big = root.path() / "big";
  const auto small = root.path() / "small";
  const auto deleted = root.path() / "deleted";
  fs::create_directories(big);
  fs::create_directories(small);
  fs::create_directories(deleted);
  for (int i = 0; i < 300; ++i) {
    std::ofstream(big / fmt::format("{}.00000.data", 1700000000 + i)).flush();
  }
  std::ofstream(small / "1600000000.00000.data").flush();
  std::ofstream(deleted / "1600000000.00000.data").flush();
  std::ofstream(deleted / "1600000001.00000.ts").flush();
  std::ofstream(root.path() / "file").flush();

  ReplicaScanner scanner(1024);
  CHECK(scanner.scan(big.string()).data_name == "1700000299.00000.data");
  const auto one = scanner.scan(small.string());
  CHECK(one.state == ReplicaState::present);
  CHECK(one.data_name == "1600000000.00000.data");
  const auto gone = scanner.scan(deleted.string());
  CHECK(gone.state == ReplicaState::deleted);
  CHECK(gone.data_name.empty());
  CHECK(gone.timestamp->internal() == "1600000001.00000");
  CHECK(scanner.scan((root.path() / "nope").string()).state == ReplicaState::absent);
  CHECK(scanner.scan((root.path() / "file").string()).state == ReplicaState::absent);
  const auto absent = scanner.scan((root.path() / "file").string());
  CHECK(absent.timestamp == std::nullopt);
  CHECK(scanner.scan(small.string()).data_name == "1600000000.00000.data");
}

TEST_CASE("ReplicaScanner: names and paths with odd bytes")
{
  TempDir root;
  // The directory's own path holds a newline, a space and bytes that are
  // not UTF-8; the names beside the .data file too, and are ignored.
  const auto dir = root.path() / std::string("odd \n\xff\xfe dir");
  fs::create_directories(dir);
  for (const std::string& name : {std::string("\xff\xfe.data"),
                                  std::string("1795332050.00000.data\n"),
                                  std::string("1795332050.00000\x01.data"),
                                  std::string("\n.ts"),
                                  std::string("1795332050.00000.data\xff"),
                                  std::string("1795332046.73390.data")}) {
    std::ofstream(dir / name).flush();
  }
  ReplicaScanner scanner;
  const auto result = scanner.scan(dir.string());
  CHECK(result.state == ReplicaState::present);
  CHECK(result.data_name == "1795332046.73390.data");
  CHECK(locate_replica(dir).data_file == dir / "1795332046.73390.data");
}

TEST_CASE("ReplicaScanner: a directory that cannot be listed is an error")
{
  TempDir dir;
  const auto loop = dir.path() / "hash";
  fs::create_symlink(loop, loop);
  ReplicaScanner scanner;
  CHECK_THROWS_WITH(
    scanner.scan(loop.string()),
    Catch::Equals("cannot list \"" + loop.string() + "\": Too many levels of symbolic links"));
}
