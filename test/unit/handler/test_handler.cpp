#include "../support/ring_writer.hpp"
#include "../support/swift_metadata.hpp"
#include "../support/temp_dir.hpp"
#include "recording_connector.hpp"

#include <hlm/diskfile/diskfile.hpp>
#include <hlm/diskfile/restore_mark.hpp>
#include <hlm/handler/command.hpp>
#include <hlm/handler/handler.hpp>
#include <hlm/ring/hash_path.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/xattr.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

using namespace hlm;
using namespace hlm::handler;
using namespace hlm::protocol;
using connector::Item;
using connector::Outcome;

namespace {

using test::RecordingConnector;

// A storage node: swift.conf and rings (saio secret, part power 10, device
// of replica r of partition p = (p + r) % 4), devices sdb1 and sdb2 local,
// sdb3 and sdb4 elsewhere; hlm_swift's guard and DiskFile configured.
struct Node
{
  test::TempDir root;
  std::filesystem::path swift_dir = root.path() / "etc";
  std::filesystem::path devices = root.path() / "node";
  ObjectServerConf conf;

  Node()
  {
    root.write("etc/swift.conf",
               "[swift-hash]\nswift_hash_path_prefix = saio-prefix\n"
               "swift_hash_path_suffix = saio-suffix\n"
               "[storage-policy:0]\nname = gold\ndefault = yes\n"
               "diskfile_module = egg:hlm_swift#replication.fs\n"
               "[storage-policy:1]\nname = silver\n"
               "diskfile_module = egg:hlm_swift#replication.fs\n");
    test::write_gzip(swift_dir / "object.ring.gz", test::serialize(test::simple_ring(10, 3)));
    test::write_gzip(swift_dir / "object-1.ring.gz", test::serialize(test::simple_ring(10, 2)));
    std::filesystem::create_directories(devices / "sdb1");
    std::filesystem::create_directories(devices / "sdb2");
    conf.devices = devices;
    conf.mount_check = false;
    conf.swift_dir = swift_dir;
    conf.read_guard = true;
  }

  // An object-server.conf for this node whose [hlm] names the recording
  // connector.
  std::string
  recording_conf_text() const
  {
    return "[DEFAULT]\ndevices = " + devices.string() + "\nmount_check = false\nswift_dir = "
           + swift_dir.string() + "\n[hlm]\nconnector = recording\n";
  }

  // /AUTH_test/c1/obj1: partition 917 → sdb2, sdb3, sdb4 (vector from
  // shared/notes/swift-facts.md).
  std::filesystem::path
  obj1_dir(const std::string& device) const
  {
    return devices / device / "objects/917/292/e57f1f5d9f265938e95435bebef7b292";
  }

  // A file in an object's hash dir; .data files get Swift metadata naming
  // `object`.
  std::filesystem::path
  put(const std::filesystem::path& dir,
      const std::string& name,
      const std::string& object = "/AUTH_test/c1/obj1") const
  {
    std::filesystem::create_directories(dir);
    const auto file = dir / name;
    root.write(std::filesystem::relative(file, root.path()).string(), "data");
    if (file.extension() == ".data") {
      test::write_object_metadata(file, object);
    }
    return file;
  }

  nlohmann::json
  run(const Request& request,
      connector::Connector& backend,
      Summary* summary = nullptr,
      std::size_t batch = 10'000,
      std::size_t device_threads = 1) const
  {
    HandlerOptions options;
    options.swift_dir = swift_dir;
    options.storage_policy_index = request.storage_policy_index.value_or(0);
    options.batch_size = batch;
    options.device_threads = device_threads;
    std::ostringstream out;
    const auto s = run_request(request,
                               ring::load_swift_conf(options.swift_dir),
                               {{&conf, &backend, {}}},
                               options,
                               out);
    if (summary) {
      *summary = s;
    }
    return nlohmann::json::parse(out.str());
  }
};

Request
parse_document(const std::string& text)
{
  std::istringstream in(text);
  return read_request_document(in);
}

} // namespace

TEST_CASE("handler maps objects to their replica files", "[handler]")
{
  Node node;
  const auto data = node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  RecordingConnector backend;
  Summary summary;
  const auto out = node.run(parse_document(R"({"request": "status", "objects": [
      {"object": "/AUTH_test/c1/obj1", "device": "sdb2"},
      {"object": "/AUTH_test/c1/obj1", "device": "sdb3"},
      {"object": "/AUTH_test/c1/obj1", "device": "sdb1"}]})"),
                            backend,
                            &summary);

  CHECK(out["request"] == "status");
  REQUIRE(out["objects"].size() == 3);
  CHECK(out["objects"][0]["object"] == "/AUTH_test/c1/obj1");
  CHECK(out["objects"][0]["device"] == "sdb2");
  CHECK(out["objects"][0]["file"] == data.string());
  CHECK(out["objects"][0]["status"] == "migrated");
  CHECK(out["objects"][0]["error"].is_null());
  CHECK(out["objects"][0]["etag"] == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(out["objects"][0]["size"] == 4);
  CHECK(out["objects"][1]["error"] == "device is not on this node");
  CHECK(out["objects"][1]["status"] == "unknown");
  CHECK(out["objects"][2]["error"] == "object is not on this device");
  CHECK(out["objects"][2]["file"].is_null());
  CHECK(out["summary"] == nlohmann::json{{"objects", 3}, {"ok", 1}, {"failed", 2}});
  CHECK(summary.failed == 2);
  REQUIRE(backend.seen.size() == 1);
  CHECK(backend.seen[0].file == data.string());
}

