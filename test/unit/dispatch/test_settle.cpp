// The settling of an attempt: failures grouped by kind and node, the
// decision (complete, retry, fail) without I/O, and the Settler's queue
// updates against fake container servers.

#include "../queue/fake_container_servers.hpp"
#include "../support/ring_writer.hpp"
#include "../support/temp_dir.hpp"

#include <hlm/core/failure.hpp>
#include <hlm/dispatch/settle.hpp>
#include <hlm/queue/queue.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::dispatch;
using hlm::queue::Which;

namespace {

Failure
backend(const std::string& message, const std::string& node)
{
  return make_failure(FailureKind::backend, message, node);
}

Failure
missing(const std::string& message, const std::string& node)
{
  return make_failure(FailureKind::deleted, message, node);
}

// Three replicas of `object`, each failed with `failure`.
EntryFailures
all_failed(const Failure& failure, const std::string& object = "/a/c/o")
{
  EntryFailures failures;
  for (int i = 0; i < 3; ++i) {
    failures.add_replica();
    failures.add(failure, object);
  }
  return failures;
}

} // namespace

TEST_CASE("EntryFailures: grouped by kind and node, the first message shown", "[dispatch]")
{
  EntryFailures failures;
  for (int i = 0; i < 4; ++i) {
    failures.add_replica();
  }
  CHECK_FALSE(failures.failed());
  CHECK(failures.summary() == "0 of 4 replicas failed");

  failures.add(backend("node A device sdb1: tape offline", "A"), "/a/c/o1");
  // Same node and kind, another device's text: the same group.
  failures.add(backend("node A device sdb2: tape offline", "A"), "/a/c/o2");
  failures.add(backend("node A device sdb1: tape offline", "A"), "/a/c/o1");
  // Same text from another node: another group.
  failures.add(backend("node A device sdb1: tape offline", "B"), "/a/c/o3");
  CHECK(failures.failed());
  CHECK(failures.summary()
        == "4 of 4 replicas failed; node A device sdb1: tape offline (objects: /a/c/o1, /a/c/o2); "
           "node A device sdb1: tape offline (objects: /a/c/o3)");
}

TEST_CASE("EntryFailures: reasons and objects named are bounded", "[dispatch]")
{
  EntryFailures failures;
  for (int i = 0; i < 7; ++i) {
    failures.add_replica();
    failures.add(backend("node A: down", "A"), "/a/c/o" + std::to_string(i));
  }
  for (const auto& failure : {backend("node B: down", "B"),
                              make_failure(FailureKind::node, "node B: bad ring", "B"),
                              backend("node C: down", "C")}) { // a fourth group: counted, not shown
    failures.add_replica();
    failures.add(failure);
  }
  CHECK(failures.summary()
        == "10 of 10 replicas failed; node A: down (objects: /a/c/o0, /a/c/o1, /a/c/o2, /a/c/o3, "
           "/a/c/o4, ...); node B: down; node B: bad ring");
}

TEST_CASE("EntryFailures: a failure of the entry as a whole, without replicas", "[dispatch]")
{
  EntryFailures failures;
  failures.add(make_failure(FailureKind::unreachable, "cannot list /a/c/: no quorum"));
  CHECK(failures.summary() == "cannot list /a/c/: no quorum");
  CHECK_FALSE(failures.permanent());
}

TEST_CASE("EntryFailures: permanent only when every failure is", "[dispatch]")
{
  EntryFailures failures;
  CHECK_FALSE(failures.permanent());
  failures.add(missing("node A device sdb1: no such object", "A"), "/a/c/o");
  CHECK(failures.permanent());
  failures.add(backend("node B: tape offline", "B"), "/a/c/o");
  CHECK_FALSE(failures.permanent());
  // A kind's transience is a default: the source may say otherwise.
  EntryFailures marked;
  marked.add({FailureKind::backend, false, "node A: cartridge destroyed", "A"});
  CHECK(marked.permanent());
}

