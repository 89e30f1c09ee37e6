#include "../../support/temp_dir.hpp"

#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>

#include <connectors/tapesim/rebuild.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>

#include <fstream>
#include <sstream>

using namespace hlm;
using namespace hlm::connector::tapesim;
namespace fs = std::filesystem;

namespace {

using test::read_file;

// 0 for a directory that does not exist.
std::size_t
count_entries(const fs::path& dir)
{
  std::size_t n = 0;
  if (!fs::exists(dir)) {
    return 0;
  }
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

// A device tree and a cartridge holding one record.
struct Setup
{
  test::TempDir root;
  fs::path device = root.path() / "node" / "sdb1";
  fs::path object_dir = device / "objects/917/292/e57f1f5d9f265938e95435bebef7b292";
  std::string data = std::string(100'000, 'x') + "end";
  TapeRecordHeader header;
  std::uint64_t data_position = 0;
  fs::path cartridge_path = root.path() / "cartridge";

  Setup()
  {
    header.object = "/AUTH_test/c1/obj1";
    header.data_file = "1700000000.12345.data";
    header.data_length = data.size();
    header.data_md5 = to_hex(md5(data));
    header.xattrs = {{"user.swift.metadata", std::string("\x80\x02}\x00raw", 8)},
                     {"user.swift.metadata_checksum", "0123"}};
    const auto record = encode_header(header);
    data_position = 7 + record.size();
    root.write("cartridge", "earlier" + record + data);
    fs::create_directories(device);
  }

  fs::path
  rebuild(const std::function<void()>& before_link = {}) const
  {
    File cartridge(cartridge_path, O_RDONLY);
    return rebuild_replica(cartridge, data_position, header, object_dir, before_link);
  }
};

} // namespace

TEST_CASE("rebuild_replica recreates the file with its name, bytes and xattrs",
          "[tapesim][rebuild]")
{
  Setup setup;
  const auto file = setup.rebuild();
  CHECK(file == setup.object_dir / "1700000000.12345.data");
  CHECK(read_file(file) == setup.data);
  CHECK(File(file, O_RDONLY).xattrs("user.") == setup.header.xattrs);
  CHECK((fs::status(file).permissions() & fs::perms::all)
        == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(count_entries(setup.device / "tmp") == 0); // the temporary name is gone
  CHECK(count_entries(setup.object_dir) == 1);
}

TEST_CASE("rebuild_replica writes nothing when the cartridge bytes are corrupt",
          "[tapesim][rebuild]")
{
  Setup setup;
  std::fstream cartridge(setup.cartridge_path, std::ios::in | std::ios::out | std::ios::binary);
  cartridge.seekp(static_cast<std::streamoff>(setup.data_position + 500));
  cartridge.put('y');
  cartridge.close();
  CHECK_THROWS_WITH(setup.rebuild(),
                    Catch::Contains("checksum mismatch") && Catch::Contains("nothing rebuilt"));
  CHECK_FALSE(fs::exists(setup.object_dir));
  CHECK(count_entries(setup.device / "tmp") == 0);
}

TEST_CASE("rebuild_replica gives way to a PUT or DELETE", "[tapesim][rebuild]")
{
  Setup setup;

  SECTION("a newer tombstone appears while the file is written")
  {
    const auto tombstone = setup.object_dir / "1700000001.00000.ts";
    CHECK_THROWS_WITH(setup.rebuild([&] { std::ofstream{tombstone}; }),
                      Catch::Contains("tombstone (1700000001.00000.ts)")
                        && Catch::Contains("discarded"));
    CHECK(count_entries(setup.object_dir) == 1);
    CHECK(fs::exists(tombstone));
  }
  SECTION("a newer .data appears while the file is written")
  {
    const auto newer = setup.object_dir / "1700000002.00000.data";
    CHECK_THROWS_WITH(setup.rebuild([&] { std::ofstream(newer) << "new"; }),
                      Catch::Contains("discarded"));
    CHECK(count_entries(setup.object_dir) == 1);
    CHECK(read_file(newer) == "new");
  }
  SECTION("the same file appears while the file is written")
  {
    const auto same = setup.object_dir / setup.header.data_file;
    CHECK_THROWS_WITH(setup.rebuild([&] { std::ofstream(same) << "replicated"; }),
                      Catch::Contains("appeared meanwhile"));
    CHECK(read_file(same) == "replicated"); // never overwritten
  }
  SECTION("a tombstone is already there")
  {
    fs::create_directories(setup.object_dir);
    std::ofstream{setup.object_dir / "1700000001.00000.ts"};
    CHECK_THROWS_WITH(setup.rebuild(), Catch::Contains("nothing rebuilt"));
    CHECK(count_entries(setup.object_dir) == 1);
  }
  CHECK(count_entries(setup.device / "tmp") == 0);
}

TEST_CASE("rebuild_replica only works in an object's hash directory", "[tapesim][rebuild]")
{
  Setup setup;
  setup.object_dir = setup.device / "elsewhere/a/b/c";
  CHECK_THROWS_WITH(setup.rebuild(), Catch::Contains("not an object's hash directory"));
}
