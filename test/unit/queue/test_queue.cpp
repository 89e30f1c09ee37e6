#include "../support/ring_writer.hpp"
#include "../support/temp_dir.hpp"
#include "fake_container_servers.hpp"
#include "fake_object_servers.hpp"

#include <hlm/queue/queue.hpp>
#include <hlm/ring/hash_path.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::queue;
using hlm::test::FakeContainerServers;
using hlm::test::FakeObjectServers;

namespace {

// Container servers on 6010..6040 (three replicas); object servers of
// policy 0 on 6110..6140 (three), of policy 1 on 6210..6240 (two).
struct Fixture
{
  test::TempDir dir;
  FakeContainerServers http;
  FakeObjectServers objects;
  test::SplitHttp split{http, objects, 6100};
  std::unique_ptr<RequestQueue> queue;

  Fixture()
  {
    dir.write("swift.conf",
              "[swift-hash]\nswift_hash_path_prefix = p\nswift_hash_path_suffix = s\n"
              "[storage-policy:0]\nname = gold\ndefault = yes\n"
              "[storage-policy:1]\nname = silver\n");
    test::write_gzip(dir.path() / "container.ring.gz", test::serialize(test::simple_ring(4, 3)));
    test::write_gzip(dir.path() / "object.ring.gz", test::serialize(test::simple_ring(4, 3, 6110)));
    test::write_gzip(dir.path() / "object-1.ring.gz",
                     test::serialize(test::simple_ring(4, 2, 6210)));
    queue = std::make_unique<RequestQueue>(split, dir.path());
  }

  std::vector<ListedEntry>
  list(Which which)
  {
    std::vector<ListedEntry> out;
    queue->for_each(which, [&](const ListedEntry& listed) {
      out.push_back(listed);
      return true;
    });
    return out;
  }
};

Entry
make_entry(std::string object,
           std::string submitted = "20260101000000.000",
           Operation op = Operation::migrate)
{
  return Entry{std::move(submitted), op, Target{"AUTH_test", "c\xc3\xa9", std::move(object)}, 0};
}

} // namespace

TEST_CASE("queue: submit, list, complete", "[queue]")
{
  Fixture f;
  const auto a = make_entry("a/b \xf0\x9f\x93\xbc");
  const auto b = make_entry({}, "20260101000001.000", Operation::recall);
  const std::string id_a = f.queue->submit(a);
  const std::string id_b = f.queue->submit(b);
  CHECK(id_a == encode_entry(a));
  CHECK(f.http.requests.size() == 6);
  for (const auto& request : f.http.requests) {
    CHECK(swift::find_header(request.headers, "X-Content-Type") == "application/swifthlm-task");
  }

  auto pending = f.list(Which::pending);
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].entry == a);
  CHECK(pending[1].entry == b);
  CHECK_FALSE(pending[0].reason);
  CHECK(pending[0].decode_error.empty());
  CHECK(f.list(Which::failed).empty());

  f.queue->complete(pending[0].row);
  const auto& del = f.http.requests.back();
  CHECK(del.method == swift::Method::del);
  CHECK(swift::find_header(del.headers, "X-Timestamp")
        == pending[0].row.timestamp.plus_offset(1).internal());
  pending = f.list(Which::pending);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].entry == b);
}

// The container servers of the pending container, as the fake names them.
std::vector<std::string>
pending_servers(Fixture& f)
{
  std::vector<std::string> hosts;
  for (const auto* node : f.queue->direct().nodes(k_pending_container)) {
    hosts.push_back(node->ip + ":" + std::to_string(node->port));
  }
  return hosts;
}

TEST_CASE("queue: a submit below quorum is withdrawn and says not queued", "[queue]")
{
  Fixture f;
  const auto hosts = pending_servers(f);
  REQUIRE(hosts.size() == 3);
  f.http.servers[hosts[1]].mode = FakeContainerServers::Mode::fail;
  f.http.servers[hosts[2]].mode = FakeContainerServers::Mode::fail;
  try {
    f.queue->submit(make_entry("o"));
    FAIL("submit below quorum did not throw");
  } catch (const PartlyQueued&) {
    FAIL("the row was withdrawn, yet the submit says it stays queued");
  } catch (const TransportError& e) {
    CHECK_THAT(std::string(e.what()),
               Catch::Matchers::Contains("1 of 3 container servers accepted, 2 needed"));
  }
  // The one server that took the row holds it deleted: nothing to list.
  f.http.servers[hosts[1]].mode = FakeContainerServers::Mode::normal;
  f.http.servers[hosts[2]].mode = FakeContainerServers::Mode::normal;
  CHECK(f.list(Which::pending).empty());
}