TEST_CASE("handler: without a device, every local primary is looked at", "[handler]")
{
  Node node;
  const auto data = node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  RecordingConnector backend;
  std::istringstream in("/AUTH_test/c1/obj1\n/AUTH_test/c1silver/sobj2\n");
  const auto out = node.run(read_object_lines(in, Operation::migrate), backend);
  REQUIRE(out["objects"].size() == 2);
  CHECK(out["objects"][0]["device"] == "sdb2");
  CHECK(out["objects"][0]["file"] == data.string());
  // partition 54 → sdb3, sdb4, sdb1: sdb1 is local but holds nothing.
  CHECK(out["objects"][1]["device"] == "sdb1");
  CHECK(out["objects"][1]["error"] == "object is not on this device");
}

TEST_CASE("handler: a replica file whose metadata names another object is not used", "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data", "/AUTH_other/c/x");
  const auto bare = node.obj1_dir("sdb2") / "1700000001.00000.data";
  RecordingConnector backend;
  const auto request = parse_document(
    R"({"request": "migrate", "objects": [{"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})");
  auto out = node.run(request, backend);
  CHECK_THAT(out["objects"][0]["error"].get<std::string>(),
             Catch::Contains("belongs to \"/AUTH_other/c/x\""));
  node.root.write(std::filesystem::relative(bare, node.root.path()).string(), "no xattrs");
  out = node.run(request, backend);
  CHECK_THAT(out["objects"][0]["error"].get<std::string>(),
             Catch::StartsWith("unreadable replica metadata: ")
               && Catch::Contains("no Swift metadata"));
  CHECK(backend.calls == 0);
}

TEST_CASE("handler: a newer tombstone means deleted", "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  node.put(node.obj1_dir("sdb2"), "1700000001.00000.ts");
  RecordingConnector backend;
  const auto out = node.run(
    parse_document(
      R"({"request": "migrate", "objects": [{"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})"),
    backend);
  CHECK(out["objects"][0]["error"] == "object is deleted on this device");
  CHECK(backend.calls == 0);
}

TEST_CASE("handler: a backend that fails one batch fails only that batch", "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const std::string names[] = {"/AUTH_test/c1/obj1", "/AUTH_test/c1/obj1", "/AUTH_test/c1/obj1"};
  Request request;
  request.operation = Operation::migrate;
  request.devices = {"sdb2"};
  for (const auto& name : names) {
    request.objects.push_back({name, 0});
  }
  RecordingConnector backend;
  backend.fail_on = "/AUTH_test/c1/obj1";
  Summary summary;
  const auto out = node.run(request, backend, &summary, 1);
  CHECK(backend.calls == 3);
  CHECK(summary.failed == 3);
  CHECK(out["objects"][0]["error"] == "backend failed: tape library offline");
}

TEST_CASE("handler: policy 1 uses objects-1 and its ring", "[handler]")
{
  Node node;
  // /AUTH_test/c1/obj1 in a 2-replica ring: partition 917 → sdb2, sdb3.
  const auto data = node.put(node.devices
                               / "sdb2/objects-1/917/292/e57f1f5d9f265938e95435bebef7b292",
                             "1700000000.00000.data");
  RecordingConnector backend;
  const auto out = node.run(
    parse_document(
      R"({"request": "status", "storage_policy_index": 1, "objects": [{"object": "/AUTH_test/c1/obj1"}]})"),
    backend);
  CHECK(out["storage_policy_index"] == 1);
  CHECK(out["objects"][0]["file"] == data.string());
}

TEST_CASE("run_handler checks everything before the backend exists", "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const auto conf_file = node.root.write("object-server.conf", node.recording_conf_text());

  int made = 0;
  RecordingConnector backend;
  const ConnectorMaker maker = [&](std::string_view name, Settings) {
    CHECK(name == "recording");
    ++made;
    return std::unique_ptr<connector::Connector>(new RecordingConnector(backend));
  };
  HandlerCommand command;
  command.object_server_confs = {conf_file};

  const auto run = [&](const std::string& input) {
    std::istringstream in(input);
    std::ostringstream out;
    return run_handler(command, maker, in, out);
  };

  SECTION("a good document runs")
  {
    const auto summary = run(
      R"({"request": "status", "objects": [{"object": "/AUTH_test/c1/obj1"}]})");
    CHECK(summary.ok == 1);
    CHECK(made == 1);
  }
  SECTION("lines need an operation")
  {
    CHECK_THROWS_WITH(run("/AUTH_test/c1/obj1\n"), Catch::Contains("give an operation"));
    command.operation = Operation::recall;
    CHECK(run("/AUTH_test/c1/obj1\n").ok == 1);
  }
  SECTION("operation and policy must agree with the document")
  {
    command.operation = Operation::migrate;
    CHECK_THROWS_WITH(run(R"({"request": "status", "objects": []})"), Catch::Contains("says"));
    command.operation.reset();
    command.policy = "silver";
    CHECK_THROWS_WITH(run(R"({"request": "status", "storage_policy_index": 0, "objects": []})"),
                      Catch::Contains("--policy silver"));
  }
  SECTION("truncated, hostile or unknown input never reaches the backend")
  {
    CHECK_THROWS_AS(run(R"({"request": "migrate", "objects": [{"object": "/AUTH_test/c1/obj1"},)"),
                    InputError);
    CHECK_THROWS_AS(
      run(R"({"request": "migrate", "objects": [{"object": "/a/c/o", "device": "../../etc"}]})"),
      InputError);
    CHECK_THROWS_WITH(run(R"({"request": "migrate", "storage_policy_index": 5, "objects": []})"),
                      Catch::Contains("unknown storage policy index 5"));
    CHECK(made == 0);
  }
}