TEST_CASE("EntryFailures: failed objects beyond the most kept spill, all of them, in order",
          "[dispatch]")
{
  EntryFailures failures;
  failures.keep_objects(2);
  failures.keep_object("a", all_failed(backend("node A: down", "A"), "/a/c/a"));
  failures.keep_object("b", all_failed(missing("gone", "A"), "/a/c/b"));
  CHECK(failures.by_object());
  CHECK_FALSE(failures.spilled());
  CHECK(failures.failed_objects().size() == 2);
  failures.keep_object("c", all_failed(backend("node A: down", "A"), "/a/c/c"));
  CHECK_FALSE(failures.by_object());
  CHECK(failures.spilled());
  CHECK(failures.failed_objects().empty());
  REQUIRE(failures.spill());
  CHECK(failures.spill()->size() == 3);
  // A copy (an entry riding on this one) reads the same spill, as often
  // as asked.
  const EntryFailures copy = failures;
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<EntryFailures::Spill::Object> read;
    copy.spill()->for_each(
      [&](const EntryFailures::Spill::Object& object) { read.push_back(object); });
    REQUIRE(read.size() == 3);
    CHECK(read[0].name == "a");
    CHECK_FALSE(read[0].permanent);
    CHECK(read[1].name == "b");
    CHECK(read[1].permanent);
    CHECK(read[2].name == "c");
    CHECK_THAT(read[2].reason, Catch::StartsWith("3 of 3 replicas failed; node A: down"));
  }
  // Added after a read: at the end.
  failures.keep_object("d", all_failed(backend("node A: down", "A"), "/a/c/d"));
  CHECK(failures.spill()->size() == 4);
  std::string names;
  failures.spill()->for_each(
    [&](const EntryFailures::Spill::Object& object) { names += object.name; });
  CHECK(names == "abcd");
  // A failure of the entry as a whole settles it whole.
  failures.add(make_failure(FailureKind::unreachable, "cannot list"));
  CHECK_FALSE(failures.spilled());
}

TEST_CASE("EntryFailures: with most 0 the first failed object spills", "[dispatch]")
{
  EntryFailures failures;
  failures.keep_objects(0);
  CHECK(failures.keeps_objects());
  failures.keep_object("a", all_failed(backend("node A: down", "A"), "/a/c/a"));
  CHECK(failures.spilled());
  CHECK(failures.spill()->size() == 1);
  EntryFailures not_kept;
  CHECK_FALSE(not_kept.keeps_objects());
  not_kept.keep_object("a", all_failed(backend("node A: down", "A"), "/a/c/a"));
  CHECK_FALSE(not_kept.spilled());
  CHECK_FALSE(not_kept.by_object());
}

TEST_CASE("decide: complete, retry with backoff, fail at the last attempt", "[dispatch]")
{
  config::HlmConf conf; // max_attempts 5, retry_delay 60, retry_delay_max 3600
  const std::int64_t now = 1'000'000;
  CHECK(decide(EntryFailures(), 0, conf, now).verdict == Verdict::complete);

  const auto transient = all_failed(backend("node A: tape offline", "A"));
  auto settlement = decide(transient, 0, conf, now);
  CHECK(settlement.verdict == Verdict::retry);
  CHECK(settlement.retry
        == queue::RetryState{1,
                             now + 60,
                             "3 of 3 replicas failed; node A: tape offline (objects: /a/c/o)"});
  settlement = decide(transient, 3, conf, now);
  CHECK(settlement.verdict == Verdict::retry);
  CHECK(settlement.retry.attempts == 4);
  CHECK(settlement.retry.retry_after == now + 480);

  settlement = decide(transient, 4, conf, now);
  CHECK(settlement.verdict == Verdict::fail);
  CHECK(settlement.reason
        == "after 5 attempts: 3 of 3 replicas failed; node A: tape offline (objects: /a/c/o)");

  conf.max_attempts = 1;
  settlement = decide(transient, 0, conf, now);
  CHECK(settlement.verdict == Verdict::fail);
  CHECK(settlement.reason == "3 of 3 replicas failed; node A: tape offline (objects: /a/c/o)");
}

TEST_CASE("decide: failures that are all permanent fail at once", "[dispatch]")
{
  const config::HlmConf conf;
  const auto permanent = all_failed(missing("node A device sdb1: no such object", "A"));
  auto settlement = decide(permanent, 0, conf, 0);
  CHECK(settlement.verdict == Verdict::fail);
  CHECK(settlement.reason
        == "3 of 3 replicas failed; node A device sdb1: no such object (objects: /a/c/o)");
  // After transient failures in earlier attempts: says how many there were.
  settlement = decide(permanent, 2, conf, 0);
  CHECK(settlement.verdict == Verdict::fail);
  CHECK_THAT(settlement.reason, Catch::StartsWith("after 3 attempts: 3 of 3 replicas failed"));

  // One transient failure among them: worth another attempt.
  auto mixed = permanent;
  mixed.add(backend("node B: tape offline", "B"), "/a/c/o");
  CHECK(decide(mixed, 0, conf, 0).verdict == Verdict::retry);
}

namespace {

// A queue on fake container servers, and a settler on it with a clock that
// stands still.
struct Fixture
{
  test::TempDir dir;
  test::FakeContainerServers http;
  config::HlmConf conf;
  std::unique_ptr<queue::RequestQueue> requests;
  DispatchReport report;
  std::int64_t now = 1'800'000'000;
  std::unique_ptr<Settler> settler;