TEST_CASE("queue: a submit below quorum that cannot be withdrawn is reported queued", "[queue]")
{
  Fixture f;
  const auto hosts = pending_servers(f);
  f.http.servers[hosts[0]].mode = FakeContainerServers::Mode::fail_deletes;
  f.http.servers[hosts[1]].mode = FakeContainerServers::Mode::fail;
  f.http.servers[hosts[2]].mode = FakeContainerServers::Mode::fail;
  const auto entry = make_entry("o");
  try {
    f.queue->submit(entry);
    FAIL("submit below quorum did not throw");
  } catch (const PartlyQueued& e) {
    CHECK(e.id() == encode_entry(entry));
    CHECK_THAT(std::string(e.what()),
               Catch::Matchers::Contains("stays queued and will be carried out"));
  }
  // And so it is: a listing finds it.
  f.http.servers[hosts[1]].mode = FakeContainerServers::Mode::normal;
  f.http.servers[hosts[2]].mode = FakeContainerServers::Mode::normal;
  const auto pending = f.list(Which::pending);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].entry == entry);
}

TEST_CASE("queue: a re-submission outlives the dequeue of its earlier copy", "[queue]")
{
  Fixture f;
  const auto entry = make_entry("o");
  f.queue->submit(entry);
  const auto first = f.list(Which::pending).at(0).row;
  f.queue->submit(entry); // same name, later time
  f.queue->complete(first);
  const auto pending = f.list(Which::pending);
  REQUIRE(pending.size() == 1);
  CHECK(first.timestamp < pending[0].row.timestamp);
  f.queue->complete(pending[0].row);
  CHECK(f.list(Which::pending).empty());
}

TEST_CASE("queue: failing moves the row and keeps the reason", "[queue]")
{
  Fixture f;
  const auto entry = make_entry("o");
  f.queue->submit(entry);
  const auto row = f.list(Which::pending).at(0).row;
  const std::string reason =
    "node 127.0.0.1:6010: backend said \"no tape\"; 100% sure\n\xe2\x9c\x97";
  f.queue->fail(row, reason);
  CHECK(f.list(Which::pending).empty());
  const auto failed = f.list(Which::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].row.name == row.name);
  CHECK(failed[0].entry == entry);
  CHECK(failed[0].reason == reason);
  CHECK(row.timestamp < failed[0].row.timestamp);
}

TEST_CASE("queue: undecodable rows are listed with the reason and can be parked", "[queue]")
{
  Fixture f;
  f.queue->direct().put_row_quorum(k_pending_container,
                                   "/20260101000000.000/delete/a/c/0",
                                   SwiftTimestamp::now(),
                                   k_entry_content_type);
  f.queue->direct().put_row_quorum(k_pending_container,
                                   "20170303034043.566--migrate--AUTH_test--cont3--0--obj00",
                                   SwiftTimestamp::now(),
                                   k_entry_content_type);
  auto pending = f.list(Which::pending);
  REQUIRE(pending.size() == 2);
  CHECK_FALSE(pending[0].entry);
  CHECK_THAT(pending[0].decode_error, Catch::Contains("unknown operation \"delete\""));
  REQUIRE(pending[1].entry);
  CHECK(pending[1].entry->target.object == "obj00");

  f.queue->park_undecodable(pending[0].row, pending[0].decode_error);
  pending = f.list(Which::pending);
  REQUIRE(pending.size() == 1);
  const auto failed = f.list(Which::failed);
  REQUIRE(failed.size() == 1);
  CHECK_FALSE(failed[0].entry);
  CHECK_THAT(*failed[0].reason, Catch::StartsWith("cannot decode: queue entry"));
}

TEST_CASE("queue: clearing older failures of the same target and operation", "[queue]")
{
  Fixture f;
  const auto rows = [&](const std::vector<Entry>& entries) {
    for (const auto& entry : entries) {
      f.queue->submit(entry);
    }
    for (const auto& listed : f.list(Which::pending)) {
      f.queue->fail(listed.row, "x");
    }
  };
  rows({make_entry("o", "20260101000000.000"),
        make_entry("o", "20260101000001.000"),
        make_entry("o", "20260101000009.000"), // later than the success
        make_entry("o", "20260101000002.000", Operation::recall),
        make_entry("p", "20260101000003.000"),
        make_entry({}, "20260101000004.000")});
  CHECK(f.queue->clear_failed_before(Target{"AUTH_test", "c\xc3\xa9", "o"},
                                     Operation::migrate,
                                     "20260101000005.000")
        == 2);
  std::vector<std::string> left;
  for (const auto& listed : f.list(Which::failed)) {
    left.push_back(listed.entry->submitted);
  }
  CHECK(left
        == std::vector<std::string>{"20260101000002.000",
                                    "20260101000003.000",
                                    "20260101000004.000",
                                    "20260101000009.000"});
}