TEST_CASE("handler: one call serves every object server of the host", "[handler]")
{
  // Two servers, each with its own devices root and connector: sdb2 under
  // the first, sdb4 under the second (partition 917 → sdb2, sdb3, sdb4).
  Node node;
  const auto second_root = node.root.path() / "node2";
  std::filesystem::create_directories(second_root / "sdb4");
  const auto on_sdb2 = node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const auto on_sdb4 = node.put(second_root
                                  / "sdb4/objects/917/292/e57f1f5d9f265938e95435bebef7b292",
                                "1700000000.00000.data");
  ObjectServerConf second = node.conf;
  second.devices = second_root;
  RecordingConnector first_backend;
  RecordingConnector second_backend;

  std::istringstream in("/AUTH_test/c1/obj1\n");
  const auto request = read_object_lines(in, Operation::migrate);
  HandlerOptions options;
  options.swift_dir = node.swift_dir;
  std::ostringstream out;
  const auto summary = run_request(
    request,
    ring::load_swift_conf(options.swift_dir),
    {{&node.conf, &first_backend, {}}, {&second, &second_backend, {}}},
    options,
    out);
  CHECK(summary.ok == 2);
  REQUIRE(first_backend.seen.size() == 1);
  REQUIRE(second_backend.seen.size() == 1);
  CHECK(first_backend.seen[0].file == on_sdb2.string());
  CHECK(second_backend.seen[0].file == on_sdb4.string());

  // The second server's backend cannot be opened: its replica fails with
  // the reason, the first server's replica still goes through.
  std::ostringstream again;
  const auto partial = run_request(
    request,
    ring::load_swift_conf(options.swift_dir),
    {{&node.conf, &first_backend, {}}, {&second, nullptr, "cannot open db"}},
    options,
    again);
  CHECK(partial.ok == 1);
  CHECK(partial.failed == 1);
  CHECK_THAT(again.str(), Catch::Contains("backend failed: cannot open db"));
}

TEST_CASE("run_handler: object lines answer as the same objects in a document", "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const auto conf_file = node.root.write("object-server.conf", node.recording_conf_text());
  const ConnectorMaker maker = [&](std::string_view, Settings) {
    return std::unique_ptr<connector::Connector>(new RecordingConnector());
  };
  HandlerCommand command;
  command.object_server_confs = {conf_file};
  command.operation = Operation::status;
  command.batch_size = 2; // three batches
  const auto run = [&](const std::string& input) {
    std::istringstream in(input);
    std::ostringstream out;
    const auto summary = run_handler(command, maker, in, out);
    CHECK(summary == Summary{6, 2, 4}); // obj1 twice on sdb2; the rest not here
    return out.str();
  };
  const std::vector<std::string> objects = {"/AUTH_test/c1/obj1",
                                            "/AUTH_test/c1silver/sobj2",
                                            "/AUTH_test/c1/obj1",
                                            "/AUTH_test/c1/nothing",
                                            "/AUTH_test/c2/obj1"};
  std::string document = R"({"request": "status", "objects": [)";
  std::string lines;
  for (const auto& object : objects) {
    document += (lines.empty() ? "" : ",") + fmt::format(R"({{"object": "{}"}})", object);
    lines += object.substr(lines.empty() ? 1 : 0) + "\r\n"; // the first without its '/'
  }
  document += "]}";
  const auto from_lines = run(lines);
  CHECK(from_lines == run(document));
  CHECK(nlohmann::json::parse(from_lines)["objects"].size() == 6);
}

TEST_CASE("run_handler: a directory of object server configs", "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  for (const char* name : {"1.conf", "2.conf"}) {
    node.root.write(std::string("confs/") + name, node.recording_conf_text());
  }
  node.root.write("confs/README", "not a config");
  int made = 0;
  const ConnectorMaker maker = [&](std::string_view, Settings) {
    ++made;
    return std::unique_ptr<connector::Connector>(new RecordingConnector());
  };
  HandlerCommand command;
  command.object_server_confs = {node.root.path() / "confs"};
  command.operation = Operation::status;
  std::istringstream in("/AUTH_test/c1/obj1\n");
  std::ostringstream out;
  CHECK(run_handler(command, maker, in, out).ok == 1);
  CHECK(made == 2);

  command.object_server_confs = {node.root.path() / "empty"};
  std::filesystem::create_directories(node.root.path() / "empty");
  std::istringstream again("/AUTH_test/c1/obj1\n");
  CHECK_THROWS_WITH(run_handler(command, maker, again, out), Catch::Contains("no *.conf file"));
}

namespace {

// Answers `migrated` after `delay`, as a tape backend answers after a
// mount.
class SlowConnector final : public connector::Connector
{
public:
  explicit SlowConnector(std::chrono::milliseconds delay)
    : m_delay(delay)
  {
  }

private:
  std::vector<Outcome>
  apply(Operation, std::span<const Item> items) override
  {
    return answer(items);
  }
  std::vector<Outcome>
  answer(std::span<const Item> items)
  {
    std::this_thread::sleep_for(m_delay);
    return std::vector<Outcome>(items.size(), Outcome{ObjectState::migrated, std::nullopt});
  }

