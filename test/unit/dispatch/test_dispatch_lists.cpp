// dispatch_once with list requests against fake container servers, fake
// object servers (the manifests) and fake nodes: a list worked as a unit
// with per-object outcomes, resumed from its progress, refused or left
// pending when its manifest cannot be had, and kept in arrival order with
// per-object entries.

#include "../queue/fake_container_servers.hpp"
#include "../queue/fake_object_servers.hpp"
#include "../support/batch_transport.hpp"
#include "../support/filter_http.hpp"
#include "../support/ring_writer.hpp"
#include "../support/temp_dir.hpp"
#include "fake_nodes.hpp"

#include <hlm/config/hlm_conf.hpp>
#include <hlm/dispatch/dispatcher.hpp>
#include <hlm/queue/direct_container.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/util/clock.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::queue;
using hlm::test::FakeContainerServers;
using hlm::test::FakeNodes;
using hlm::test::FakeObjectServers;
using hlm::test::FilterHttp;

namespace {

// Container servers on 6010..6040, object servers (the manifests, and the
// nodes the objects go to) on 6110..6140, three replicas each.
struct Fixture
{
  test::TempDir dir;
  FakeContainerServers containers;
  FilterHttp filtered{containers};
  FakeObjectServers objects;
  test::SplitHttp http{filtered, objects, 6100};
  FakeNodes nodes;
  config::HlmConf conf;
  std::unique_ptr<RequestQueue> queue;
  int submitted = 0;
  std::int64_t now = unix_seconds_now();

  Fixture()
  {
    dir.write("swift.conf",
              "[swift-hash]\nswift_hash_path_prefix = p\nswift_hash_path_suffix = s\n"
              "[storage-policy:0]\nname = gold\ndefault = yes\n");
    test::write_gzip(dir.path() / "container.ring.gz", test::serialize(test::simple_ring(4, 3)));
    test::write_gzip(dir.path() / "object.ring.gz", test::serialize(test::simple_ring(4, 3, 6110)));
    conf.swift_dir = dir.path();
    conf.recall_copies = k_all_copies;
    queue = std::make_unique<RequestQueue>(http, dir.path());
  }

  std::string
  next_submitted()
  {
    return fmt::format("20261122000{:03d}.000", submitted++);
  }

  // Queues a list request of `names` (sorted, unique) of container c.
  std::string
  submit_list(Operation op,
              const std::vector<std::string>& names,
              std::optional<std::size_t> copies = std::nullopt)
  {
    const ListHeader header{op, "AUTH_test", "c", 0};
    std::string body;
    ManifestWriter writer(header, [&](std::string_view bytes) { body.append(bytes); });
    for (const auto& name : names) {
      writer.add(name);
    }
    writer.finish();
    return queue->submit_list(header, next_submitted(), body, names.size(), copies);
  }

  std::string
  submit(Operation op, std::string object)
  {
    return queue->submit(
      Entry{next_submitted(), op, Target{"AUTH_test", "c", std::move(object)}, 0});
  }

  // Queues a request for the whole container c.
  std::string
  submit_container(Operation op, std::optional<std::size_t> copies = std::nullopt)
  {
    return queue->submit(Entry{next_submitted(), op, Target{"AUTH_test", "c", {}}, 0}, copies);
  }

  // Rows of objects in container c of AUTH_test, as the object servers'
  // updates would leave them.
  void
  add_objects(const std::vector<std::string>& names)
  {
    DirectContainerClient client(http, queue->container_ring(), queue->secret(), "AUTH_test");
    for (const auto& name : names) {
      REQUIRE(client.put_object_row_quorum("c",
                                           name,
                                           SwiftTimestamp::now(),
                                           "application/octet-stream",
                                           0,
                                           "d41d8cd98f00b204e9800998ecf8427e")
              >= 2);
    }
  }

  // The names in a list's manifest, in order.
  std::vector<std::string>
  names_of(const ListedList& list)
  {
    std::vector<std::string> out;
    queue->read_list(list, [&](std::string_view name) { out.emplace_back(name); });
    return out;
  }

  std::vector<ListedList>
  lists()
  {
    std::vector<ListedList> out;
    queue->for_each_list([&](const ListedList& list) {
      out.push_back(list);
      return true;
    });
    return out;
  }

