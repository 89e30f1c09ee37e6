// Idempotent submission: a request the same as one pending is not queued
// again (PendingIndex, Submitter), a recall of an object on disk queues
// nothing, and how the report and exit status say so.

#include "fake_service.hpp"
#include "queue_fixture.hpp"
#include "routed_http.hpp"

#include <hlm/ctl/pending_index.hpp>
#include <hlm/ctl/submit.hpp>
#include <hlm/ctl/submit_report.hpp>
#include <hlm/util/exit_status.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::QueueFixture;
using hlm::test::RoutedHttp;

TEST_CASE("submit idempotent: PendingIndex finds the newest pending request that is the same",
          "[ctl]")
{
  QueueFixture q;
  q.submit("/20261122120001.000/recall/AUTH_test/c/0/o");
  const std::string newer = q.submit("/20261122120002.000/recall/AUTH_test/c/0/o");
  q.submit("/20261122120003.000/migrate/AUTH_test/c/0/p");
  q.submit("/20261122120004.000/recall/AUTH_test/c/0");
  // The same with copies=2, and SwiftHLM's form of a request.
  REQUIRE(q.queue->submit(queue::decode_entry("/20261122120005.000/recall/AUTH_test/c/0/q"), 2)
          == "/20261122120005.000/recall/AUTH_test/c/0/q");
  PendingIndex index(*q.queue);
  const auto same = [](Operation op, std::string object, int policy = 0) {
    return queue::Entry{{}, op, queue::Target{"AUTH_test", "c", std::move(object)}, policy};
  };
  CHECK(index.find(same(Operation::recall, "o"), std::nullopt) == newer);
  CHECK_FALSE(index.find(same(Operation::migrate, "o"), std::nullopt));
  CHECK_FALSE(index.find(same(Operation::recall, "o", 1), std::nullopt));
  CHECK_FALSE(index.find(same(Operation::recall, "o"), 1));
  CHECK(index.find(same(Operation::recall, "q"), 2)
        == "/20261122120005.000/recall/AUTH_test/c/0/q");
  CHECK_FALSE(index.find(same(Operation::recall, "q"), std::nullopt));
  // The recall of container c was queued after the migrate of p: the same.
  CHECK(index.find(same(Operation::recall, ""), std::nullopt)
        == "/20261122120004.000/recall/AUTH_test/c/0");
  // The migrate of p has a recall of its container after it: a migrate of
  // p now is a request of its own.
  CHECK_FALSE(index.find(same(Operation::migrate, "p"), std::nullopt));

  // Settled since the index was read: confirmed against the queue, the
  // next newest is found.
  q.queue->for_each(queue::Which::pending, [&](const queue::ListedEntry& listed) {
    if (listed.row.name == newer) {
      q.queue->complete(listed.row);
    }
    return true;
  });
  CHECK(index.find(same(Operation::recall, "o"), std::nullopt)
        == "/20261122120001.000/recall/AUTH_test/c/0/o");
}

TEST_CASE("submit idempotent: a request of the other operation queued after the same one "
          "makes a new one",
          "[ctl]")
{
  QueueFixture q;
  const auto same = [](Operation op, std::string object, std::string container = "c") {
    return queue::Entry{{},
                        op,
                        queue::Target{"AUTH_test", std::move(container), std::move(object)},
                        0};
  };
  SECTION("recall, migrate of the object")
  {
    q.submit("/20261122120001.000/recall/AUTH_test/c/0/o");
    q.submit("/20261122120002.000/migrate/AUTH_test/c/0/o");
    PendingIndex index(*q.queue);
    CHECK_FALSE(index.find(same(Operation::recall, "o"), std::nullopt));
    CHECK(index.find(same(Operation::migrate, "o"), std::nullopt));
  }
  SECTION("recall of the object, migrate of its container")
  {
    q.submit("/20261122120001.000/recall/AUTH_test/c/0/o");
    q.submit("/20261122120002.000/migrate/AUTH_test/c/0");
    PendingIndex index(*q.queue);
    CHECK_FALSE(index.find(same(Operation::recall, "o"), std::nullopt));
    // A migrate of the container now is the one queued.
    CHECK(index.find(same(Operation::migrate, ""), std::nullopt));
  }
  SECTION("recall of the container, migrate of one of its objects, or a list of it")
  {
    q.submit("/20261122120001.000/recall/AUTH_test/c/0");
    q.submit("/20261122120001.500/recall/AUTH_test/d/0");
    q.submit("/20261122120002.000/migrate/AUTH_test/c/0/o");
    q.submit_list(Operation::migrate, "d", {"x"}, "20261122120003.000");
    PendingIndex index(*q.queue);
    CHECK_FALSE(index.find(same(Operation::recall, ""), std::nullopt));
    CHECK_FALSE(index.find(same(Operation::recall, "", "d"), std::nullopt));
  }
  SECTION("a conflict before the same one changes nothing")
  {
    q.submit("/20261122120001.000/migrate/AUTH_test/c/0/o");
    q.submit("/20261122120002.000/recall/AUTH_test/c/0/o");
    PendingIndex index(*q.queue);
    CHECK(index.find(same(Operation::recall, "o"), std::nullopt)
          == "/20261122120002.000/recall/AUTH_test/c/0/o");
  }
}