  Fixture()
  {
    dir.write("swift.conf",
              "[swift-hash]\nswift_hash_path_prefix = p\nswift_hash_path_suffix = s\n"
              "[storage-policy:0]\nname = gold\ndefault = yes\n");
    test::write_gzip(dir.path() / "container.ring.gz", test::serialize(test::simple_ring(4, 3)));
    conf.swift_dir = dir.path();
    requests = std::make_unique<queue::RequestQueue>(http, dir.path());
    settler = std::make_unique<Settler>(
      *requests,
      conf,
      [this] { return now; },
      report);
  }

  // The pending entry of a migrate of AUTH_test/c/o, as listed.
  queue::ListedEntry
  pending(const queue::RetryState& retry = {})
  {
    const std::string id = requests->submit(
      {"20261122000000.000", Operation::migrate, {"AUTH_test", "c", "o"}, 0});
    auto listed = find(Which::pending, id);
    REQUIRE(listed);
    if (retry.attempts > 0) {
      requests->retry_later(*listed, retry);
      listed = find(Which::pending, id);
    }
    return *listed;
  }

  std::optional<queue::ListedEntry>
  find(Which which, const std::string& id)
  {
    std::optional<queue::ListedEntry> found;
    requests->for_each(which, [&](const queue::ListedEntry& listed) {
      if (listed.row.name == id) {
        found = listed;
      }
      return true;
    });
    return found;
  }
};

} // namespace

TEST_CASE("Settler: a permanent failure goes to the failed queue at once", "[dispatch]")
{
  Fixture f;
  const auto listed = f.pending();
  const auto failures = all_failed(missing("node A device sdb1: no such object", "A"),
                                   "/AUTH_test/c/o");
  CHECK(f.settler->settle(listed, failures) == Verdict::fail);
  CHECK(f.report.failed == 1);
  CHECK(f.report.retrying == 0);
  CHECK_FALSE(f.find(Which::pending, listed.row.name));
  const auto failed = f.find(Which::failed, listed.row.name);
  REQUIRE(failed);
  CHECK(*failed->reason
        == "3 of 3 replicas failed; node A device sdb1: no such object (objects: /AUTH_test/c/o)");
}

TEST_CASE("Settler: a transient failure is retried from the clock's now", "[dispatch]")
{
  Fixture f;
  const auto listed = f.pending({1, f.now - 10, "earlier"});
  f.now += 1000; // the attempt ended later than the run began
  const auto failures = all_failed(backend("node A: tape offline", "A"), "/AUTH_test/c/o");
  CHECK(f.settler->settle(listed, failures) == Verdict::retry);
  CHECK(f.report.retrying == 1);
  const auto pending = f.find(Which::pending, listed.row.name);
  REQUIRE(pending);
  CHECK(pending->retry.attempts == 2);
  CHECK(pending->retry.retry_after == f.now + 120);
  CHECK(pending->retry.reason
        == "3 of 3 replicas failed; node A: tape offline (objects: /AUTH_test/c/o)");
  CHECK_FALSE(f.find(Which::failed, listed.row.name));
}

TEST_CASE("Settler: completion removes the entry and, at the end, what it supersedes", "[dispatch]")
{
  Fixture f;
  const auto listed = f.pending();
  f.requests->record_failure(listed.row, "stopped midway");
  EntryFailures none;
  none.add_replica();
  CHECK(f.settler->settle(listed, none) == Verdict::complete);
  CHECK(f.report.completed == 1);
  CHECK_FALSE(f.find(Which::pending, listed.row.name));
  CHECK(f.find(Which::failed, listed.row.name));
  f.settler->clear_superseded();
  CHECK_FALSE(f.find(Which::failed, listed.row.name));
}

// Run by hand (hidden): a million failed objects of one container, each
// with its own failures, in bounded memory (compare the peak RSS of
// `unit_tests "[spill-scale]"` with that of another test).
TEST_CASE("EntryFailures: a million failed objects spill in bounded memory", "[.][spill-scale]")
{
  EntryFailures failures;
  failures.keep_objects(1'000);
  const Failure down = backend("node A device sdb1: unreachable", "A");
  for (int i = 0; i < 1'000'000; ++i) {
    const std::string name = "object-" + std::to_string(1'000'000 + i);
    EntryFailures own;
    own.add_replica();
    own.add(down, "/AUTH_test/c/" + name);
    failures.add_replica();
    failures.add(down, "/AUTH_test/c/" + name);
    failures.keep_object(name, std::move(own));
  }
  REQUIRE(failures.spilled());
  std::uint64_t read = 0;
  std::string last;
  failures.spill()->for_each([&](const EntryFailures::Spill::Object& object) {
    CHECK((read == 0 || object.name > last));
    last = object.name;
    ++read;
  });
  CHECK(read == 1'000'000);
}