  std::vector<ListedEntry>
  rows(Which which)
  {
    std::vector<ListedEntry> out;
    queue->for_each(which, [&](const ListedEntry& listed) {
      out.push_back(listed);
      return true;
    });
    return out;
  }

  std::size_t
  manifests()
  {
    std::size_t n = 0;
    queue->direct().list_rows(k_lists_container, {}, [&](const Row&) {
      ++n;
      return true;
    });
    return n;
  }

  // The objects the nodes worked, once each, in the order first worked.
  std::vector<std::string>
  worked(const std::string& operation)
  {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& [op, object] : nodes.applied) {
      if (op == operation && seen.insert(object).second) {
        out.push_back(object);
      }
    }
    return out;
  }

  dispatch::DispatchReport
  run(dispatch::Schedule schedule = dispatch::Schedule::batched)
  {
    const dispatch::Fanout fanout(conf, nodes.factory());
    dispatch::DispatchOptions options;
    options.schedule = schedule;
    options.clock = [this] { return now; };
    return dispatch::dispatch_once(conf, http, fanout, options, {});
  }
};

constexpr std::string_view k_empty_md5 = "d41d8cd98f00b204e9800998ecf8427e";

// The per-object row a list leaves for a failed object.
std::string
object_row(const std::string& list_id, const std::string& object)
{
  const Entry list = decode_entry(list_id);
  return encode_entry(
    Entry{list.submitted, list.operation, Target{"AUTH_test", "c", object}, list.policy_index});
}

} // namespace

TEST_CASE("dispatch lists: a list that fully succeeds is removed, row and manifest",
          "[dispatch][lists]")
{
  Fixture f;
  f.submit_list(Operation::migrate, {"a", "b", "c/d", "e"});
  REQUIRE(f.manifests() == 1);
  const auto report = f.run();
  CHECK(report.entries == 1);
  CHECK(report.completed == 1);
  CHECK(report.settled() == 1);
  CHECK(report.objects == 4);
  CHECK(f.lists().empty());
  CHECK(f.manifests() == 0);
  CHECK(f.rows(Which::pending).empty());
  CHECK(f.rows(Which::failed).empty());
  CHECK(f.worked("migrate")
        == std::vector<std::string>{"/AUTH_test/c/a",
                                    "/AUTH_test/c/b",
                                    "/AUTH_test/c/c/d",
                                    "/AUTH_test/c/e"});
  CHECK(f.nodes.applied.size() == 12); // every replica
}

TEST_CASE("dispatch lists: a partly failed list leaves exactly its failed objects, with reasons",
          "[dispatch][lists]")
{
  Fixture f;
  // Every replica of a is deleted (permanent); b's backend is offline
  // (transient); the others succeed.
  const std::string id = f.submit_list(Operation::recall, {"a", "b", "c", "d"}, 3);
  f.nodes.failing = {{"/AUTH_test/c/a", "deleted"}, {"/AUTH_test/c/b", "backend"}};
  const auto report = f.run();
  CHECK(report.entries == 1);
  CHECK(report.failed == 1); // an object of it went to the failed queue
  CHECK(report.settled() == 1);
  CHECK(report.objects == 4);
  CHECK(f.lists().empty());
  CHECK(f.manifests() == 0);

  const auto failed = f.rows(Which::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].row.name == object_row(id, "a"));
  CHECK_THAT(*failed[0].reason, Catch::StartsWith("3 of 3 replicas failed; "));
  CHECK_THAT(*failed[0].reason, Catch::Contains("backend failed: deleted"));
  CHECK_THAT(*failed[0].reason, Catch::Contains("/AUTH_test/c/a"));

  const auto pending = f.rows(Which::pending);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].row.name == object_row(id, "b"));
  CHECK(pending[0].retry.attempts == 1);
  CHECK(pending[0].retry.retry_after == f.now + 60);
  CHECK_THAT(pending[0].retry.reason.value_or(""), Catch::Contains("backend failed: backend"));
  CHECK(copies_of(pending[0].row.content_type) == 3U); // the list's copies kept

  // From there the ordinary retries take over: b succeeds next time.
  f.nodes.failing.clear();
  f.nodes.applied.clear();
  f.now += 60;
  const auto again = f.run();
  CHECK(again.entries == 1);
  CHECK(again.completed == 1);
  CHECK(f.rows(Which::pending).empty());
  CHECK(f.worked("recall") == std::vector<std::string>{"/AUTH_test/c/b"});
}

