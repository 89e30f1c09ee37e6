// dispatch_once's retries against fake container servers and fake nodes:
// attempts counted in the pending row, the backoff, deferral, the last
// attempt moving the entry to the failed queue, and the order of
// conflicting requests kept across retries.

#include "../queue/fake_container_servers.hpp"
#include "../support/batch_transport.hpp"
#include "../support/filter_http.hpp"
#include "../support/ring_writer.hpp"
#include "../support/temp_dir.hpp"
#include "fake_nodes.hpp"

#include <hlm/config/hlm_conf.hpp>
#include <hlm/dispatch/dispatcher.hpp>
#include <hlm/dispatch/report.hpp>
#include <hlm/queue/direct_container.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/util/clock.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::queue;
using hlm::test::FakeContainerServers;
using hlm::test::FakeNodes;

namespace {

struct Fixture
{
  test::TempDir dir;
  FakeContainerServers containers;
  test::FilterHttp http{containers};
  FakeNodes nodes;
  config::HlmConf conf;
  std::unique_ptr<RequestQueue> queue;
  int submitted = 0;
  // The dispatcher's clock (Unix seconds): it stands still unless a test
  // moves it.
  std::int64_t now = unix_seconds_now();

  Fixture()
  {
    dir.write("swift.conf",
              "[swift-hash]\nswift_hash_path_prefix = p\nswift_hash_path_suffix = s\n"
              "[storage-policy:0]\nname = gold\ndefault = yes\n");
    test::write_gzip(dir.path() / "container.ring.gz", test::serialize(test::simple_ring(4, 3)));
    test::write_gzip(dir.path() / "object.ring.gz", test::serialize(test::simple_ring(4, 3)));
    conf.swift_dir = dir.path();
    // Every replica, as before recall_copies: these tests are about the
    // schedule and retries, not copies.
    conf.recall_copies = hlm::queue::k_all_copies;
    queue = std::make_unique<RequestQueue>(http, dir.path());
  }

  // Queues a request; each gets a later submission time, as hlmctl's would.
  std::string
  submit(Operation op, std::string object, int policy = 0, std::string container = "c")
  {
    const std::string submitted_at = fmt::format("20261122000{:03d}.000", submitted++);
    return queue->submit(Entry{submitted_at,
                               op,
                               Target{"AUTH_test", std::move(container), std::move(object)},
                               policy});
  }

  // A pending row as a run that failed `attempts` times would leave it.
  void
  set_retry(const std::string& id, const RetryState& state)
  {
    const auto listed = find(Which::pending, id);
    REQUIRE(listed);
    queue->retry_later(*listed, state);
  }

  // Rows of objects in container `container` of AUTH_test, as the object
  // servers' updates would leave them.
  void
  add_objects(const std::string& container, const std::vector<std::string>& names)
  {
    DirectContainerClient client(http, queue->container_ring(), queue->secret(), "AUTH_test");
    for (const auto& name : names) {
      REQUIRE(client.put_object_row_quorum(container,
                                           name,
                                           SwiftTimestamp::now(),
                                           "application/octet-stream",
                                           0,
                                           "d41d8cd98f00b204e9800998ecf8427e")
              >= 2);
    }
  }

  // Every entry of a queue, by name.
  std::map<std::string, ListedEntry>
  all(Which which)
  {
    std::map<std::string, ListedEntry> out;
    queue->for_each(which, [&](const ListedEntry& listed) {
      out.emplace(listed.row.name, listed);
      return true;
    });
    return out;
  }

  std::optional<ListedEntry>
  find(Which which, const std::string& id)
  {
    std::optional<ListedEntry> found;
    queue->for_each(which, [&](const ListedEntry& listed) {
      if (listed.row.name == id) {
        found = listed;
      }
      return true;
    });
    return found;
  }

