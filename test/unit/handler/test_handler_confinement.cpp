// hlm-handler only touches files under the object server's devices root:
// device names are single plain path components, the object directory is
// derived from the hash of the name (never from the name itself), and a
// symlinked device is used exactly where Swift would use it.
#include "../support/ring_writer.hpp"
#include "../support/swift_metadata.hpp"
#include "../support/temp_dir.hpp"
#include "recording_connector.hpp"

#include <hlm/diskfile/diskfile.hpp>
#include <hlm/handler/handler.hpp>
#include <hlm/protocol/request.hpp>
#include <hlm/ring/hash_path.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <iterator>
#include <sstream>

using namespace hlm;
using namespace hlm::handler;
using namespace hlm::protocol;
using connector::Item;
using connector::Outcome;

namespace {

using test::RecordingConnector;

// One storage node with devices sdb1 and sdb2 under `devices`, and a file
// outside it that nothing may reach.
struct Node
{
  test::TempDir root;
  std::filesystem::path swift_dir = root.path() / "etc";
  std::filesystem::path devices = root.path() / "srv" / "node";
  ObjectServerConf conf;
  ring::HashSecret secret{"saio-prefix", "saio-suffix"};

  Node()
  {
    root.write("etc/swift.conf",
               "[swift-hash]\nswift_hash_path_prefix = saio-prefix\n"
               "swift_hash_path_suffix = saio-suffix\n"
               "[storage-policy:0]\nname = gold\ndefault = yes\n");
    test::write_gzip(swift_dir / "object.ring.gz", test::serialize(test::simple_ring(10, 3)));
    std::filesystem::create_directories(devices / "sdb1");
    std::filesystem::create_directories(devices / "sdb2");
    root.write("outside/objects/secret.data", "not Swift's");
    conf.devices = devices;
    conf.mount_check = false;
    conf.swift_dir = swift_dir;
  }

  // Where Swift keeps `path` ("/a/c/o") on `device`.
  std::filesystem::path
  dir_of(const std::string& path, const std::string& device) const
  {
    const auto name = split_object_path(path);
    const auto digest = ring::hash_path(secret, name.account, name.container, name.object);
    const auto ring = ring::Ring::load(swift_dir / "object.ring.gz");
    return diskfile::object_dir(devices, device, 0, ring.partition(digest), to_hex(digest));
  }

  std::filesystem::path
  put(const std::string& path, const std::string& device) const
  {
    const auto dir = dir_of(path, device);
    std::filesystem::create_directories(dir);
    const auto file = dir / "1700000000.00000.data";
    root.write(std::filesystem::relative(file, root.path()).string(), "data");
    test::write_object_metadata(file, path);
    return file;
  }

  nlohmann::json
  run(const Request& request, connector::Connector& backend) const
  {
    HandlerOptions options;
    options.swift_dir = swift_dir;
    options.storage_policy_index = 0;
    std::ostringstream out;
    run_request(request,
                ring::load_swift_conf(options.swift_dir),
                {{&conf, &backend, {}}},
                options,
                out);
    return nlohmann::json::parse(out.str());
  }
};

Request
migrate(const std::vector<std::pair<std::string, std::string>>& objects)
{
  nlohmann::json document = {{"request", "migrate"}, {"objects", nlohmann::json::array()}};
  for (const auto& [object, device] : objects) {
    document["objects"].push_back({{"object", object}, {"device", device}});
  }
  std::istringstream in(document.dump());
  return read_request_document(in);
}

bool
is_under(const std::filesystem::path& path, const std::filesystem::path& root)
{
  const auto relative = path.lexically_normal().lexically_relative(root.lexically_normal());
  return !relative.empty() && *relative.begin() != ".." && relative.is_relative();
}

} // namespace

TEST_CASE("device names must be one plain path component", "[handler]")
{
  for (const std::string bad : {"",
                                ".",
                                "..",
                                "/",
                                "/etc",
                                "a/b",
                                "../../etc",
                                "sdb1/",
                                "/sdb1",
                                "sdb1/..",
                                "a\nb",
                                "a\rb",
                                "a\tb",
                                "\x7f"}) {
    INFO(bad);
    CHECK_THROWS_WITH(check_device_name(bad), Catch::StartsWith("invalid device name \""));
  }
  CHECK_THROWS_AS(check_device_name(std::string("sdb1\0/etc", 9)), InputError);
  CHECK_THROWS_AS(check_device_name(std::string(1, '\0')), InputError);
  CHECK_THROWS_AS(check_device_name("sdb\xff"), InputError); // not UTF-8
  for (const std::string good :
       {"sdb1", "d1", "...", "..a", "a..", ".hidden", "dev ice", "d\xc3\xa9v"}) {
    INFO(good);
    CHECK_NOTHROW(check_device_name(good));
  }
}