TEST_CASE("dispatch lists: with max_attempts 1 a transient failure fails the object at once",
          "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_attempts = 1;
  const std::string id = f.submit_list(Operation::migrate, {"a", "b"});
  f.nodes.failing = {{"/AUTH_test/c/b", "backend"}};
  const auto report = f.run();
  CHECK(report.failed == 1);
  CHECK(f.rows(Which::pending).empty());
  const auto failed = f.rows(Which::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].row.name == object_row(id, "b"));
  CHECK(f.lists().empty());
}

TEST_CASE("dispatch lists: a list resumes from the progress its row says", "[dispatch][lists]")
{
  Fixture f;
  f.submit_list(Operation::migrate, {"a", "b", "c", "d", "e"});
  f.queue->update_list_progress(f.lists().at(0), ListProgress{5, 2, 0});
  const auto report = f.run();
  CHECK(report.completed == 1);
  CHECK(report.objects == 3);
  CHECK(f.worked("migrate")
        == std::vector<std::string>{"/AUTH_test/c/c", "/AUTH_test/c/d", "/AUTH_test/c/e"});
  CHECK(f.lists().empty());
  CHECK(f.manifests() == 0);
}

TEST_CASE("dispatch lists: the progress is saved every batch_size objects", "[dispatch][lists]")
{
  Fixture f;
  f.conf.batch_size = 2;
  f.submit_list(Operation::migrate, {"a", "b", "c", "d", "e"});
  f.containers.requests.clear();
  CHECK(f.run().completed == 1);
  // Rewrites at 2 and 4 done (5 is the end: the list is removed), each to
  // the three replicas of its row.
  std::size_t rewrites = 0;
  for (const auto& request : f.containers.requests) {
    if (request.method == swift::Method::put
        && request.url.find(std::string(k_pending_lists_container)) != std::string::npos) {
      ++rewrites;
    }
  }
  CHECK(rewrites == 6);
  CHECK(f.lists().empty());
}

TEST_CASE("dispatch lists: a failed object's row that cannot be written stops the list there",
          "[dispatch][lists]")
{
  Fixture f;
  const std::string id = f.submit_list(Operation::migrate, {"a", "b", "c", "d"});
  f.nodes.failing = {{"/AUTH_test/c/b", "deleted"}};
  f.filtered.refuse = [](const swift::HttpRequest& request) {
    return request.method == swift::Method::put
           && request.url.find(std::string(k_failed_container)) != std::string::npos;
  };
  const auto report = f.run();
  CHECK(report.retrying == 1);
  CHECK(report.settled() == 1);
  auto lists = f.lists();
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].progress == ListProgress{4, 1, 0}); // a done, b not
  CHECK(f.rows(Which::failed).empty());
  CHECK(f.manifests() == 1);

  // The next run works it from b on.
  f.filtered.refuse = nullptr;
  f.nodes.applied.clear();
  const auto again = f.run();
  CHECK(again.failed == 1);
  CHECK(again.objects == 3);
  CHECK(f.worked("migrate") == std::vector<std::string>{"/AUTH_test/c/c", "/AUTH_test/c/d"});
  const auto failed = f.rows(Which::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].row.name == object_row(id, "b"));
  CHECK(f.lists().empty());
}

TEST_CASE("dispatch lists: a missing manifest fails the list with the reason", "[dispatch][lists]")
{
  Fixture f;
  const std::string id = f.submit_list(Operation::migrate, {"a", "b"});
  f.objects.servers.clear(); // every copy of the manifest gone
  const auto report = f.run();
  CHECK(report.failed == 1);
  CHECK(report.objects == 0);
  CHECK(f.lists().empty());
  CHECK(f.manifests() == 0);
  const auto failed = f.rows(Which::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].row.name == id);
  CHECK_THAT(*failed[0].reason, Catch::Contains("is missing"));
  CHECK(f.nodes.applied.empty());
}