  std::chrono::milliseconds m_delay;
};

// The raw document of a migrate of obj1 three times (three connector
// calls of `delay` with batch size 1), with a heartbeat every `heartbeat`.
std::string
slow_document(const Node& node,
              std::chrono::milliseconds heartbeat,
              std::chrono::milliseconds delay)
{
  Request request;
  request.operation = Operation::migrate;
  request.devices = {"sdb2"};
  for (int i = 0; i < 3; ++i) {
    request.objects.push_back({"/AUTH_test/c1/obj1", 0});
  }
  HandlerOptions options;
  options.swift_dir = node.swift_dir;
  options.batch_size = 1;
  options.heartbeat = heartbeat;
  SlowConnector backend(delay);
  std::ostringstream out;
  run_request(request,
              ring::load_swift_conf(options.swift_dir),
              {{&node.conf, &backend, {}}},
              options,
              out);
  return out.str();
}

} // namespace

TEST_CASE("handler: a heartbeat of spaces while the connector works, the document intact",
          "[handler]")
{
  using namespace std::chrono_literals;
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const std::string plain = slow_document(node, 0ms, 1ms);
  const std::string beating = slow_document(node, 20ms, 250ms);

  // The document has no space of its own here, so every space is a beat:
  // ~37 in 750 ms, fewer on a loaded machine.
  REQUIRE(std::count(plain.begin(), plain.end(), ' ') == 0);
  const auto beats = std::count(beating.begin(), beating.end(), ' ');
  CHECK(beats >= 10);
  // Written while the first call ran, before any result line.
  CHECK(beating.find(R"("objects":[ )") != std::string::npos);
  // Valid JSON, the same document, and nothing after its final newline.
  CHECK(nlohmann::json::parse(beating) == nlohmann::json::parse(plain));
  CHECK(beating.ends_with("}}\n"));
  std::string without_beats = beating;
  std::erase(without_beats, ' ');
  CHECK(without_beats == plain);
}

TEST_CASE("handler: no heartbeat after the document ends", "[handler]")
{
  using namespace std::chrono_literals;
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  Request request;
  request.operation = Operation::status;
  request.devices = {"sdb2"};
  request.objects.push_back({"/AUTH_test/c1/obj1", 0});
  HandlerOptions options;
  options.swift_dir = node.swift_dir;
  options.heartbeat = 5ms;
  SlowConnector backend(50ms);
  std::ostringstream out;
  run_request(request,
              ring::load_swift_conf(options.swift_dir),
              {{&node.conf, &backend, {}}},
              options,
              out);
  const std::string done = out.str();
  std::this_thread::sleep_for(50ms);
  CHECK(out.str() == done);
  CHECK(done.ends_with("}}\n"));
}

TEST_CASE("handler: a session reads each policy's ring once, again when its file changes",
          "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const auto swift_conf = ring::load_swift_conf(node.swift_dir);
  RecordingConnector backend;
  HandlerSession session;
  // Without a device the ring says where to look.
  const auto run = [&](int policy) {
    Request request;
    request.operation = Operation::status;
    request.objects.push_back({"/AUTH_test/c1/obj1", Request::k_any_device});
    HandlerOptions options;
    options.swift_dir = node.swift_dir;
    options.storage_policy_index = policy;
    std::ostringstream out;
    const auto summary =
      run_request(request, swift_conf, {{&node.conf, &backend, {}}}, options, out, session);
    return std::make_pair(summary, decode_result(out.str()));
  };

  for (int i = 0; i < 3; ++i) {
    const auto [summary, document] = run(0);
    CHECK(summary == Summary{1, 1, 0});
    CHECK(document.lines.at(0).file == (node.obj1_dir("sdb2") / "1700000000.00000.data").string());
  }
  CHECK(session.ring_loads() == 1);
  run(1);
  run(0);
  CHECK(session.ring_loads() == 2);

  // A rebalance writes a new ring file and renames it over the old one:
  // obj1's partition 917 on sdb1, sdb2 and sdb3 instead of sdb2, sdb3 and
  // sdb4, so the handler looks on both local devices.
  auto spec = test::simple_ring(10, 3);
  for (auto& row : spec.replica2part2dev) {
    for (auto& device : row) {
      device = static_cast<std::uint16_t>((device + 3) % 4);
    }
  }
  test::write_gzip(node.swift_dir / "object.ring.gz.tmp", test::serialize(spec));
  std::filesystem::rename(node.swift_dir / "object.ring.gz.tmp", node.swift_dir / "object.ring.gz");
  const auto [summary, document] = run(0);
  CHECK(session.ring_loads() == 3);
  CHECK(summary == Summary{2, 1, 1});
  REQUIRE(document.lines.size() == 2);
  CHECK(document.lines[0].device == "sdb1");
  CHECK(document.lines[1].device == "sdb2");
  run(0);
  CHECK(session.ring_loads() == 3);
}

TEST_CASE("handler: a version 2 session answers three documents with their ids, one ring read",
          "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const auto swift_conf = ring::load_swift_conf(node.swift_dir);
  RecordingConnector backend;
  HandlerSession session;
  HandlerOptions options;
  options.swift_dir = node.swift_dir;
  options.heartbeat = std::chrono::milliseconds(1); // spaces between the answers' tokens
  std::ostringstream out;
  for (std::uint64_t id = 100; id < 103; ++id) {
    Request request;
    request.operation = Operation::status;
    request.version = 2;
    request.id = id;
    request.objects.push_back({"/AUTH_test/c1/obj1", Request::k_any_device});
    run_request(request, swift_conf, {{&node.conf, &backend, {}}}, options, out, session);
  }
  CHECK(session.ring_loads() == 1);
  // One stream, three answers, told apart by the stream decoder.
  std::vector<std::uint64_t> ids;
  std::size_t lines = 0;
  protocol::ResultStreamDecoder decoder([&](ResultLine&&) { ++lines; },
                                        [&](protocol::ResultStreamDecoder::End&& end) {
                                          REQUIRE(end.id);
                                          ids.push_back(*end.id);
                                          CHECK(end.summary == Summary{1, 1, 0});
                                        });
  decoder.feed(out.str());
  CHECK_NOTHROW(decoder.finish());
  CHECK(ids == std::vector<std::uint64_t>{100, 101, 102});
  CHECK(lines == 3);
}