TEST_CASE("a request document naming a bad device is refused before anything runs", "[handler]")
{
  for (const std::string bad : {"../../etc", "..", ".", "/", "/etc", "a/b", ""}) {
    INFO(bad);
    const nlohmann::json document = {{"request", "migrate"},
                                     {"objects",
                                      {{{"object", "/AUTH_test/c/o"}, {"device", "sdb1"}},
                                       {{"object", "/AUTH_test/c/o"}, {"device", bad}}}}};
    std::istringstream in(document.dump());
    CHECK_THROWS_WITH(read_request_document(in),
                      Catch::StartsWith("bad request document: objects[1]: invalid device name"));
  }
}

TEST_CASE("hostile object names cannot move the object directory", "[handler]")
{
  Node node;
  const std::vector<std::string> hostile = {
    "/AUTH_test/c/../../../../outside/objects/secret",
    "/AUTH_test/../../outside/o",
    "/AUTH_test/c/..",
    "/AUTH_test/c/./././.",
    "/AUTH_test/c//etc/passwd",
    "/AUTH_test/c/$(touch pwned)",
    "/AUTH_test/c/`id`;|'\"\n-rf",
    "/AUTH_test/c/caf\xc3\xa9 \xf0\x9f\x93\xbc",
  };
  std::vector<std::pair<std::string, std::string>> objects;
  std::vector<std::filesystem::path> files;
  for (const auto& name : hostile) {
    files.push_back(node.put(name, "sdb1"));
    objects.emplace_back(name, "sdb1");
  }
  RecordingConnector backend;
  const auto out = node.run(migrate(objects), backend);
  REQUIRE(out["objects"].size() == hostile.size());
  REQUIRE(backend.seen.size() == hostile.size());
  const auto objects_root = node.devices / "sdb1" / "objects";
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    INFO(hostile[i]);
    const auto& line = out["objects"][i];
    CHECK(line["object"] == hostile[i]);
    CHECK(line["error"].is_null());
    CHECK(line["file"] == files[i].string());
    CHECK(backend.seen[i].file == files[i].string());
    // <devices>/sdb1/objects/<partition>/<suffix>/<32 hex digits>/<file>
    const auto relative = files[i].lexically_relative(objects_root);
    CHECK(is_under(files[i], objects_root));
    CHECK(std::distance(relative.begin(), relative.end()) == 4);
    const auto hash = std::next(relative.begin(), 2)->string();
    CHECK(hash.size() == 32);
    CHECK(hash.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  CHECK(std::filesystem::exists(node.root.path() / "outside/objects/secret.data"));
  CHECK_FALSE(std::filesystem::exists("pwned"));
}

// Swift (constraints.check_dir / check_mount) follows a symlinked device
// when mount_check is off (os.path.isdir) and refuses it when mount_check
// is on, where only a mount point counts. The handler does the same for a
// link to a directory on the devices root's own file system.
TEST_CASE("a symlinked device is used as Swift uses it", "[handler]")
{
  Node node;
  const auto real = node.root.path() / "elsewhere" / "sdb9";
  std::filesystem::create_directories(real);
  std::filesystem::create_directory_symlink(real, node.devices / "sdb3");
  const std::string object = "/AUTH_test/c/linked";
  const auto file = node.put(object, "sdb3");
  CHECK(std::filesystem::exists(real / std::filesystem::relative(file, node.devices / "sdb3")));

  SECTION("mount_check off: followed, as os.path.isdir follows it")
  {
    RecordingConnector backend;
    const auto out = node.run(migrate({{object, "sdb3"}}), backend);
    CHECK(out["objects"][0]["error"].is_null());
    CHECK(out["objects"][0]["file"] == file.string());
    CHECK(backend.seen.size() == 1);
  }
  SECTION("mount_check on: not a mount point, so not a device of this node")
  {
    node.conf.mount_check = true;
    RecordingConnector backend;
    const auto out = node.run(migrate({{object, "sdb3"}}), backend);
    CHECK(out["objects"][0]["error"] == "device is not on this node");
    CHECK(backend.seen.empty());
  }
}

// The same with the link pointing to another file system (a tmpfs): a
// stat() that follows the link would see another device number and take
// it for a mount point. Swift's ismount does not follow links.
TEST_CASE("a symlinked device on another file system is no mount point", "[handler]")
{
  Node node;
  char pattern[] = "/dev/shm/hlm-test-device-XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  const std::filesystem::path elsewhere = pattern;
  struct stat there = {};
  struct stat here = {};
  REQUIRE(::stat(elsewhere.c_str(), &there) == 0);
  REQUIRE(::stat(node.devices.c_str(), &here) == 0);
  REQUIRE(there.st_dev != here.st_dev); // the case this test is about
  std::filesystem::create_directory_symlink(elsewhere, node.devices / "sdb3");
  const std::string object = "/AUTH_test/c/linked";
  node.put(object, "sdb3");
  node.conf.mount_check = true;
  RecordingConnector backend;
  const auto out = node.run(migrate({{object, "sdb3"}}), backend);
  std::filesystem::remove_all(elsewhere);
  CHECK(out["objects"][0]["error"] == "device is not on this node");
  CHECK(backend.seen.empty());
}