TEST_CASE("dispatch lists: a manifest the object servers cannot give leaves the list pending",
          "[dispatch][lists]")
{
  Fixture f;
  const std::string id = f.submit_list(Operation::migrate, {"a", "b"});
  f.objects.servers.clear();
  for (int port = 6110; port <= 6140; port += 10) {
    f.objects.servers["127.0.0.1:" + std::to_string(port)].mode = FakeObjectServers::Mode::fail;
  }
  // The object servers are down, not the nodes' handlers.
  const auto report = f.run();
  CHECK(report.retrying == 1);
  CHECK(report.objects == 0);
  const auto lists = f.lists();
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].row.name == id);
  CHECK(lists[0].progress == ListProgress{2, 0, 0});
  CHECK(f.rows(Which::failed).empty());
  CHECK(f.nodes.applied.empty());
}

TEST_CASE("dispatch lists: an undecodable list row is parked and removed", "[dispatch][lists]")
{
  Fixture f;
  const std::string name = encode_entry(
    Entry{"20261122000000.000", Operation::migrate, Target{"AUTH_test", "c", "not-a-list-id"}, 0});
  REQUIRE(f.queue->direct().put_row_quorum(k_pending_lists_container,
                                           name,
                                           SwiftTimestamp::now(),
                                           list_content_type({1, 0, 0}))
          >= 2);
  const auto report = f.run();
  CHECK(report.undecodable == 1);
  CHECK(f.lists().empty());
  const auto failed = f.rows(Which::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].row.name == name);
  CHECK_THAT(*failed[0].reason, Catch::Contains("does not end in a list id"));
}

TEST_CASE("dispatch lists: a list and a per-object request of its container keep arrival order",
          "[dispatch][lists]")
{
  for (const auto schedule : {dispatch::Schedule::batched, dispatch::Schedule::fifo}) {
    for (const bool list_first : {true, false}) {
      Fixture f;
      INFO((schedule == dispatch::Schedule::fifo ? "fifo" : "batched")
           << (list_first ? ", list first" : ", object first"));
      if (list_first) {
        f.submit_list(Operation::migrate, {"o", "p"});
        f.submit(Operation::recall, "o");
      } else {
        f.submit(Operation::recall, "o");
        f.submit_list(Operation::migrate, {"o", "p"});
      }
      const auto report = f.run(schedule);
      CHECK(report.entries == 2);
      CHECK(report.completed == 2);
      std::vector<std::string> order;
      for (const auto& [operation, object] : f.nodes.applied) {
        if (object == "/AUTH_test/c/o" && (order.empty() || order.back() != operation)) {
          order.push_back(operation);
        }
      }
      CHECK(order
            == (list_first ? std::vector<std::string>{"migrate", "recall"}
                           : std::vector<std::string>{"recall", "migrate"}));
    }
  }
}

TEST_CASE("dispatch lists: a later request of the other operation waits behind a list left "
          "pending",
          "[dispatch][lists]")
{
  Fixture f;
  f.submit_list(Operation::migrate, {"o", "p"});
  f.submit(Operation::recall, "q"); // not in the list, but in its container
  f.nodes.failing = {{"/AUTH_test/c/p", "backend"}};
  const auto report = f.run();
  CHECK(report.entries == 2);
  CHECK(report.retrying == 1); // the list, p waits for another attempt
  CHECK(report.deferred == 1); // recall q, behind it
  CHECK(f.worked("recall").empty());
  CHECK(f.rows(Which::pending).size() == 2); // p's row and recall q
}