TEST_CASE("handler: a session's heartbeat is silent between documents", "[handler]")
{
  using namespace std::chrono_literals;
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const auto swift_conf = ring::load_swift_conf(node.swift_dir);
  Request request;
  request.operation = Operation::migrate;
  request.devices = {"sdb2"};
  request.objects.push_back({"/AUTH_test/c1/obj1", 0});
  HandlerOptions options;
  options.swift_dir = node.swift_dir;
  options.heartbeat = 5ms;
  SlowConnector backend(100ms);
  HandlerSession session;
  std::ostringstream out;
  for (int document = 1; document <= 3; ++document) {
    INFO("document " << document);
    run_request(request, swift_conf, {{&node.conf, &backend, {}}}, options, out, session);
    const std::string done = out.str();
    std::this_thread::sleep_for(50ms);
    CHECK(out.str() == done);
    CHECK(done.ends_with("}}\n"));
  }
  // Beats inside each document, none before one or after its end.
  const std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), ' ') >= 3);
  CHECK(text.find("\n ") == std::string::npos);
  CHECK(text.find("}}\n{\"request\"") != std::string::npos);
  CHECK(text.starts_with("{\"request\""));
}

TEST_CASE("handler: a missing replica goes to a connector that can rebuild it", "[handler]")
{
  Node node;
  RecordingConnector backend;
  backend.rebuilds = true;
  const auto dir = node.obj1_dir("sdb2");

  SECTION("status: the connector has it, the stub is missing")
  {
    const auto out = node.run(parse_document(R"({"request": "status", "objects": [
        {"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})"),
                              backend);
    REQUIRE(backend.seen.size() == 1);
    CHECK(backend.seen[0].file.empty());
    CHECK(backend.seen[0].object_dir == dir.string());
    const auto& line = out["objects"][0];
    CHECK(line["status"] == "migrated");
    CHECK(line["error"].is_null());
    CHECK(line["file"].is_null());
    CHECK(line["stub"] == "missing");
  }
  SECTION("recall: the rebuilt file is reported")
  {
    backend.rebuilt_name = "1700000000.00000.data";
    const auto out = node.run(parse_document(R"({"request": "recall", "objects": [
        {"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})"),
                              backend);
    REQUIRE(backend.seen.size() == 1);
    const auto& line = out["objects"][0];
    CHECK(line["error"].is_null());
    CHECK(line["file"] == (dir / "1700000000.00000.data").string());
    CHECK_FALSE(line.contains("stub"));
  }
  SECTION("recall: a connector that says done but made no file fails the replica")
  {
    const auto out = node.run(parse_document(R"({"request": "recall", "objects": [
        {"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})"),
                              backend);
    CHECK_THAT(out["objects"][0]["error"].get<std::string>(),
               Catch::Contains("object is not on this device"));
  }
  SECTION("migrate: nothing to migrate, the connector never sees it")
  {
    const auto out = node.run(parse_document(R"({"request": "migrate", "objects": [
        {"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})"),
                              backend);
    CHECK(backend.seen.empty());
    CHECK(out["objects"][0]["error"] == "object is not on this device");
  }
  SECTION("a tombstone: deleted, never rebuilt")
  {
    node.put(dir, "1700000001.00000.ts");
    const auto out = node.run(parse_document(R"({"request": "recall", "objects": [
        {"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})"),
                              backend);
    CHECK(backend.seen.empty());
    CHECK(out["objects"][0]["error"] == "object is deleted on this device");
  }
}

TEST_CASE("handler: a connector that cannot rebuild never sees a missing replica", "[handler]")
{
  Node node;
  RecordingConnector backend; // can_rebuild() is false
  for (const char* operation : {"status", "recall"}) {
    INFO(operation);
    const auto out = node.run(parse_document(fmt::format(R"({{"request": "{}", "objects": [
        {{"object": "/AUTH_test/c1/obj1", "device": "sdb2"}}]}})",
                                                         operation)),
                              backend);
    CHECK(out["objects"][0]["status"] == "unknown");
    CHECK(out["objects"][0]["error"] == "object is not on this device");
    CHECK_FALSE(out["objects"][0].contains("stub"));
  }
  CHECK(backend.seen.empty());
  CHECK(backend.calls == 0);
}

TEST_CASE("handler: warns when the node's Swift does not guard migrated replicas", "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const auto status_of_obj1 = [&] {
    Request request;
    request.operation = Operation::status;
    request.objects.push_back({"/AUTH_test/c1/obj1", Request::k_any_device});
    HandlerOptions options;
    options.swift_dir = node.swift_dir;
    RecordingConnector backend;
    std::ostringstream out;
    run_request(request,
                ring::load_swift_conf(options.swift_dir),
                {{&node.conf, &backend, {}}},
                options,
                out);
    return nlohmann::json::parse(out.str());
  };

  CHECK_FALSE(status_of_obj1().contains("warnings"));

  node.conf.read_guard = false;
  node.conf.path = "/etc/swift/object-server.conf";
  node.root.write("etc/swift.conf",
                  "[swift-hash]\nswift_hash_path_prefix = saio-prefix\n"
                  "swift_hash_path_suffix = saio-suffix\n"
                  "[storage-policy:0]\nname = gold\ndefault = yes\n");
  const auto out = status_of_obj1();
  REQUIRE(out["warnings"].size() == 2);
  CHECK(out["warnings"][0].get<std::string>().find(
          "reads of migrated objects on this node are not guarded: "
          "/etc/swift/object-server.conf has no egg:hlm_swift#guard filter")
        == 0);
  CHECK(out["warnings"][1].get<std::string>().find(
          "storage policy 0 in " + (node.swift_dir / "swift.conf").string()
          + " does not set diskfile_module = egg:hlm_swift#replication.fs")
        != std::string::npos);
  // The document is otherwise the same.
  CHECK(out["objects"].size() == 1);
  CHECK(out["summary"]["ok"] == 1);
}