TEST_CASE("queue: reasons in the content type", "[queue]")
{
  CHECK(failed_content_type("") == "application/swifthlm-task");
  CHECK(failed_content_type("a b;c=\"d\"/\xc3\xa9")
        == "application/swifthlm-task; reason=a%20b%3Bc%3D%22d%22%2F%C3%A9");
  // As a Swift listing shows it (parameters rewritten as ";k=v").
  CHECK(reason_of("application/swifthlm-task;reason=a%20b%3Bc%3D%22d%22%2F%C3%A9")
        == "a b;c=\"d\"/\xc3\xa9");
  CHECK(reason_of("application/swifthlm-task; other=1; reason=x%0Ay") == "x\ny");
  CHECK(reason_of("application/swifthlm-task;reason=100%") == "100%");
  CHECK(reason_of("application/swifthlm-task;reason=%zz%4") == "%zz%4");
  CHECK(reason_of("application/swifthlm-task;reason=%FF") == "\\xff");
  CHECK_FALSE(reason_of("application/swifthlm-task"));
  CHECK_FALSE(reason_of("application/swifthlm-task;reasons=x"));

  // Long reasons are cut on a character boundary and marked.
  std::string euros;
  for (int i = 0; i < 300; ++i) {
    euros += "\xe2\x82\xac"; // 9 encoded bytes each
  }
  const auto type = failed_content_type(euros);
  const auto value = type.substr(type.find("reason=") + 7);
  CHECK(value.size() <= k_max_reason_bytes);
  CHECK(value.size() > k_max_reason_bytes - 12);
  CHECK_THAT(value, Catch::EndsWith("%AC..."));
  const auto back = reason_of(type);
  REQUIRE(back);
  CHECK(is_valid_utf8(*back));
  CHECK_THAT(*back, Catch::EndsWith("\xe2\x82\xac..."));
  CHECK(euros.substr(0, back->size() - 3) == back->substr(0, back->size() - 3));

  const std::string fits(k_max_reason_bytes, 'x');
  CHECK(reason_of(failed_content_type(fits)) == fits);
  CHECK(reason_of(failed_content_type(fits + "y"))
        == std::string(k_max_reason_bytes - 3, 'x') + "...");
}

TEST_CASE("queue: owned_by splits like Swift's expirer", "[queue]")
{
  // int(hashlib.md5(name.encode()).hexdigest(), 16) % n, for n in
  // (1, 2, 3, 7, 10, 1000, 2147483647), computed with python3.
  const std::vector<int> divisors = {1, 2, 3, 7, 10, 1000, 2147483647};
  const std::map<std::string, std::vector<int>> vectors = {
    {"", {0, 0, 0, 1, 6, 366, 484934813}},
    {"/20260101000000.000/migrate/AUTH_test/c/0/o", {0, 0, 1, 0, 8, 128, 1204283975}},
    {"/20260101000000.000/recall/AUTH_t\xc3\xa9st/cont/1/\xc3\xbc"
     "ber/x",
     {0, 0, 1, 6, 0, 410, 475320389}},
    {"a", {0, 1, 1, 0, 7, 497, 919659157}},
    {"20170303034043.566--migrate--AUTH_test--cont3--0--obj00", {0, 0, 1, 1, 8, 118, 1852877984}},
  };
  for (const auto& [name, expected] : vectors) {
    for (std::size_t i = 0; i < divisors.size(); ++i) {
      INFO(name << " % " << divisors[i]);
      CHECK(owned_by(name, divisors[i], expected[i]));
      if (divisors[i] > 1) {
        CHECK_FALSE(owned_by(name, divisors[i], expected[i] == 0 ? divisors[i] - 1 : 0));
      }
    }
  }
  CHECK(owned_by("anything", 0, 0));
  CHECK_THROWS_AS(owned_by("x", -1, 0), InputError);
  CHECK_THROWS_AS(owned_by("x", 3, 3), InputError);
  CHECK_THROWS_AS(owned_by("x", 3, -1), InputError);

  // Every name has exactly one owner, and the split is roughly even.
  std::vector<int> counts(5);
  for (int i = 0; i < 5000; ++i) {
    const std::string name = "/20260101000000.000/migrate/a/c/0/" + std::to_string(i);
    int owners = 0;
    for (int p = 0; p < 5; ++p) {
      if (owned_by(name, 5, p)) {
        ++owners;
        ++counts[static_cast<std::size_t>(p)];
      }
    }
    REQUIRE(owners == 1);
  }
  for (const int count : counts) {
    CHECK(count > 850);
    CHECK(count < 1150);
  }
}

TEST_CASE("queue: missing Swift files are configuration errors", "[queue]")
{
  test::TempDir dir;
  FakeContainerServers http;
  CHECK_THROWS_AS(RequestQueue(http, dir.path()), ConfigError);
}

TEST_CASE("queue: the swift.conf it was built from, read once", "[queue]")
{
  Fixture f;
  const auto& conf = f.queue->swift_conf();
  CHECK(conf.path == f.dir.path() / "swift.conf");
  CHECK(conf.policies.size() == 2);
  CHECK(f.queue->secret().prefix == "p");
  CHECK(f.queue->secret().suffix == "s");

  // Given the caller's copy, the queue does not read the file again.
  ring::SwiftConf given = conf;
  given.hash_path_prefix = "given";
  std::filesystem::remove(f.dir.path() / "swift.conf");
  const RequestQueue queue(f.split, f.dir.path(), given);
  CHECK(queue.secret().prefix == "given");
  CHECK(queue.swift_conf().policies.size() == 2);
}