TEST_CASE("dispatch lists: a run deletes manifests no list names once they are a day old",
          "[dispatch][lists]")
{
  Fixture f;
  f.submit_list(Operation::migrate, {"a"});
  // Listed manifests no row names: one of 25 hours ago, one just stored
  // (its list's row may be under way).
  const auto day_ago = SwiftTimestamp::from_time(std::chrono::system_clock::now()
                                                 - std::chrono::hours(25));
  for (const auto& [id, time] :
       {std::pair{std::string("20261101000000.000-00000000000000aa"), day_ago},
        std::pair{std::string("20261101000000.000-00000000000000bb"), SwiftTimestamp::now()}}) {
    REQUIRE(
      f.queue->direct()
        .put_object_row_quorum(k_lists_container, id, time, k_manifest_content_type, 0, k_empty_md5)
      >= 2);
  }
  REQUIRE(f.manifests() == 3);
  // Deletes fail: the list is worked but cannot be removed, and the sweep
  // cannot delete; neither stops the run.
  f.filtered.refuse = [](const swift::HttpRequest& request) {
    return request.method == swift::Method::del;
  };
  const auto report = f.run();
  CHECK(report.retrying == 1);
  CHECK(report.objects == 1);
  CHECK(f.manifests() == 3);
  REQUIRE(f.lists().size() == 1);
  CHECK(f.lists()[0].progress == ListProgress{1, 1, 0});
  // Then the list is removed without working its object again, and the
  // old orphan deleted.
  f.filtered.refuse = nullptr;
  const auto again = f.run();
  CHECK(again.completed == 1);
  CHECK(again.objects == 0);
  CHECK(f.lists().empty());
  CHECK(f.manifests() == 1);
}

// Hidden (run by name): a 100,000-object list through the fakes, every
// 1,000th object failing for good; for the time and peak RSS of a run
// (/usr/bin/time -v).
TEST_CASE("dispatch lists: a 100,000-object list, every 1,000th object failing", "[.][lists-scale]")
{
  Fixture f;
  std::vector<std::string> names;
  for (int i = 0; i < 100'000; ++i) {
    names.push_back(fmt::format("object-{:06d}", i));
    if (i % 1'000 == 999) {
      f.nodes.failing[fmt::format("/AUTH_test/c/object-{:06d}", i)] = "deleted";
    }
  }
  const std::string id = f.submit_list(Operation::migrate, names);
  names = {};
  f.nodes.record = false;
  f.objects.requests = {}; // the manifest PUTs' bodies
  const auto report = f.run();
  CHECK(report.failed == 1);
  CHECK(report.objects == 100'000);
  CHECK(f.lists().empty());
  const auto failed = f.rows(Which::failed);
  CHECK(failed.size() == 100);
  CHECK(failed.at(0).row.name == object_row(id, "object-000999"));
}

namespace {

// Objects o0 .. o<n-1> of container c, named so that they sort in order.
std::vector<std::string>
numbered(std::size_t n)
{
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) {
    names.push_back(fmt::format("o{:03d}", i));
  }
  return names;
}

} // namespace

TEST_CASE("dispatch spill: a container request's failed objects beyond max_failed_objects "
          "stay exactly, as a list request that waits like a retry",
          "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_failed_objects = 2;
  f.conf.max_attempts = 3;
  const auto names = numbered(8);
  f.add_objects(names);
  const std::string id = f.submit_container(Operation::recall, 3);
  const std::vector<std::string> failing = {"o001", "o002", "o004", "o005", "o007"};
  for (const auto& name : failing) {
    f.nodes.failing["/AUTH_test/c/" + name] = "backend";
  }

  const auto report = f.run();
  CHECK(report.entries == 1);
  CHECK(report.retrying == 1);
  CHECK(report.failed == 0);
  // The container request is gone; no per-object row; one list of
  // exactly the failed objects, in order.
  CHECK(f.rows(Which::pending).empty());
  CHECK(f.rows(Which::failed).empty());
  const auto lists = f.lists();
  REQUIRE(lists.size() == 1);
  CHECK(f.names_of(lists[0]) == failing);
  REQUIRE(lists[0].entry);
  const Entry container = decode_entry(id);
  CHECK(lists[0].entry->submitted == container.submitted);
  CHECK(lists[0].entry->operation == Operation::recall);
  CHECK(lists[0].entry->target.container == "c");
  CHECK(lists[0].progress == ListProgress{5, 0, 0});
  // Its row: a failed first attempt, the container's copies kept.
  const RetryState retry = retry_state_of(lists[0].row.content_type);
  CHECK(retry.attempts == 1);
  CHECK(retry.retry_after == f.now + 60);
  CHECK_THAT(retry.reason.value_or(""), Catch::Contains("backend failed: backend"));
  CHECK(copies_of(lists[0].row.content_type) == 3U);
  // Written so from the first write: no row of the list was ever a first
  // attempt, which a crash before a rewrite would have left.
  std::size_t list_row_puts = 0;
  for (const auto& request : f.containers.requests) {
    if (request.method != hlm::swift::Method::put
        || request.url.find("/pending-hlm-lists/") == std::string::npos) {
      continue;
    }
    ++list_row_puts;
    for (const auto& [header, value] : request.headers) {
      if (header == "X-Content-Type") {
        INFO(value);
        CHECK(retry_state_of(value).attempts == 1);
      }
    }
  }
  CHECK(list_row_puts == 3); // one write, to each of the 3 container servers

  // Not due yet: deferred, nothing sent.
  f.nodes.applied.clear();
  const auto early = f.run();
  CHECK(early.deferred == 1);
  CHECK(early.objects == 0);
  CHECK(f.nodes.applied.empty());

  // Due, the node back: exactly the failed objects are worked, and done.
  f.nodes.failing.clear();
  f.now += 60;
  const auto again = f.run();
  CHECK(again.completed == 1);
  std::vector<std::string> expected;
  for (const auto& name : failing) {
    expected.push_back("/AUTH_test/c/" + name);
  }
  CHECK(f.worked("recall") == expected);
  CHECK(f.lists().empty());
  CHECK(f.manifests() == 0);
  CHECK(f.rows(Which::pending).empty());
  CHECK(f.rows(Which::failed).empty());
}