  std::size_t
  count(Which which)
  {
    std::size_t n = 0;
    queue->for_each(which, [&](const ListedEntry&) {
      ++n;
      return true;
    });
    return n;
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

} // namespace

TEST_CASE("dispatch retry: the backoff doubles up to its cap", "[dispatch]")
{
  config::HlmConf conf;
  std::vector<long> delays;
  for (int n = 1; n <= 9; ++n) {
    delays.push_back(static_cast<long>(dispatch::retry_delay_after(conf, n).count()));
  }
  CHECK(delays == std::vector<long>{60, 120, 240, 480, 960, 1920, 3600, 3600, 3600});
  conf.retry_delay = std::chrono::seconds(0);
  CHECK(dispatch::retry_delay_after(conf, 5).count() == 0);
  conf.retry_delay = std::chrono::seconds(7200);
  CHECK(dispatch::retry_delay_after(conf, 1).count() == 3600);
  conf.retry_delay = std::chrono::seconds(1);
  conf.retry_delay_max = std::chrono::seconds(604'800);
  CHECK(dispatch::retry_delay_after(conf, 1000).count() == 604'800);
}

TEST_CASE("dispatch retry: hlm.conf keys", "[dispatch]")
{
  const auto conf = config::parse_hlm_conf(
    "[dispatch]\nmax_attempts = 3\nretry_delay = 0\nretry_delay_max = 10\n"
    "max_failed_objects = 0\nrecall_min_objects = 10\nrecall_max_wait = 60\n"
    "priority_aging = 0\non_complete = /bin/hook --quiet\n",
    "t.conf");
  CHECK(conf.recall_batch.min_objects == 10);
  CHECK(conf.recall_batch.max_wait.count() == 60);
  CHECK(conf.migrate_batch.min_objects == 0);
  CHECK(conf.priority_aging.count() == 0);
  CHECK(conf.on_complete == std::vector<std::string>{"/bin/hook", "--quiet"});
  CHECK(conf.max_attempts == 3);
  CHECK(conf.max_failed_objects == 0);
  CHECK(conf.retry_delay.count() == 0);
  CHECK(conf.retry_delay_max.count() == 10);
  const config::HlmConf defaults;
  CHECK(defaults.max_attempts == 5);
  CHECK(defaults.retry_delay.count() == 60);
  CHECK(defaults.retry_delay_max.count() == 3600);
  CHECK(defaults.max_failed_objects == 1000);
  CHECK_THROWS_AS(config::parse_hlm_conf("[dispatch]\nmax_failed_objects = -1\n", "t.conf"),
                  ConfigError);
  CHECK_THROWS_AS(config::parse_hlm_conf("[dispatch]\nmax_attempts = 0\n", "t.conf"), ConfigError);
  CHECK_THROWS_AS(config::parse_hlm_conf("[dispatch]\nretry_delay = -1\n", "t.conf"), ConfigError);
  CHECK_THROWS_WITH(config::parse_hlm_conf("[dispatch]\nmax_attempt = 2\n", "t.conf"),
                    Catch::Contains("did you mean \"max_attempts\""));
}

TEST_CASE("dispatch retry: a failed attempt stays pending, counted, until the last", "[dispatch]")
{
  Fixture f;
  f.conf.max_attempts = 3;
  const std::string id = f.submit(Operation::migrate, "o");
  f.nodes.failing = {{"/AUTH_test/c/o", ""}};

  auto report = f.run();
  CHECK(report.entries == 1);
  CHECK(report.retrying == 1);
  CHECK(report.failed == 0);
  CHECK(report.completed == 0);
  auto listed = f.find(Which::pending, id);
  REQUIRE(listed);
  CHECK(listed->retry.attempts == 1);
  REQUIRE(listed->retry.retry_after);
  CHECK(*listed->retry.retry_after == f.now + 60);
  REQUIRE(listed->retry.reason);
  CHECK_THAT(*listed->retry.reason,
             Catch::Contains("3 of 3 replicas failed") && Catch::Contains("tape offline"));
  CHECK(f.count(Which::failed) == 0);

  // Not due yet: left alone, nothing sent.
  report = f.run();
  CHECK(report.deferred == 1);
  CHECK(report.objects == 0);
  CHECK(report.settled() == 1);
  CHECK(f.find(Which::pending, id)->retry.attempts == 1);

  // Due 60 s later: the second attempt fails too; the delay doubles.
  f.now += 60;
  report = f.run();
  CHECK(report.retrying == 1);
  listed = f.find(Which::pending, id);
  CHECK(listed->retry.attempts == 2);
  CHECK(*listed->retry.retry_after == f.now + 120);

  // The third and last: to the failed queue, with how many attempts.
  f.now += 120;
  report = f.run();
  CHECK(report.failed == 1);
  CHECK(report.retrying == 0);
  CHECK_FALSE(f.find(Which::pending, id));
  const auto failed = f.find(Which::failed, id);
  REQUIRE(failed);
  CHECK_THAT(*failed->reason, Catch::StartsWith("after 3 attempts: 3 of 3 replicas failed"));
  CHECK(f.nodes.applied.empty());
}

TEST_CASE("dispatch retry: the next attempt waits for its time on the clock", "[dispatch]")
{
  Fixture f;
  f.submit(Operation::recall, "o");
  f.nodes.failing = {{"/AUTH_test/c/o", ""}};
  CHECK(f.run().retrying == 1);

  f.now += 59;
  auto report = f.run();
  CHECK(report.deferred == 1);
  CHECK(report.objects == 0);

  f.now += 1;
  f.nodes.failing.clear();
  report = f.run();
  CHECK(report.completed == 1);
  CHECK(report.objects == 1);
  CHECK(f.count(Which::pending) == 0);
}

TEST_CASE("dispatch retry: one attempt keeps the old wording", "[dispatch]")
{
  Fixture f;
  f.conf.max_attempts = 1;
  const std::string id = f.submit(Operation::migrate, "o");
  f.nodes.failing = {{"/AUTH_test/c/o", ""}};
  const auto report = f.run();
  CHECK(report.failed == 1);
  CHECK(f.count(Which::pending) == 0);
  CHECK_THAT(*f.find(Which::failed, id)->reason, Catch::StartsWith("3 of 3 replicas failed"));
}

TEST_CASE("dispatch retry: a policy without a ring is a failed attempt too", "[dispatch]")
{
  Fixture f;
  const std::string id = f.submit(Operation::migrate, "o", 4);
  const auto report = f.run();
  CHECK(report.retrying == 1);
  const auto listed = f.find(Which::pending, id);
  REQUIRE(listed);
  CHECK_THAT(*listed->retry.reason, Catch::Contains("storage policy 4 is not in"));
}

TEST_CASE("dispatch retry: success after retries removes the row and stale failures", "[dispatch]")
{
  Fixture f;
  // An older failed request for the same target and operation, and this
  // very request in the failed queue too (a run stopped between writing
  // the failed row and removing the pending one, then given more attempts).
  const std::string older = f.submit(Operation::migrate, "o");
  f.queue->fail(f.find(Which::pending, older)->row, "old failure");
  const std::string id = f.submit(Operation::migrate, "o");
  f.queue->record_failure(f.find(Which::pending, id)->row, "stopped midway");
  const std::string other = f.submit(Operation::recall, "p");
  f.queue->fail(f.find(Which::pending, other)->row, "other target");
  f.set_retry(id, {2, f.now - 5, "tape offline"});
  REQUIRE(f.count(Which::failed) == 3);

  const auto report = f.run();
  CHECK(report.completed == 1);
  CHECK(report.retrying + report.failed + report.deferred == 0);
  CHECK(f.count(Which::pending) == 0);
  CHECK(f.nodes.applied.size() == 3);
  CHECK_FALSE(f.find(Which::failed, older));
  CHECK_FALSE(f.find(Which::failed, id));
  CHECK(f.find(Which::failed, other));
}

TEST_CASE("dispatch retry: rows with garbage or old parameters are tried now", "[dispatch]")
{
  Fixture f;
  const std::string a = f.submit(Operation::migrate, "a");
  const std::string b = f.submit(Operation::migrate, "b");
  const std::string c = f.submit(Operation::migrate, "c");
  const auto now = SwiftTimestamp::now();
  f.queue->direct().put_row_quorum(k_pending_container,
                                   a,
                                   now,
                                   "application/swifthlm-task;attempts=x;retry_after=soon");
  // Due far beyond retry_delay_max: written under another setting.
  f.queue->direct().put_row_quorum(
    k_pending_container,
    b,
    now,
    fmt::format("application/swifthlm-task;attempts=1;retry_after={}", f.now + 86400));
  // Already past max_attempts (the setting was lowered): this failure is the last.
  f.queue->direct().put_row_quorum(k_pending_container,
                                   c,
                                   now,
                                   "application/swifthlm-task;attempts=9;retry_after=1");
  f.nodes.failing = {{"/AUTH_test/c/c", ""}};
  const auto report = f.run();
  CHECK(report.completed == 2);
  CHECK(report.failed == 1);
  CHECK(report.deferred == 0);
  CHECK_THAT(*f.find(Which::failed, c)->reason, Catch::StartsWith("after 10 attempts: "));
}

TEST_CASE("dispatch retry: a later request of the other operation waits behind a retry",
          "[dispatch]")
{
  for (const auto schedule : {dispatch::Schedule::batched, dispatch::Schedule::fifo}) {
    Fixture f;
    INFO((schedule == dispatch::Schedule::fifo ? "fifo" : "batched"));
    // Container c: migrate o, deferred from an earlier run; behind it
    // recall o and a recall of the whole container, and behind recall o a
    // second migrate o; recall q overlaps none of the other operation.
    const std::string migrate_o = f.submit(Operation::migrate, "o");
    f.set_retry(migrate_o, {1, f.now + 600, "tape offline"});
    const std::string recall_o = f.submit(Operation::recall, "o");
    const std::string recall_c = f.submit(Operation::recall, "");
    const std::string recall_q = f.submit(Operation::recall, "q");
    const std::string migrate_o2 = f.submit(Operation::migrate, "o");
    // Container d: migrate p fails in this run, recall p waits behind it;
    // recall r is free.
    const std::string migrate_p = f.submit(Operation::migrate, "p", 0, "d");
    const std::string recall_p = f.submit(Operation::recall, "p", 0, "d");
    const std::string recall_r = f.submit(Operation::recall, "r", 0, "d");
    f.nodes.failing = {{"/AUTH_test/d/p", ""}};

    const auto report = f.run(schedule);
    CHECK(report.entries == 8);
    CHECK(report.deferred == 5);
    CHECK(report.retrying == 1);
    CHECK(report.completed == 2);
    for (const auto& id : {migrate_o, recall_o, recall_c, migrate_o2, recall_p}) {
      CHECK(f.find(Which::pending, id)->retry.attempts == (id == migrate_o ? 1 : 0));
    }
    CHECK(f.find(Which::pending, migrate_p)->retry.attempts == 1);
    CHECK_FALSE(f.find(Which::pending, recall_q));
    CHECK_FALSE(f.find(Which::pending, recall_r));
    CHECK(f.nodes.applied.size() == 6); // 3 replicas each
    std::set<std::string> objects;
    for (const auto& [operation, object] : f.nodes.applied) {
      CHECK(operation == "recall");
      objects.insert(object);
    }
    CHECK(objects == std::set<std::string>{"/AUTH_test/c/q", "/AUTH_test/d/r"});
  }
}

TEST_CASE("dispatch: SwiftHLM's \"--\" entries take their turn by submission time", "[dispatch]")
{
  for (const auto schedule : {dispatch::Schedule::batched, dispatch::Schedule::fifo}) {
    Fixture f;
    // An older migrate in SwiftHLM's older name form lists after every
    // "/" entry; a newer recall of the same object must still run last.
    const std::string legacy = "20261121235959.000--migrate--AUTH_test--c--0--o";
    REQUIRE(f.queue->direct().put_row_quorum(k_pending_container,
                                             legacy,
                                             SwiftTimestamp::now(),
                                             k_entry_content_type)
            >= 2);
    f.submit(Operation::recall, "o");
    const auto report = f.run(schedule);
    CHECK(report.completed == 2);
    std::vector<std::string> order;
    for (const auto& [operation, object] : f.nodes.applied) {
      if (order.empty() || order.back() != operation) {
        order.push_back(operation);
      }
    }
    CHECK(order == std::vector<std::string>{"migrate", "recall"});
  }
}

TEST_CASE("dispatch: recall --copies 1 recalls one replica per object, after a status pass",
          "[dispatch][copies]")
{
  Fixture f;
  f.conf.recall_copies = 1; // the default; entries without a parameter get it
  f.conf.max_attempts = 1;
  f.nodes.status_state = "migrated";
  f.submit(Operation::recall, "o");
  const std::string q = f.submit(Operation::recall, "q");
  f.nodes.failing = {{"/AUTH_test/c/q", ""}}; // no replica answers its status
  const auto report = f.run();
  CHECK(report.completed == 1);
  CHECK(report.failed == 1);
  std::map<std::string, int> count;
  for (const auto& [operation, object] : f.nodes.applied) {
    ++count[operation + " " + object];
  }
  CHECK(count
        == std::map<std::string, int>{{"status /AUTH_test/c/o", 3}, {"recall /AUTH_test/c/o", 1}});
  const auto failed = f.find(Which::failed, q);
  REQUIRE(failed);
  CHECK_THAT(*failed->reason, Catch::Contains("recall --copies 1: 1 of the copies cannot be"));
}

TEST_CASE("dispatch retry: a container request keeps exactly its failed objects", "[dispatch]")
{
  Fixture f;
  f.conf.max_attempts = 3;
  f.add_objects("c", {"a", "b", "d", "e"});
  const std::string id = f.submit(Operation::recall, "");
  // Attempt 2 of the container request: the objects' rows count it.
  f.set_retry(id, {1, f.now - 1, "tape offline"});
  f.nodes.failing = {{"/AUTH_test/c/a", "backend"}, {"/AUTH_test/c/d", "deleted"}};

  const auto report = f.run();
  CHECK(report.objects == 4);
  // One entry, settled once: some of it failed for good.
  CHECK(report.failed == 1);
  CHECK(report.retrying == 0);
  CHECK(report.completed == 0);
  CHECK_FALSE(f.find(Which::pending, id));
  // a (transient) waits for its third attempt, with the container's
  // submission time and copies; d (permanent) is failed with its reason.
  const Entry container = decode_entry(id);
  const std::string row_a = encode_entry(
    Entry{container.submitted, Operation::recall, Target{"AUTH_test", "c", "a"}, 0});
  const std::string row_d = encode_entry(
    Entry{container.submitted, Operation::recall, Target{"AUTH_test", "c", "d"}, 0});
  const auto pending = f.all(Which::pending);
  REQUIRE(pending.size() == 1);
  REQUIRE(pending.count(row_a) == 1);
  CHECK(pending.at(row_a).retry.attempts == 2);
  CHECK(*pending.at(row_a).retry.retry_after == f.now + 120);
  CHECK_THAT(*pending.at(row_a).retry.reason,
             Catch::Contains("1 of 3 replicas failed")
               || Catch::Contains("3 of 3 replicas failed"));
  const auto failed = f.all(Which::failed);
  REQUIRE(failed.size() == 1);
  REQUIRE(failed.count(row_d) == 1);
  CHECK_THAT(*failed.at(row_d).reason,
             Catch::StartsWith("after 2 attempts: ") && Catch::Contains("/AUTH_test/c/d"));

  // The next attempt works a alone.
  f.nodes.failing.clear();
  f.nodes.applied.clear();
  f.now += 120;
  const auto again = f.run();
  CHECK(again.objects == 1);
  CHECK(again.completed == 1);
  CHECK(f.count(Which::pending) == 0);
  for (const auto& [operation, object] : f.nodes.applied) {
    CHECK(object == "/AUTH_test/c/a");
  }
  CHECK(f.nodes.applied.size() == 3);
  CHECK(f.count(Which::failed) == 1);

  // A later recall of the container whose every object succeeds clears d's
  // failed request; a migrate of it would not.
  f.submit(Operation::migrate, "");
  f.run();
  CHECK(f.count(Which::failed) == 1);
  f.submit(Operation::recall, "");
  f.run();
  CHECK(f.count(Which::failed) == 0);
}

TEST_CASE("dispatch retry: a container request with more failed objects than "
          "max_failed_objects, which cannot be queued as lists, stays whole",
          "[dispatch]")
{
  for (const std::size_t most : {std::size_t{0}, std::size_t{1}}) {
    INFO("max_failed_objects = " << most);
    Fixture f;
    f.conf.max_failed_objects = most;
    f.add_objects("c", {"a", "b", "d"});
    const std::string id = f.submit(Operation::migrate, "");
    f.nodes.failing = {{"/AUTH_test/c/a", "backend"}, {"/AUTH_test/c/d", "backend"}};
    // No manifest can be stored (test_dispatch_lists.cpp has the lists).
    f.http.refuse = [](const swift::HttpRequest& request) {
      return request.method == swift::Method::put
             && std::string_view(request.url).find("/hlm-lists/") != std::string_view::npos;
    };
    const auto report = f.run();
    CHECK(report.retrying == 1);
    const auto pending = f.all(Which::pending);
    REQUIRE(pending.size() == 1);
    REQUIRE(pending.count(id) == 1);
    CHECK(pending.at(id).retry.attempts == 1);
    CHECK_THAT(*pending.at(id).retry.reason, Catch::Contains("/AUTH_test/c/a"));
  }
}

TEST_CASE("dispatch retry: a container request whose failed objects cannot be queued is "
          "settled whole",
          "[dispatch]")
{
  Fixture f;
  f.add_objects("c", {"a", "b"});
  const std::string id = f.submit(Operation::migrate, "");
  f.nodes.failing = {{"/AUTH_test/c/b", "deleted"}};
  // No container server takes b's own row in the failed queue.
  f.http.refuse = [](const swift::HttpRequest& request) {
    const std::string_view url = request.url;
    return request.method == swift::Method::put
           && url.find("/failed-hlm-requests/") != std::string_view::npos
           && (url.ends_with("/b") || url.ends_with("%2Fb"));
  };
  const auto report = f.run();
  CHECK(report.failed == 1);
  CHECK(f.count(Which::pending) == 0);
  const auto failed = f.all(Which::failed);
  REQUIRE(failed.size() == 1);
  REQUIRE(failed.count(id) == 1);
  CHECK_THAT(*failed.at(id).reason, Catch::Contains("/AUTH_test/c/b"));
}

TEST_CASE("dispatch: the same request queued twice is worked once and both are settled",
          "[dispatch]")
{
  Fixture f;
  const std::string first = f.submit(Operation::recall, "o");
  const std::string second = f.submit(Operation::recall, "o");
  const std::string other = f.submit(Operation::recall, "p");
  auto report = f.run();
  CHECK(report.completed == 3);
  CHECK(report.objects == 2);
  CHECK(f.nodes.applied.size() == 6); // o and p, 3 replicas each
  CHECK(f.count(Which::pending) == 0);

  // Failing, both take the same outcome.
  f.nodes.applied.clear();
  f.nodes.failing = {{"/AUTH_test/c/q", "deleted"}};
  const std::string q1 = f.submit(Operation::migrate, "q");
  const std::string q2 = f.submit(Operation::migrate, "q");
  report = f.run();
  CHECK(report.failed == 2);
  CHECK(f.nodes.applied.empty());
  CHECK(f.all(Which::failed).size() == 2);
  (void)first;
  (void)second;
  (void)other;
  (void)q1;
  (void)q2;
}

TEST_CASE("dispatch: a request cancelled while the run works it writes nothing back", "[dispatch]")
{
  Fixture f;
  f.conf.max_attempts = 1;
  const std::string object = f.submit(Operation::migrate, "o");
  f.add_objects("c", {"a", "b"});
  const std::string container = f.submit(Operation::migrate, "");
  f.nodes.failing = {{"/AUTH_test/c/o", "deleted"}, {"/AUTH_test/c/b", "deleted"}};
  // hlmctl cancel of both, as the nodes answer.
  f.nodes.on_batch = [&] {
    for (const auto& [name, listed] : f.all(Which::pending)) {
      f.queue->complete(listed.row);
    }
  };
  const auto report = f.run();
  CHECK(report.cancelled == 2);
  CHECK(report.failed == 0);
  CHECK(f.count(Which::pending) == 0);
  CHECK(f.count(Which::failed) == 0);
  (void)object;
  (void)container;
}

TEST_CASE("dispatch: a container request cancelled during its listing stops at a round boundary",
          "[dispatch]")
{
  Fixture f;
  f.conf.batch_size = 2;
  // The listing waits for the nodes once two objects are out.
  f.conf.window = 2;
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) {
    names.push_back(fmt::format("o{:02d}", i));
  }
  f.add_objects("c", names);
  f.submit(Operation::migrate, "");
  f.nodes.on_batch = [&] {
    for (const auto& [name, listed] : f.all(Which::pending)) {
      f.queue->complete(listed.row);
    }
  };
  const auto report = f.run();
  CHECK(report.cancelled == 1);
  // Stopped well before the 20 objects (the window holds a few more than
  // the first document).
  CHECK(report.objects < 20);
  CHECK(f.count(Which::pending) == 0);
}

TEST_CASE("dispatch: on_complete hears of each request completed or finally failed", "[dispatch]")
{
  Fixture f;
  const auto log = f.dir.path() / "hook.log";
  f.conf.on_complete = {"/bin/sh", "-c", "cat >> '" + log.string() + "'"};
  f.conf.max_attempts = 2;
  f.add_objects("d", {"a", "b"});
  const std::string done = f.submit(Operation::migrate, "o");
  const std::string gone = f.submit(Operation::migrate, "p");
  const std::string retried = f.submit(Operation::migrate, "q");
  const std::string container = f.submit(Operation::recall, "", 0, "d");
  f.nodes.failing = {{"/AUTH_test/c/p", "deleted"},
                     {"/AUTH_test/c/q", "backend"},
                     {"/AUTH_test/d/b", "deleted"}};
  f.run();
  std::map<std::string, nlohmann::json> documents;
  {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) {
      const auto document = nlohmann::json::parse(line);
      documents[document.at("id")] = document;
    }
  }
  // q waits for its second attempt: not told of yet.
  REQUIRE(documents.size() == 3);
  CHECK(documents.at(done).at("outcome") == "completed");
  CHECK(documents.at(done).at("target") == "AUTH_test/c/o");
  CHECK(documents.at(done).at("operation") == "migrate");
  CHECK(documents.at(gone).at("outcome") == "failed");
  CHECK_THAT(documents.at(gone).at("reason").get<std::string>(), Catch::Contains("/AUTH_test/c/p"));
  const auto& split = documents.at(container);
  CHECK(split.at("outcome") == "completed");
  REQUIRE(split.at("failed_objects").size() == 1);
  CHECK(split.at("failed_objects")[0].at("object") == "b");
  CHECK(split.at("failed_objects")[0].at("final") == true);
  (void)retried;
}

TEST_CASE("dispatch: a small batch of recalls waits for more, or for its oldest's max_wait",
          "[dispatch]")
{
  Fixture f;
  f.conf.recall_batch.min_objects = 3;
  f.conf.recall_batch.max_wait = std::chrono::seconds(600);
  // Submitted "now" (the fixture's times are in 2026-11-22; the clock is
  // moved there).
  f.now = 1'795'305'600; // 2026-11-22 00:00:00 UTC
  f.submit(Operation::recall, "a");
  f.submit(Operation::recall, "b");
  f.submit(Operation::migrate, "m"); // migrations have no threshold here
  std::vector<std::string> said;
  const dispatch::Fanout fanout(f.conf, f.nodes.factory());
  dispatch::DispatchOptions options;
  options.clock = [&f] { return f.now; };
  auto report = dispatch::dispatch_once(f.conf, f.http, fanout, options, [&](std::string_view m) {
    said.emplace_back(m);
  });
  CHECK(report.deferred == 2);
  CHECK(report.completed == 1);
  CHECK(f.count(Which::pending) == 2);
  CHECK(std::count(said.begin(),
                   said.end(),
                   "held recall (policy 0): 2 objects below recall_min_objects 3, the oldest "
                   "waited 0 s of recall_max_wait 600 s")
        == 1);

  // A third makes the batch.
  f.submit(Operation::recall, "c");
  report = f.run();
  CHECK(report.completed == 3);
  CHECK(f.count(Which::pending) == 0);

  // The oldest waited long enough.
  f.submit(Operation::recall, "d");
  report = f.run();
  CHECK(report.deferred == 1);
  f.now += 700; // d was submitted a few seconds after "now"
  report = f.run();
  CHECK(report.completed == 1);

  // --priority high, or a container request, is never held.
  f.queue->submit(Entry{"20261122000900.000", Operation::recall, Target{"AUTH_test", "c", "e"}, 0},
                  std::nullopt,
                  queue::k_priority_high);
  report = f.run();
  CHECK(report.completed == 1);
  f.submit(Operation::recall, "");
  report = f.run();
  CHECK(report.completed == 1);
}