TEST_CASE("queue: retry state in a pending row's content type", "[queue]")
{
  CHECK(pending_content_type({}) == "application/swifthlm-task");
  CHECK(retry_state_of("application/swifthlm-task") == RetryState{});

  const RetryState state{3, 1795332046, "node 127.0.0.1: \"no tape\"; 100% \xe2\x9c\x97"};
  const auto type = pending_content_type(state);
  CHECK(type
        == "application/swifthlm-task; attempts=3; retry_after=1795332046; "
           "reason=node%20127.0.0.1%3A%20%22no%20tape%22%3B%20100%25%20%E2%9C%97");
  CHECK(retry_state_of(type) == state);
  // As a Swift listing shows it: parameters rewritten as ";k=v".
  std::string listed = type;
  for (std::size_t pos; (pos = listed.find("; ")) != std::string::npos;) {
    listed.erase(pos + 1, 1);
  }
  CHECK(retry_state_of(listed) == state);
  // Parameters in another order, or some of them missing.
  CHECK(retry_state_of("application/swifthlm-task;reason=x;retry_after=5;attempts=2")
        == RetryState{2, 5, "x"});
  CHECK(retry_state_of("application/swifthlm-task;attempts=1") == RetryState{1, std::nullopt, {}});
  CHECK(pending_content_type({1, std::nullopt, ""}) == "application/swifthlm-task; attempts=1");

  // Garbage reads as the default, never as an error.
  for (const char* garbage :
       {"application/swifthlm-task;attempts=;retry_after=",
        "application/swifthlm-task;attempts=-1",
        "application/swifthlm-task;attempts=x;retry_after=soon",
        "application/swifthlm-task;attempts=1e3;retry_after=0x10",
        "application/swifthlm-task;attempts=99999999999999999999;retry_after=99999999999999999999",
        "application/swifthlm-task;retry_after=10000000000",
        "application/swifthlm-task;;;==;",
        "",
        ";",
        "attempts"}) {
    INFO(garbage);
    CHECK(retry_state_of(garbage).attempts == 0);
    CHECK_FALSE(retry_state_of(garbage).retry_after);
  }
  CHECK(retry_state_of("application/swifthlm-task;attempts=+2;retry_after= 7").attempts == 0);
  CHECK(retry_state_of("application/swifthlm-task;attempts=2;retry_after=x").retry_after
        == std::nullopt);
  CHECK(retry_state_of("application/swifthlm-task;attempts=2;retry_after=x").attempts == 2);
}

TEST_CASE("queue: submission times", "[queue]")
{
  using namespace std::chrono;
  const auto t = parse_submitted("20261122084527.123");
  REQUIRE(t);
  CHECK(format_submitted(*t) == "20261122084527.123");
  CHECK(duration_cast<milliseconds>(t->time_since_epoch()).count() == 1795337127123);
  for (const char* bad : {"",
                          "20261122084527",
                          "20261122084527,123",
                          "20261322084527.123",
                          "20260230084527.123",
                          "20261122244527.123",
                          "2026112208452x.123",
                          "20261122084527.12x"}) {
    INFO(bad);
    CHECK_FALSE(parse_submitted(bad));
  }
}