TEST_CASE("dispatch spill: with max_failed_objects 0 every failed object goes to a list",
          "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_failed_objects = 0;
  f.add_objects(numbered(3));
  f.submit_container(Operation::migrate);
  f.nodes.failing = {{"/AUTH_test/c/o001", "backend"}};
  f.run();
  CHECK(f.rows(Which::pending).empty());
  const auto lists = f.lists();
  REQUIRE(lists.size() == 1);
  CHECK(f.names_of(lists[0]) == std::vector<std::string>{"o001"});
}

TEST_CASE("dispatch spill: permanent failures get failed rows of their own, transient ones a "
          "list",
          "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_failed_objects = 2;
  f.add_objects(numbered(6));
  const std::string id = f.submit_container(Operation::migrate);
  f.nodes.failing = {{"/AUTH_test/c/o000", "deleted"},
                     {"/AUTH_test/c/o001", "backend"},
                     {"/AUTH_test/c/o003", "deleted"},
                     {"/AUTH_test/c/o004", "backend"}};
  const auto report = f.run();
  CHECK(report.failed == 1);
  CHECK(report.retrying == 0);
  const auto failed = f.rows(Which::failed);
  REQUIRE(failed.size() == 2);
  CHECK(failed[0].row.name == id + "/o000");
  CHECK(failed[1].row.name == id + "/o003");
  for (const auto& row : failed) {
    CHECK_THAT(*row.reason, Catch::StartsWith("3 of 3 replicas failed; "));
    CHECK_THAT(*row.reason, Catch::Contains("backend failed: deleted"));
  }
  CHECK_THAT(*failed[1].reason, Catch::Contains("/AUTH_test/c/o003"));
  CHECK(f.rows(Which::pending).empty());
  const auto lists = f.lists();
  REQUIRE(lists.size() == 1);
  CHECK(f.names_of(lists[0]) == std::vector<std::string>{"o001", "o004"});
}

TEST_CASE("dispatch spill: at the last attempt every failed object gets its failed row",
          "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_failed_objects = 1;
  f.conf.max_attempts = 2;
  f.add_objects(numbered(4));
  const std::string id = f.submit_container(Operation::migrate);
  const auto listed = f.queue->find(Which::pending, id);
  REQUIRE(listed);
  f.queue->retry_later(*listed, {1, f.now - 1, "earlier"});
  f.nodes.failing = {{"/AUTH_test/c/o001", "backend"}, {"/AUTH_test/c/o002", "backend"}};
  const auto report = f.run();
  CHECK(report.failed == 1);
  CHECK(f.lists().empty());
  CHECK(f.rows(Which::pending).empty());
  const auto failed = f.rows(Which::failed);
  REQUIRE(failed.size() == 2);
  CHECK(failed[0].row.name == id + "/o001");
  CHECK(failed[1].row.name == id + "/o002");
  CHECK_THAT(*failed[0].reason, Catch::StartsWith("after 2 attempts: "));
}