TEST_CASE("submit idempotent: Submitter gives back the pending request, and a recall of an "
          "object on disk queues nothing",
          "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  // A big container: its objects are asked by HEAD.
  http.answer("HEAD /v1/AUTH_test/c", 204, {{"X-Container-Object-Count", "1000000"}});
  http.answer("HEAD /v1/AUTH_test/c/o", 200);
  http.answer("HEAD /v1/AUTH_test/c/p", 200);
  {
    Submitter first(client, *q.queue, q.swift_conf);
    CHECK(first.submit(Operation::recall, {"AUTH_test", "c", "o"}).outcome
          == SubmitOutcome::queued);
  }
  Submitter submitter(client, *q.queue, q.swift_conf);
  std::vector<std::pair<std::string, std::optional<std::size_t>>> asked;
  submitter.set_on_disk([&](const queue::Target& target, std::optional<std::size_t> copies) {
    asked.emplace_back(target.object, copies);
    return target.object == "p";
  });
  const auto again = submitter.submit(Operation::recall, {"AUTH_test", "c", "o"});
  CHECK(again.outcome == SubmitOutcome::already_queued);
  CHECK(again.id == q.names(queue::Which::pending).at(0));
  CHECK(asked.empty()); // pending: not asked whether on disk

  const auto on_disk = submitter.submit(Operation::recall, {"AUTH_test", "c", "p"});
  CHECK(on_disk.outcome == SubmitOutcome::on_disk);
  CHECK(on_disk.id.empty());
  CHECK(asked == std::vector<std::pair<std::string, std::optional<std::size_t>>>{{"p", {}}});
  // A migrate of it, or a recall of the container, is queued as before.
  CHECK(submitter.submit(Operation::migrate, {"AUTH_test", "c", "p"}).outcome
        == SubmitOutcome::queued);
  CHECK(submitter.submit(Operation::recall, {"AUTH_test", "c", ""}).outcome
        == SubmitOutcome::queued);
  CHECK(q.names(queue::Which::pending).size() == 3);
  CHECK(asked.size() == 1);
}

TEST_CASE("submit idempotent: the report says already queued and on disk; a recall already "
          "queued exits 4",
          "[ctl]")
{
  test::FakeService service;
  service.submits["AUTH_test/c/o"] = [](Operation operation, const queue::Target& target) {
    Submitted submitted;
    submitted.id = "/20261122120001.000/recall/AUTH_test/c/0/o";
    submitted.entry = queue::decode_entry(submitted.id);
    submitted.entry.operation = operation;
    submitted.entry.target = target;
    submitted.outcome = SubmitOutcome::already_queued;
    return submitted;
  };
  service.submits["AUTH_test/c/p"] = [](Operation operation, const queue::Target& target) {
    Submitted submitted;
    submitted.entry = queue::Entry{{}, operation, target, 0};
    submitted.outcome = SubmitOutcome::on_disk;
    return submitted;
  };
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<queue::Target> targets{{"AUTH_test", "c", "o"}, {"AUTH_test", "c", "p"}};
  auto report = submit_targets(service, Operation::recall, targets, false, out, err);
  CHECK(report.status == k_exit_in_progress);
  CHECK(report.ids == std::vector<std::string>{"/20261122120001.000/recall/AUTH_test/c/0/o"});
  CHECK(out.str()
        == "already queued recall AUTH_test/c/o: /20261122120001.000/recall/AUTH_test/c/0/o\n"
           "on disk already, nothing to recall: AUTH_test/c/p\n");
  CHECK(report.document.at("requests").at(0).at("outcome") == "already_queued");
  CHECK(report.document.at("requests").at(1)
        == nlohmann::json{{"target", "AUTH_test/c/p"},
                          {"operation", "recall"},
                          {"outcome", "on_disk"}});

  // A migrate already queued is no error; on disk alone neither.
  report = submit_targets(service, Operation::migrate, {targets[0]}, true, out, err);
  CHECK(report.status == k_exit_success);
  report = submit_targets(service, Operation::recall, {targets[1]}, true, out, err);
  CHECK(report.status == k_exit_success);
  CHECK(report.ids.empty());
}

TEST_CASE("submit idempotent: the same request asked at a higher priority raises the pending "
          "one's",
          "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/c", 204, {{"X-Container-Object-Count", "1000000"}});
  http.answer("HEAD /v1/AUTH_test/c/o", 200);
  const std::string id = q.submit("/20261122120001.000/migrate/AUTH_test/c/0/o");
  // It failed once already: its retry state stays.
  q.queue->for_each(queue::Which::pending, [&](const queue::ListedEntry& listed) {
    q.queue->retry_later(listed, {1, 1'800'000'000, "tape offline"});
    return true;
  });
  Submitter submitter(client, *q.queue, q.swift_conf);
  submitter.set_priority(3); // below migrate's default (5): nothing changes
  auto again = submitter.submit(Operation::migrate, {"AUTH_test", "c", "o"});
  CHECK(again.outcome == SubmitOutcome::already_queued);
  CHECK_FALSE(again.raised_to);
  Submitter urgent(client, *q.queue, q.swift_conf);
  urgent.set_priority(9);
  again = urgent.submit(Operation::migrate, {"AUTH_test", "c", "o"});
  CHECK(again.id == id);
  CHECK(again.raised_to == 9);
  std::vector<queue::ListedEntry> rows;
  q.queue->for_each(queue::Which::pending, [&](const queue::ListedEntry& listed) {
    rows.push_back(listed);
    return true;
  });
  REQUIRE(rows.size() == 1);
  CHECK(queue::priority_of(rows[0].row.content_type) == 9);
  CHECK(rows[0].retry.attempts == 1);
  CHECK(rows[0].retry.reason == "tape offline");
}