TEST_CASE("handler: each failed line says its kind and whether it is transient", "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  node.put(node.obj1_dir("sdb2"), "1700000001.00000.ts");
  RecordingConnector backend;
  const auto out = node.run(parse_document(R"({"request": "migrate", "objects": [
    {"object": "/AUTH_test/c1/obj1", "device": "sdb2"},
    {"object": "/AUTH_test/c1/obj1", "device": "sdb1"},
    {"object": "/AUTH_test/c1/obj1", "device": "sdb9"}]})"),
                            backend);
  const auto& lines = out["objects"];
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["error_kind"] == "deleted");
  CHECK(lines[0]["transient"] == false);
  CHECK(lines[1]["error"] == "object is not on this device");
  CHECK(lines[1]["error_kind"] == "missing");
  CHECK(lines[1]["transient"] == true);
  CHECK(lines[2]["error"] == "device is not on this node");
  CHECK(lines[2]["error_kind"] == "node");
  CHECK(lines[2]["transient"] == true);

  Node other;
  other.put(other.obj1_dir("sdb2"), "1700000000.00000.data");
  backend.fail_on = "/AUTH_test/c1/obj1";
  const auto failed = other.run(
    parse_document(
      R"({"request": "migrate", "objects": [{"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})"),
    backend);
  CHECK(failed["objects"][0]["error_kind"] == "backend");
  CHECK(failed["objects"][0]["transient"] == true);

  Node fine;
  fine.put(fine.obj1_dir("sdb2"), "1700000000.00000.data");
  RecordingConnector working;
  const auto ok = fine.run(
    parse_document(
      R"({"request": "migrate", "objects": [{"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})"),
    working);
  CHECK(ok["version"] == 1);
  CHECK(!ok["objects"][0].contains("error_kind"));
  CHECK(!ok["objects"][0].contains("transient"));
}

TEST_CASE("run_handler: a session answers each document in turn, one backend for all", "[handler]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const auto conf_file = node.root.write("object-server.conf", node.recording_conf_text());
  int made = 0;
  const ConnectorMaker maker = [&](std::string_view, Settings) {
    ++made;
    return std::unique_ptr<connector::Connector>(new RecordingConnector());
  };
  HandlerCommand command;
  command.object_server_confs = {conf_file};
  command.heartbeat = std::chrono::milliseconds(0);
  const std::string status =
    R"({"request": "status", "objects": [{"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})";
  const std::string migrate =
    R"({"request": "migrate", "version": 1, "objects": [{"object": "/AUTH_test/c1/obj1"}]})";
  const std::string elsewhere =
    R"({"request": "recall", "objects": [{"object": "/AUTH_test/c1/obj1", "device": "sdb9"}]})";
  // The documents of the output, each ending "}}\n" (its summary and itself).
  const auto documents = [](const std::string& text) {
    std::vector<ResultDocument> found;
    std::size_t begin = 0;
    for (auto end = text.find("}}\n"); end != std::string::npos; end = text.find("}}\n", begin)) {
      found.push_back(decode_result(std::string_view(text).substr(begin, end + 3 - begin)));
      begin = end + 3;
    }
    CHECK(begin == text.size());
    return found;
  };

  SECTION("three documents, three answers")
  {
    std::istringstream in(status + "\n" + migrate + elsewhere + "\n\n");
    std::ostringstream out;
    const auto total = run_handler(command, maker, in, out);
    CHECK(made == 1);
    CHECK(total == Summary{3, 2, 1});
    const auto answers = documents(out.str());
    REQUIRE(answers.size() == 3);
    CHECK(answers[0].operation == Operation::status);
    CHECK(answers[0].summary == Summary{1, 1, 0});
    CHECK(answers[1].operation == Operation::migrate);
    CHECK(answers[1].lines.at(0).state == ObjectState::migrated);
    CHECK(answers[2].operation == Operation::recall);
    REQUIRE(answers[2].lines.at(0).failure);
    CHECK(answers[2].lines[0].failure->kind == FailureKind::node);
  }
  SECTION("a bad document ends the session after the answers before it")
  {
    for (const std::string bad : {R"({"request": "status", "version": 3, "objects": []})",
                                  R"({"request": "status", "objects": [)"}) {
      INFO(bad);
      made = 0;
      std::istringstream in(status + bad);
      std::ostringstream out;
      CHECK_THROWS_AS(run_handler(command, maker, in, out), InputError);
      CHECK(made == 1);
      CHECK(documents(out.str()).size() == 1);
    }
  }
  SECTION("version 2 documents: each answer echoes its document's id")
  {
    const auto v2 = [](const std::string& document, int id) {
      return R"({"version": 2, "id": )" + std::to_string(id) + ", " + document.substr(1);
    };
    const std::string migrate_any_version =
      R"({"request": "migrate", "objects": [{"object": "/AUTH_test/c1/obj1"}]})";
    std::istringstream in(v2(status, 7) + v2(migrate_any_version, 8) + status + v2(elsewhere, 9));
    std::ostringstream out;
    CHECK(run_handler(command, maker, in, out) == Summary{4, 3, 1});
    const auto answers = documents(out.str());
    REQUIRE(answers.size() == 4);
    CHECK(answers[0].id == 7U);
    CHECK(answers[1].id == 8U);
    CHECK(answers[1].operation == Operation::migrate);
    CHECK(!answers[2].id); // a version 1 document gets a version 1 answer
    CHECK_THAT(out.str(), Catch::Contains(R"({"request":"status","version":1,)"));
    CHECK(answers[3].id == 9U);
    CHECK(answers[3].operation == Operation::recall);
  }
  SECTION("a version other than 1 to 3 in the first document: nothing is done")
  {
    std::istringstream in(R"({"request": "status", "version": 4, "objects": []})" + status);
    std::ostringstream out;
    CHECK_THROWS_WITH(run_handler(command, maker, in, out),
                      "request document version 4; this hlm-handler reads versions 1 to 3");
    CHECK(made == 0);
    CHECK(out.str().empty());
  }
}