TEST_CASE("dispatch spill: a spilled list counts the container's attempts when its objects "
          "fail again",
          "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_failed_objects = 1;
  f.conf.max_attempts = 2;
  f.add_objects(numbered(4));
  const std::string id = f.submit_container(Operation::migrate);
  f.nodes.failing = {{"/AUTH_test/c/o000", "backend"}, {"/AUTH_test/c/o003", "backend"}};
  f.run();
  REQUIRE(f.lists().size() == 1);
  f.now += 60;
  const auto again = f.run();
  CHECK(again.failed == 1);
  CHECK(f.lists().empty());
  CHECK(f.rows(Which::pending).empty());
  const auto failed = f.rows(Which::failed);
  REQUIRE(failed.size() == 2);
  CHECK(failed[0].row.name == id + "/o000");
  CHECK(failed[1].row.name == id + "/o003");
  CHECK_THAT(*failed[0].reason, Catch::StartsWith("after 2 attempts: "));
}

TEST_CASE("dispatch spill: failed objects that cannot be queued as a list leave the container "
          "request to be settled whole",
          "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_failed_objects = 1;
  f.add_objects(numbered(4));
  const std::string id = f.submit_container(Operation::migrate);
  f.nodes.failing = {{"/AUTH_test/c/o000", "backend"}, {"/AUTH_test/c/o003", "backend"}};
  // No container server lists a manifest.
  f.filtered.refuse = [](const swift::HttpRequest& request) {
    return request.method == swift::Method::put
           && std::string_view(request.url).find("/hlm-lists/") != std::string_view::npos;
  };
  const auto report = f.run();
  CHECK(report.retrying == 1);
  CHECK(f.lists().empty());
  const auto pending = f.rows(Which::pending);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].row.name == id);
  CHECK(pending[0].retry.attempts == 1);
}

TEST_CASE("dispatch spill: failed objects past a manifest's most go to further lists",
          "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_failed_objects = 1;
  f.conf.batch_size = 100'000;
  f.nodes.record = false;
  // 9,000 names of 1,000 bytes: more than one 8 MiB manifest holds.
  std::vector<std::string> names;
  for (std::size_t i = 0; i < 9'000; ++i) {
    names.push_back(fmt::format("{:06d}", i) + std::string(994, 'x'));
  }
  f.add_objects(names);
  f.submit_container(Operation::migrate);
  for (const auto& name : names) {
    f.nodes.failing["/AUTH_test/c/" + name] = "backend";
  }
  f.run();
  CHECK(f.rows(Which::pending).empty());
  const auto lists = f.lists();
  REQUIRE(lists.size() == 2);
  std::vector<std::string> listed;
  for (const auto& list : lists) {
    const auto part = f.names_of(list);
    CHECK(list.progress->count == part.size());
    listed.insert(listed.end(), part.begin(), part.end());
  }
  std::sort(listed.begin(), listed.end());
  CHECK(listed == names);
}

TEST_CASE("dispatch spill: a list's objects to retry beyond max_failed_objects go to a list of "
          "their own",
          "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_failed_objects = 2;
  f.conf.max_attempts = 3;
  const auto names = numbered(7);
  const std::string id = f.submit_list(Operation::migrate, names);
  const std::vector<std::string> failing = {"o000", "o002", "o003", "o005", "o006"};
  for (const auto& name : failing) {
    f.nodes.failing["/AUTH_test/c/" + name] = "backend";
  }
  const auto report = f.run();
  CHECK(report.retrying == 1);
  // The first two as rows of their own, the other three as a list that
  // waits for its retry like them.
  const auto pending = f.rows(Which::pending);
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].row.name == object_row(id, "o000"));
  CHECK(pending[1].row.name == object_row(id, "o002"));
  const auto lists = f.lists();
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].row.name != id);
  CHECK(f.names_of(lists[0]) == std::vector<std::string>{"o003", "o005", "o006"});
  const RetryState retry = retry_state_of(lists[0].row.content_type);
  CHECK(retry.attempts == 1);
  CHECK(retry.retry_after == pending[0].retry.retry_after);
  CHECK(f.manifests() == 1);

  f.nodes.failing.clear();
  f.nodes.applied.clear();
  f.now += 60;
  const auto again = f.run();
  CHECK(again.completed == 3);
  CHECK(f.rows(Which::pending).empty());
  CHECK(f.rows(Which::failed).empty());
  CHECK(f.lists().empty());
  CHECK(f.manifests() == 0);
  std::vector<std::string> expected;
  for (const auto& name : failing) {
    expected.push_back("/AUTH_test/c/" + name);
  }
  auto worked = f.worked("migrate");
  std::sort(worked.begin(), worked.end());
  CHECK(worked == expected);
}