TEST_CASE("queue: a retry rewrite keeps the id and races safely with a dequeue", "[queue]")
{
  Fixture f;
  const auto entry = make_entry("o", format_submitted(std::chrono::system_clock::now()));
  const std::string id = f.queue->submit(entry);
  const auto first = f.list(Which::pending).at(0);
  CHECK(first.retry == RetryState{});

  SECTION("the rewrite shows, and the next dequeue removes it")
  {
    f.queue->retry_later(first, {1, 1795332046, "tape offline"});
    const auto& put = f.http.requests.back();
    CHECK(put.method == swift::Method::put);
    // The data time stays at or below the row's; only the content type moves on.
    CHECK(SwiftTimestamp::parse(*swift::find_header(put.headers, "X-Timestamp"))
          <= first.row.timestamp);
    CHECK(SwiftTimestamp::parse(*swift::find_header(put.headers, "X-Content-Type-Timestamp"))
          > first.row.timestamp);
    auto pending = f.list(Which::pending);
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].row.name == id);
    CHECK(pending[0].retry == RetryState{1, 1795332046, "tape offline"});
    CHECK(first.row.timestamp < pending[0].row.timestamp);

    // A second failed attempt, then success.
    f.queue->retry_later(pending[0], {2, 1795332106, "tape offline again"});
    pending = f.list(Which::pending);
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].retry.attempts == 2);
    f.queue->complete(pending[0].row);
    CHECK(f.list(Which::pending).empty());
    // A re-submission of the same name still outlives every dequeue before it.
    f.queue->submit(entry);
    f.queue->complete(pending[0].row);
    f.queue->complete(first.row);
    REQUIRE(f.list(Which::pending).size() == 1);
    CHECK(f.list(Which::pending)[0].retry.attempts == 0);
  }

  SECTION("a dequeue of the same version, before the rewrite, is not undone")
  {
    f.queue->complete(first.row); // another dispatcher finished it
    f.queue->retry_later(first, {1, 1795332046, "x"});
    CHECK(f.list(Which::pending).empty());
  }

  SECTION("a dequeue of the same version, after the rewrite, still removes it")
  {
    f.queue->retry_later(first, {1, 1795332046, "x"});
    f.queue->complete(first.row); // listed before the rewrite, arriving late
    CHECK(f.list(Which::pending).empty());
    // A replica that missed the delete lists the row: the next run finishes it.
  }

  SECTION("a rewrite by a clock behind the row's still counts")
  {
    // The row as written by a host whose clock runs 1000 s ahead.
    const SwiftTimestamp ahead(SwiftTimestamp::now().ticks()
                               + 1000 * SwiftTimestamp::k_ticks_per_second);
    f.queue->direct().put_row_quorum(k_pending_container, id, ahead, k_entry_content_type);
    const auto listed = f.list(Which::pending).at(0);
    CHECK(listed.row.timestamp == ahead);
    f.queue->retry_later(listed, {1, std::nullopt, "x"});
    CHECK(f.list(Which::pending).at(0).retry.attempts == 1);
    f.queue->complete(f.list(Which::pending).at(0).row);
    CHECK(f.list(Which::pending).empty());
  }
}

TEST_CASE("queue: which rows have no object behind them", "[queue]")
{
  // hlm's rows and SwiftHLM's middleware's pending rows, as written and as
  // a listing shows them.
  CHECK(is_row_only("application/swifthlm-task"));
  CHECK(is_row_only("application/swifthlm-task;reason=x%20y"));
  CHECK(is_row_only("application/swifthlm-task; attempts=2; retry_after=5"));
  CHECK(is_row_only(" Application/SwiftHLM-Task ;x=1"));
  // SwiftHLM's dispatcher's failed objects: typed by the proxy from the name.
  CHECK_FALSE(is_row_only("application/octet-stream"));
  CHECK_FALSE(is_row_only("text/plain"));
  CHECK_FALSE(is_row_only("application/swifthlm-taskx"));
  CHECK_FALSE(is_row_only(""));
}

namespace {

// A failed entry as SwiftHLM's dispatcher left it: a zero-byte object on
// the primaries of the failed container's policy, and its listing row
// (written by the object servers' container updates), typed by the proxy.
struct SwiftHlmFailure
{
  std::string name;
  std::string content_type;
};

void
store_swifthlm_failure(Fixture& f,
                       int policy,
                       const SwiftHlmFailure& failure,
                       const SwiftTimestamp& timestamp)
{
  const ring::HashSecret secret{"p", "s"};
  const auto ring = ring::Ring::load(ring::object_ring_path(f.dir.path(), policy));
  const auto partition = ring.partition(
    ring::hash_path(secret, ".swifthlm", k_failed_container, failure.name));
  for (const auto* node : ring.primary_nodes(partition)) {
    f.objects.put(node->ip + ":" + std::to_string(node->port),
                  node->device,
                  partition,
                  "/.swifthlm/failed-hlm-requests/" + failure.name,
                  timestamp);
  }
  f.queue->direct().put_row_quorum(k_failed_container,
                                   failure.name,
                                   timestamp,
                                   failure.content_type);
}

// How many primaries still hold the object of failed entry `name`.
std::size_t
objects_left(Fixture& f, int policy, const std::string& name)
{
  const ring::HashSecret secret{"p", "s"};
  const auto ring = ring::Ring::load(ring::object_ring_path(f.dir.path(), policy));
  const auto partition = ring.partition(
    ring::hash_path(secret, ".swifthlm", k_failed_container, name));
  std::size_t left = 0;
  for (const auto* node : ring.primary_nodes(partition)) {
    const auto* object = f.objects.find(node->ip + ":" + std::to_string(node->port),
                                        node->device,
                                        partition,
                                        "/.swifthlm/failed-hlm-requests/" + name);
    left += object && !object->deleted ? 1 : 0;
  }
  return left;
}

// The failed container as SwiftHLM's dispatcher created it through the
// proxy, in `policy` (the cluster's default then).
void
make_failed_container(Fixture& f, int policy)
{
  for (const auto* node : f.queue->direct().nodes(k_failed_container)) {
    auto& server = f.http.servers[node->ip + ":" + std::to_string(node->port)];
    server.dbs["/.swifthlm/failed-hlm-requests"];
    server.policy["/.swifthlm/failed-hlm-requests"] = policy;
  }
}

} // namespace