TEST_CASE("handler: a version 2 status with placement asks the connector once per batch",
          "[handler][placement]")
{
  Node node;
  node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  const auto swift_conf = ring::load_swift_conf(node.swift_dir);
  RecordingConnector backend;
  backend.place = connector::Placement{"T00007", 0, 10, true, false, "lib"};
  HandlerOptions options;
  options.swift_dir = node.swift_dir;
  const auto run = [&](Operation operation, int version, bool placement) {
    Request request;
    request.operation = operation;
    request.version = version;
    request.id = version == 2 ? std::optional<std::uint64_t>(1) : std::nullopt;
    request.placement = placement;
    request.objects.push_back({"/AUTH_test/c1/obj1", Request::k_any_device});
    request.objects.push_back({"/AUTH_test/c1/obj1", Request::k_any_device});
    std::ostringstream out;
    run_request(request, swift_conf, {{&node.conf, &backend, {}}}, options, out);
    return protocol::decode_result(out.str());
  };

  const auto placed = run(Operation::status, 2, true);
  CHECK(backend.locates == 1);
  REQUIRE(placed.lines.size() == 2);
  CHECK(placed.lines[0].placement == connector::Placement{"T00007", 0, 10, true, false, "lib"});
  CHECK(placed.lines[1].placement == connector::Placement{"T00007", 1, 10, true, false, "lib"});

  // Not asked: no locate() call, no placement.
  const auto plain = run(Operation::status, 2, false);
  CHECK(backend.locates == 1);
  CHECK_FALSE(plain.lines.at(0).placement);
  // A connector that cannot place: the lines stand without one.
  backend.place.reset();
  const auto unplaced = run(Operation::status, 2, true);
  CHECK(backend.locates == 2);
  CHECK(unplaced.lines.at(0).state == ObjectState::migrated);
  CHECK_FALSE(unplaced.lines.at(0).placement);
}

TEST_CASE("handler: restore expiry: a recall marks its replicas, a release migrates only due ones",
          "[handler]")
{
  Node node;
  const auto data = node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  RecordingConnector backend;
  backend.state = ObjectState::premigrated;
  const auto document = [](const std::string& fields) {
    return parse_document(R"({"request": )" + fields
                          + R"(, "version": 3, "id": 1, "objects": [)"
                            R"({"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})");
  };
  const auto line = [&](const std::string& fields) {
    const auto out = node.run(document(fields), backend);
    REQUIRE(out["objects"].size() == 1);
    CHECK(out["objects"][0]["error"].is_null());
    return out["objects"][0];
  };

  // A recall with restore_until marks the replica and says so.
  CHECK(line(R"("recall", "restore_until": 1800000000)")["restore_expiry"] == 1800000000);
  CHECK(diskfile::read_restore_mark(data.string()) == 1800000000);
  // Again with an earlier one: the later mark stays (re-issuing extends).
  CHECK(line(R"("recall", "restore_until": 1790000000)")["restore_expiry"] == 1800000000);
  CHECK(line(R"("recall", "restore_until": 1810000000)")["restore_expiry"] == 1810000000);
  // A status that asks for marks (hlmctl status's) reports it; a plain
  // status reads none.
  CHECK(line(R"("status", "restore_marks": true)")["restore_expiry"] == 1810000000);
  CHECK(line(R"("status")").count("restore_expiry") == 0);

  // A release before the mark is due keeps the replica: a status instead.
  backend.operations.clear();
  const auto kept = line(R"("migrate", "release_before": 1809999999)");
  CHECK(kept["status"] == "premigrated");
  CHECK(backend.operations == std::vector<Operation>{Operation::status});
  CHECK(diskfile::read_restore_mark(data.string()) == 1810000000);

  // Due: migrated, the mark gone; a second release keeps it (nothing is
  // released twice).
  backend.operations.clear();
  backend.state = ObjectState::migrated;
  CHECK(line(R"("migrate", "release_before": 1810000000)")["status"] == "migrated");
  CHECK(backend.operations == std::vector<Operation>{Operation::migrate});
  CHECK_FALSE(diskfile::read_restore_mark(data.string()));
  backend.operations.clear();
  CHECK(line(R"("migrate", "release_before": 1900000000)").count("restore_expiry") == 0);
  CHECK(backend.operations == std::vector<Operation>{Operation::status});

  // A recall without restore_until clears a mark: the copy stays on disk.
  diskfile::write_restore_mark(data.string(), 1750000000);
  backend.state = ObjectState::premigrated;
  CHECK(line(R"("recall")").count("restore_expiry") == 0);
  CHECK_FALSE(diskfile::read_restore_mark(data.string()));
  // A mark that is not Unix seconds is kept by a release, never migrated.
  ::setxattr(data.c_str(), "user.hlm.restore-expiry", "soon", 4, 0);
  backend.operations.clear();
  line(R"("migrate", "release_before": 1900000000)");
  CHECK(backend.operations == std::vector<Operation>{Operation::status});
  // A plain migrate clears it.
  diskfile::write_restore_mark(data.string(), 1750000000);
  line(R"("migrate")");
  CHECK_FALSE(diskfile::read_restore_mark(data.string()));
}