TEST_CASE("dispatch spill: a list's spill is queued before each progress save", "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_failed_objects = 0;
  f.conf.batch_size = 2;
  const auto names = numbered(6);
  f.submit_list(Operation::migrate, names);
  for (const auto& name : names) {
    f.nodes.failing["/AUTH_test/c/" + name] = "backend";
  }
  f.run();
  CHECK(f.rows(Which::pending).empty());
  std::vector<std::string> spilled;
  for (const auto& list : f.lists()) {
    const auto part = f.names_of(list);
    CHECK(part.size() <= 2);
    spilled.insert(spilled.end(), part.begin(), part.end());
  }
  std::sort(spilled.begin(), spilled.end());
  CHECK(spilled == names);
}

TEST_CASE("dispatch spill: a list whose spill cannot be queued stays pending at its saved "
          "progress",
          "[dispatch][lists]")
{
  Fixture f;
  f.conf.max_failed_objects = 0;
  const std::string id = f.submit_list(Operation::migrate, numbered(4));
  f.nodes.failing = {{"/AUTH_test/c/o001", "backend"}};
  // Manifests are stored no more.
  f.filtered.refuse = [](const swift::HttpRequest& request) {
    return request.method == swift::Method::put
           && std::string_view(request.url).find("/hlm-lists/") != std::string_view::npos;
  };
  const auto report = f.run();
  CHECK(report.retrying == 1);
  CHECK(f.rows(Which::pending).empty());
  const auto lists = f.lists();
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].row.name == id);
  CHECK(lists[0].progress == ListProgress{4, 0, 0});

  // Stored again: the list is worked from the start, o001 spilled.
  f.filtered.refuse = {};
  f.run();
  const auto after = f.lists();
  REQUIRE(after.size() == 1);
  CHECK(after[0].row.name != id);
  CHECK(f.names_of(after[0]) == std::vector<std::string>{"o001"});
}

TEST_CASE("dispatch spill: on_complete hears of the container with the lists and the first "
          "failed objects",
          "[dispatch][lists]")
{
  Fixture f;
  const auto log = f.dir.path() / "hook.log";
  f.conf.on_complete = {"/bin/sh", "-c", "cat >> '" + log.string() + "'"};
  f.conf.max_failed_objects = 1;
  f.add_objects(numbered(4));
  const std::string id = f.submit_container(Operation::migrate);
  f.nodes.failing = {{"/AUTH_test/c/o000", "deleted"},
                     {"/AUTH_test/c/o001", "backend"},
                     {"/AUTH_test/c/o003", "backend"}};
  f.run();
  std::ifstream in(log);
  std::string line;
  REQUIRE(std::getline(in, line));
  const auto document = nlohmann::json::parse(line);
  CHECK_FALSE(std::getline(in, line));
  CHECK(document.at("id") == id);
  CHECK(document.at("outcome") == "completed");
  CHECK(document.at("failed_objects_count") == 3);
  const auto lists = f.lists();
  REQUIRE(lists.size() == 1);
  CHECK(document.at("lists") == nlohmann::json::array({lists[0].row.name}));
  const auto& objects = document.at("failed_objects");
  REQUIRE(objects.size() == 3);
  CHECK(objects[0].at("object") == "o000");
  CHECK(objects[0].at("final") == true);
  CHECK(objects[0].at("id") == id + "/o000");
  CHECK(objects[1].at("object") == "o001");
  CHECK(objects[1].at("final") == false);
  CHECK(objects[1].at("id") == lists[0].row.name);
  CHECK(objects[2].at("id") == lists[0].row.name);
}