TEST_CASE("queue: clearing a failed entry SwiftHLM stored as an object deletes the object",
          "[queue]")
{
  Fixture f;
  make_failed_container(f, 1);
  const SwiftTimestamp stored(150000000000000); // 2017
  const SwiftHlmFailure current{"/20170303034043.566/migrate/AUTH_test/c\xc3\xa9/0/o",
                                "application/octet-stream"};
  const SwiftHlmFailure legacy{"20170303034042.001--migrate--AUTH_test--c\xc3\xa9--0--o",
                               "application/octet-stream"};
  const SwiftHlmFailure guessed{"/20170303034044.000/migrate/AUTH_test/c\xc3\xa9/0/o.txt",
                                "text/plain"};
  const SwiftHlmFailure other{"/20170303034045.000/recall/AUTH_test/c\xc3\xa9/0/o",
                              "application/octet-stream"};
  for (const auto& failure : {current, legacy, guessed, other}) {
    store_swifthlm_failure(f, 1, failure, stored);
  }
  // One of hlm's own failed rows, superseded too: no object behind it.
  const Entry own = make_entry("o", "20170303034046.000");
  f.queue->submit(own);
  f.queue->fail(f.list(Which::pending).at(0).row, "no tape");
  f.objects.requests.clear();

  const auto before = SwiftTimestamp::now();
  const std::size_t cleared = f.queue->clear_failed(
    [](const Entry& failed) { return failed.operation == Operation::migrate; });
  CHECK(cleared == 4);

  // One DELETE per primary of policy 1's ring (two replicas) for each of
  // SwiftHLM's three objects, none for hlm's own row.
  CHECK(f.objects.requests.size() == 6);
  for (const auto& request : f.objects.requests) {
    CHECK(request.method == swift::Method::del);
    CHECK(swift::find_header(request.headers, "X-Backend-Storage-Policy-Index") == "1");
    CHECK(SwiftTimestamp::parse(*swift::find_header(request.headers, "X-Timestamp")) > before);
    CHECK_THAT(request.url, !Catch::Contains("20170303034046.000"));
  }
  CHECK(f.objects.container_updates == 0);
  CHECK(f.objects.tombstones == 6);
  for (const auto& failure : {current, legacy, guessed}) {
    INFO(failure.name);
    CHECK(objects_left(f, 1, failure.name) == 0);
  }
  CHECK(objects_left(f, 1, other.name) == 2);

  const auto failed = f.list(Which::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].row.name == other.name);
  CHECK(failed[0].reason == "");
}

TEST_CASE("queue: a failed object that cannot be deleted keeps its row", "[queue]")
{
  Fixture f;
  make_failed_container(f, 0);
  const SwiftHlmFailure failure{"/20170303034043.566/recall/AUTH_test/c/0/o",
                                "application/octet-stream"};
  store_swifthlm_failure(f, 0, failure, SwiftTimestamp(150000000000000));
  for (int port = 6110; port <= 6140; port += 10) {
    f.objects.servers["127.0.0.1:" + std::to_string(port)].mode = FakeObjectServers::Mode::refuse;
  }
  const auto all = [](const Entry&) { return true; };
  CHECK_THROWS_AS(f.queue->clear_failed(all), TransportError);
  REQUIRE(f.list(Which::failed).size() == 1);
  CHECK(objects_left(f, 0, failure.name) == 3);

  // The servers back: the next clearing finds the row and finishes.
  for (auto& [host, server] : f.objects.servers) {
    server.mode = FakeObjectServers::Mode::normal;
  }
  CHECK(f.queue->clear_failed(all) == 1);
  CHECK(f.list(Which::failed).empty());
  CHECK(objects_left(f, 0, failure.name) == 0);
}

namespace {

const ListHeader k_list_header{Operation::recall, "AUTH_test", "c\xc3\xa9", 0};

std::string
manifest_of(const ListHeader& header, const std::vector<std::string>& names)
{
  std::string body;
  ManifestWriter writer(header, [&](std::string_view bytes) { body.append(bytes); });
  for (const auto& name : names) {
    writer.add(name);
  }
  writer.finish();
  return body;
}

std::vector<ListedList>
lists_of(Fixture& f)
{
  std::vector<ListedList> out;
  f.queue->for_each_list([&](const ListedList& listed) {
    out.push_back(listed);
    return true;
  });
  return out;
}

std::vector<std::string>
listed_manifests(Fixture& f)
{
  std::vector<std::string> out;
  f.queue->direct().list_rows(k_lists_container, {}, [&](const Row& row) {
    out.push_back(row.name);
    return true;
  });
  return out;
}

std::vector<std::string>
names_of(Fixture& f, const ListedList& list)
{
  std::vector<std::string> names;
  f.queue->read_list(list, [&](std::string_view name) { names.emplace_back(name); });
  return names;
}

} // namespace