TEST_CASE("handler: an estimate runs nothing, answers status lines and the backend's figures",
          "[handler]")
{
  Node node;
  const auto data = node.put(node.obj1_dir("sdb2"), "1700000000.00000.data");
  diskfile::write_restore_mark(data.string(), 1'800'000'000);
  RecordingConnector backend;
  backend.state = ObjectState::premigrated;
  const auto request = parse_document(
    R"({"request": "migrate", "version": 3, "id": 4, "estimate": true, "objects": [)"
    R"({"object": "/AUTH_test/c1/obj1", "device": "sdb2"}]})");
  auto out = node.run(request, backend);
  CHECK(backend.operations == std::vector<Operation>{Operation::status});
  CHECK(backend.estimated == 1);
  CHECK(out["objects"][0]["status"] == "premigrated");
  CHECK(out["estimate"].is_null());
  // Nothing changed: the mark a migrate would clear is there.
  CHECK(diskfile::read_restore_mark(data.string()) == 1'800'000'000);

  backend.estimate_answer = connector::Estimate{1, 4, 1, 1, 62.5, 62.5};
  out = node.run(request, backend);
  CHECK(out["estimate"]
        == nlohmann::json{{"items", 1},
                          {"bytes", 4},
                          {"cartridges", 1},
                          {"mounts", 1},
                          {"drive_seconds", 62.5},
                          {"wall_seconds", 62.5}});
  CHECK(backend.operations == std::vector<Operation>{Operation::status, Operation::status});
}

TEST_CASE("handler: devices looked at on threads of their own answer as one after another",
          "[handler]")
{
  // 60 objects, each asked on sdb1 and sdb2 (both local): on disk in
  // several ways per device (a .data file, none, a tombstone, metadata of
  // another object, a restore mark), so that the lines differ.
  Node node;
  const ring::HashSecret secret{"saio-prefix", "saio-suffix"};
  const ring::PathHasher hash(secret);
  const auto ring = ring::Ring::load(node.swift_dir / "object.ring.gz");
  nlohmann::json objects = nlohmann::json::array();
  std::vector<std::filesystem::path> marked;
  for (int i = 0; i < 60; ++i) {
    const std::string name = fmt::format("o{:03}", i);
    const std::string path = "/AUTH_test/c1/" + name;
    const auto digest = hash("AUTH_test", "c1", name);
    for (const std::string device : {"sdb1", "sdb2"}) {
      const auto dir =
        diskfile::object_dir(node.devices, device, 0, ring.partition(digest), to_hex(digest));
      const int kind = (i + (device == "sdb2" ? 2 : 0)) % 5;
      if (kind == 1) {
        node.put(dir, "1700000000.00000.data", "/AUTH_test/c1/other");
      } else if (kind == 2) {
        node.put(dir, "1700000000.00000.data", path);
        node.put(dir, "1700000001.00000.ts");
      } else if (kind == 3) {
        const auto file = node.put(dir, "1700000000.00000.data", path);
        diskfile::write_restore_mark(file.string(), 1800000000);
        marked.push_back(file);
      } else if (kind == 4) {
        node.put(dir, "1700000000.00000.data", path);
      }
      objects.push_back({{"object", path}, {"device", device}});
    }
  }
  const auto request = [&](const std::string& operation) {
    return parse_document(nlohmann::json{{"request", operation}, {"objects", objects}}.dump());
  };
  REQUIRE_FALSE(marked.empty());

  for (const std::size_t batch : {std::size_t{7}, std::size_t{10'000}}) {
    INFO("batch " << batch);
    RecordingConnector one_backend;
    RecordingConnector many_backend;
    const auto one = node.run(request("status"), one_backend, nullptr, batch, 1);
    const auto many = node.run(request("status"), many_backend, nullptr, batch, 3);
    CHECK(one == many);
    CHECK(one["summary"]["objects"] == 120);
    CHECK(one["summary"]["failed"] > 0);
    CHECK(one["summary"]["ok"] > 0);
    REQUIRE(one_backend.seen.size() == many_backend.seen.size());
    for (std::size_t i = 0; i < one_backend.seen.size(); ++i) {
      CHECK(one_backend.seen[i].file == many_backend.seen[i].file);
    }
  }
  // A migrate on threads clears every mark, as it does one after another.
  RecordingConnector backend;
  node.run(request("migrate"), backend, nullptr, 10'000, 3);
  for (const auto& file : marked) {
    CHECK_FALSE(diskfile::read_restore_mark(file.string()));
  }
}