TEST_CASE("queue: a list request is a manifest, its listing row and one pending row", "[queue]")
{
  Fixture f;
  const std::vector<std::string> names = {"a", "b/c", "d\ne"};
  const std::string id =
    f.queue->submit_list(k_list_header, "20260101000000.000", manifest_of(k_list_header, names), 3);
  const auto entry = decode_entry(id);
  CHECK(entry.operation == Operation::recall);
  CHECK(entry.target.container == "c\xc3\xa9");
  CHECK(is_list_id(entry.target.object));
  // Nothing in SwiftHLM's pending container.
  CHECK(f.list(Which::pending).empty());
  CHECK(listed_manifests(f) == std::vector<std::string>{entry.target.object});

  auto lists = lists_of(f);
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].row.name == id);
  CHECK(lists[0].entry == entry);
  CHECK(lists[0].progress == ListProgress{3, 0, 0});
  CHECK(names_of(f, lists[0]) == names);

  f.queue->update_list_progress(lists[0], ListProgress{3, 2, 1});
  lists = lists_of(f);
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].row.name == id);
  CHECK(lists[0].progress == ListProgress{3, 2, 1});

  f.queue->complete_list(lists[0]);
  CHECK(lists_of(f).empty());
  CHECK(listed_manifests(f).empty());
  CHECK_THROWS_WITH(names_of(f, lists[0]), Catch::Contains("is missing"));
}

TEST_CASE("queue: a recall list keeps its copies through progress rewrites", "[queue]")
{
  Fixture f;
  f.queue->submit_list(k_list_header,
                       "20260101000000.000",
                       manifest_of(k_list_header, {"a", "b"}),
                       2,
                       1);
  auto lists = lists_of(f);
  REQUIRE(lists.size() == 1);
  CHECK(copies_of(lists[0].row.content_type) == std::optional<std::size_t>(1));
  f.queue->update_list_progress(lists[0], ListProgress{2, 1, 0});
  lists = lists_of(f);
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].progress == ListProgress{2, 1, 0});
  CHECK(copies_of(lists[0].row.content_type) == std::optional<std::size_t>(1));
}

TEST_CASE("queue: a list whose manifest cannot be stored is not queued", "[queue]")
{
  Fixture f;
  for (auto& [host, server] : f.objects.servers) {
    server.mode = FakeObjectServers::Mode::normal;
  }
  // Every object server of policy 0 fails: no majority for any manifest.
  for (int port = 6110; port <= 6140; port += 10) {
    f.objects.servers["127.0.0.1:" + std::to_string(port)].mode = FakeObjectServers::Mode::fail;
  }
  CHECK_THROWS_WITH(
    f.queue->submit_list(k_list_header, "20260101000000.000", manifest_of(k_list_header, {"a"}), 1),
    Catch::StartsWith("not queued: list of 1 object in \"AUTH_test/c\xc3\xa9\""));
  CHECK(lists_of(f).empty());
  CHECK(listed_manifests(f).empty());
}

TEST_CASE("queue: a list row whose manifest says something else is refused", "[queue]")
{
  Fixture f;
  const ListHeader other{Operation::migrate, "AUTH_test", "c\xc3\xa9", 0};
  f.queue->submit_list(k_list_header, "20260101000000.000", manifest_of(other, {"a"}), 1);
  const auto lists = lists_of(f);
  REQUIRE(lists.size() == 1);
  CHECK_THROWS_WITH(names_of(f, lists[0]), Catch::Contains("is about migrate of"));
  // A row that does not end in a list id does not decode as a list.
  f.queue->direct().put_row_quorum(k_pending_lists_container,
                                   encode_entry(make_entry("not-a-list-id")),
                                   SwiftTimestamp::now(),
                                   list_content_type({1, 0, 0}));
  const auto all = lists_of(f);
  REQUIRE(all.size() == 2);
  const auto& bad = all[0].entry ? all[1] : all[0];
  CHECK_THAT(bad.decode_error, Catch::Contains("does not end in a list id"));
  CHECK_THROWS_WITH(names_of(f, bad), Catch::Contains("does not end in a list id"));
}

TEST_CASE("queue: a recall's copies are stored with it and kept by a retry rewrite",
          "[queue][copies]")
{
  Fixture f;
  auto entry = make_entry("o", format_submitted(std::chrono::system_clock::now()));
  entry.operation = Operation::recall;
  f.queue->submit(entry, 1);
  auto pending = f.list(Which::pending);
  REQUIRE(pending.size() == 1);
  CHECK(copies_of(pending[0].row.content_type) == 1U);
  CHECK(pending[0].retry == RetryState{});
  f.queue->retry_later(pending[0], {1, 1795332046, "tape offline"});
  pending = f.list(Which::pending);
  REQUIRE(pending.size() == 1);
  CHECK(copies_of(pending[0].row.content_type) == 1U);
  CHECK(pending[0].retry == RetryState{1, 1795332046, "tape offline"});
}

TEST_CASE("queue: a refused manifest hands on no name; a good one says its count first", "[queue]")
{
  Fixture f;
  const ListHeader other{Operation::migrate, "AUTH_test", "c\xc3\xa9", 0};
  f.queue->submit_list(k_list_header, "20260101000000.000", manifest_of(other, {"a", "b"}), 2);
  f.queue->submit_list(k_list_header, "20260102000000.000", manifest_of(k_list_header, {"x"}), 1);
  const auto lists = lists_of(f);
  REQUIRE(lists.size() == 2);
  std::vector<std::string> events;
  const auto on_name = [&](std::string_view name) { events.emplace_back(name); };
  const auto on_checked = [&](std::uint64_t count) { events.push_back(fmt::format("#{}", count)); };
  CHECK_THROWS_WITH(f.queue->read_list(lists[0], on_name, on_checked),
                    Catch::Contains("is about migrate of"));
  CHECK(events.empty());
  CHECK(f.queue->read_list(lists[1], on_name, on_checked) == 1);
  CHECK(events == std::vector<std::string>{"#1", "x"});
}

TEST_CASE("queue: a list request as a ListedEntry and back", "[queue]")
{
  Fixture f;
  const std::string id = f.queue->submit_list(k_list_header,
                                              "20260101000000.000",
                                              manifest_of(k_list_header, {"a", "b"}),
                                              2,
                                              1);
  const auto lists = lists_of(f);
  REQUIRE(lists.size() == 1);
  const ListedEntry listed = as_listed_entry(lists[0]);
  CHECK(listed.row.name == id);
  CHECK(listed.entry == lists[0].entry);
  CHECK(listed.list == ListProgress{2, 0, 0});
  CHECK(listed.retry == RetryState{});
  const ListedList back = as_listed_list(listed);
  CHECK(back.row.name == id);
  CHECK(back.entry == lists[0].entry);
  CHECK(back.progress == lists[0].progress);
  // A row whose content type says no progress plans as one with none yet.
  ListedList unsaid = lists[0];
  unsaid.progress.reset();
  CHECK(as_listed_entry(unsaid).list == ListProgress{});
}

TEST_CASE("queue: failing a list request leaves a failed row named as it, and nothing else",
          "[queue]")
{
  Fixture f;
  const std::string id =
    f.queue->submit_list(k_list_header, "20260101000000.000", manifest_of(k_list_header, {"a"}), 1);
  f.queue->fail_list(lists_of(f).at(0), "manifest refused");
  CHECK(lists_of(f).empty());
  CHECK(listed_manifests(f).empty());
  const auto failed = f.list(Which::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].row.name == id);
  CHECK(failed[0].reason == "manifest refused");
}

TEST_CASE("queue: rows written by name in the pending or failed container", "[queue]")
{
  Fixture f;
  const std::string name = encode_entry(make_entry("o"));
  f.queue->put_row(Which::failed, name, failed_content_type("no tape"));
  f.queue->put_row(Which::pending,
                   name,
                   with_copies(pending_content_type({1, 1795332046, "tape offline"}), 1));
  const auto failed = f.list(Which::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].reason == "no tape");
  const auto pending = f.list(Which::pending);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].row.name == name);
  CHECK(pending[0].retry == RetryState{1, 1795332046, "tape offline"});
  CHECK(copies_of(pending[0].row.content_type) == 1U);
  // Below a majority: TransportError.
  for (auto& [host, server] : f.http.servers) {
    server.mode = FakeContainerServers::Mode::fail;
  }
  CHECK_THROWS_AS(f.queue->put_row(Which::failed, name, failed_content_type("x")), TransportError);
}

TEST_CASE("queue: the sweep deletes old manifests no list row names", "[queue]")
{
  Fixture f;
  const std::string kept =
    f.queue->submit_list(k_list_header, "20260101000000.000", manifest_of(k_list_header, {"a"}), 1);
  const std::string orphan =
    f.queue->submit_list(k_list_header, "20260102000000.000", manifest_of(k_list_header, {"b"}), 1);
  // A removal that stopped between the row and the manifest.
  const auto lists = lists_of(f);
  REQUIRE(lists.size() == 2);
  const auto& gone = lists[0].row.name == orphan ? lists[0] : lists[1];
  f.queue->direct().delete_row(k_pending_lists_container,
                               gone.row.name,
                               gone.row.timestamp.plus_offset(1));
  REQUIRE(listed_manifests(f).size() == 2);
  // Younger than a day: kept, a submission may be under way.
  CHECK(f.queue->sweep_manifests(std::chrono::hours(24)) == 0);
  CHECK(listed_manifests(f).size() == 2);
  CHECK(f.queue->sweep_manifests(std::chrono::seconds(0)) == 1);
  CHECK(listed_manifests(f) == std::vector<std::string>{decode_entry(kept).target.object});
  CHECK(names_of(f, lists_of(f).at(0)) == std::vector<std::string>{"a"});
}
