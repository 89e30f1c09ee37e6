#include "queue_fixture.hpp"

#include <hlm/core/swift_timestamp.hpp>
#include <hlm/ctl/wait.hpp>
#include <hlm/queue/list_manifest.hpp>
#include <hlm/queue/queue.hpp>

#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <stdexcept>

using namespace hlm;
using namespace hlm::ctl;
using namespace std::chrono_literals;

namespace {

QueuedRequest
pending(std::string id, int attempts = 0)
{
  QueuedRequest request{std::move(id), queue::Which::pending, {}, {}};
  request.retry.attempts = attempts;
  return request;
}

QueuedRequest
failed(std::string id, std::string reason)
{
  return QueuedRequest{std::move(id), queue::Which::failed, std::move(reason), {}};
}

// A LookUp that answers from a script (the last answer repeats) and
// records what it was asked.
struct ScriptedLooks
{
  std::deque<std::vector<QueuedRequest>> answers;
  std::vector<std::set<std::string>> asked;

  LookUp
  look()
  {
    return [this](const std::set<std::string>& ids) {
      asked.push_back(ids);
      auto answer = answers.front();
      if (answers.size() > 1) {
        answers.pop_front();
      }
      return answer;
    };
  }
};

WaitOptions
fast(std::optional<std::chrono::milliseconds> timeout = std::nullopt)
{
  WaitOptions options;
  options.interval = 1ms;
  options.timeout = timeout;
  return options;
}

} // namespace

TEST_CASE("wait: requests no longer listed are done", "[ctl]")
{
  ScriptedLooks looks;
  looks.answers = {{}};
  std::vector<WaitProgress> progress;
  const auto result = wait_for(looks.look(),
                               {"/b", "/a"},
                               fast(),
                               [&](const WaitProgress& p) { progress.push_back(p); },
                               {});
  CHECK(result.done == 2);
  CHECK(result.failed.empty());
  CHECK(result.pending.empty());
  CHECK_FALSE(result.timed_out);
  CHECK_FALSE(result.interrupted);
  CHECK(looks.asked == std::vector<std::set<std::string>>{{"/a", "/b"}});
  REQUIRE(progress.size() == 1);
  CHECK(progress[0].total == 2);
  CHECK(progress[0].pending == 0);
}

TEST_CASE("wait: looks until none is pending; failed ones with their reason", "[ctl]")
{
  ScriptedLooks looks;
  looks.answers = {{pending("/a"), pending("/b"), pending("/c")},
                   {pending("/a", 1), failed("/b", "tape offline"), pending("/c")},
                   {failed("/b", "tape offline"), failed("/b", "tape offline")}};
  std::vector<WaitProgress> progress;
  const auto result = wait_for(looks.look(),
                               {"/a", "/b", "/c"},
                               fast(),
                               [&](const WaitProgress& p) { progress.push_back(p); },
                               {});
  CHECK(looks.asked.size() == 3);
  CHECK(result.done == 2);
  // A request listed twice as failed is one failure.
  CHECK(result.failed == std::vector<std::pair<std::string, std::string>>{{"/b", "tape offline"}});
  CHECK(result.pending.empty());
  REQUIRE(progress.size() == 3);
  CHECK((progress[0].pending == 3 && progress[0].retrying == 0 && progress[0].failed == 0));
  CHECK((progress[1].pending == 2 && progress[1].retrying == 1 && progress[1].failed == 1));
  CHECK((progress[2].pending == 0 && progress[2].failed == 1));
}

TEST_CASE("wait: an id named twice is one request", "[ctl]")
{
  ScriptedLooks looks;
  looks.answers = {{failed("/a", "")}};
  const auto result = wait_for(looks.look(), {"/a", "/a", "/b"}, fast(), {}, {});
  CHECK(result.done == 1);
  CHECK(result.failed.size() == 1);
}

TEST_CASE("wait: gives up at the timeout with what is still pending", "[ctl]")
{
  ScriptedLooks looks;
  looks.answers = {{pending("/b"), pending("/a"), failed("/c", "r")}};
  const auto result = wait_for(looks.look(), {"/a", "/b", "/c", "/d"}, fast(0ms), {}, {});
  CHECK(result.timed_out);
  CHECK_FALSE(result.interrupted);
  CHECK(result.pending == std::vector<std::string>{"/a", "/b"});
  CHECK(result.done == 1);
  CHECK(result.failed.size() == 1);
  CHECK(looks.asked.size() == 1);
}

TEST_CASE("wait: the last look is at the timeout", "[ctl]")
{
  ScriptedLooks looks;
  looks.answers = {{pending("/a")}, {}};
  WaitOptions options;
  options.interval = 1h; // never reached: the timeout comes first
  options.timeout = 50ms;
  const auto start = std::chrono::steady_clock::now();
  const auto result = wait_for(looks.look(), {"/a"}, options, {}, {});
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(looks.asked.size() == 2);
  CHECK(result.done == 1);
  CHECK_FALSE(result.timed_out);
}

TEST_CASE("wait: an interrupt stops the wait between looks", "[ctl]")
{
  ScriptedLooks looks;
  looks.answers = {{pending("/a")}};
  WaitOptions options;
  options.interval = 1h;
  const auto result = wait_for(looks.look(), {"/a"}, options, {}, [] { return true; });
  CHECK(result.interrupted);
  CHECK_FALSE(result.timed_out);
  CHECK(result.pending == std::vector<std::string>{"/a"});
  CHECK(looks.asked.size() == 1);
}

TEST_CASE("wait: a failing look is thrown", "[ctl]")
{
  const LookUp broken = [](const std::set<std::string>&) -> std::vector<QueuedRequest> {
    throw std::runtime_error("listing failed");
  };
  CHECK_THROWS_WITH(wait_for(broken, {"/a"}, fast(), {}, {}), "listing failed");
}

// look_up and pending_for, over a queue on fake container servers.

TEST_CASE("wait: look_up finds pending, then failed; the rest left the queue", "[ctl]")
{
  test::QueueFixture q;
  const std::string a = "/20261122120000.000/migrate/AUTH_test/c/0/a";
  const std::string b = "/20261122120001.000/migrate/AUTH_test/c/0/b";
  const std::string c = "/20261122120002.000/migrate/AUTH_test/c/0/c";
  const std::string later = "/20261122120003.000/migrate/AUTH_test/c/0/later";
  for (const auto& id : {a, b, c, later}) {
    q.submit(id);
  }
  q.fail(b, "tape offline");
  // A crashed run left `c` in both queues: it is pending.
  q.fail(c, "crashed");
  q.submit(c);

  const auto found = look_up(*q.queue, {a, b, c, "/20261122115959.000/migrate/AUTH_test/c/0/gone"});
  std::vector<std::string> seen;
  for (const auto& request : found) {
    seen.push_back((request.which == queue::Which::pending ? "pending " : "failed ") + request.id
                   + " " + request.reason);
  }
  CHECK(seen
        == std::vector<std::string>{"pending " + a + " ",
                                    "pending " + c + " ",
                                    "failed " + b + " tape offline"});
  CHECK(look_up(*q.queue, {}).empty());
}

TEST_CASE("wait: pending_for lists the pending requests that concern a target", "[ctl]")
{
  test::QueueFixture q;
  const std::string object = "/20261122120000.000/migrate/AUTH_test/c/0/o";
  const std::string container = "/20261122120001.000/recall/AUTH_test/c/0";
  const std::string other = "/20261122120002.000/migrate/AUTH_test/d/0/o";
  const std::string failed_one = "/20261122120003.000/migrate/AUTH_test/c/0/f";
  for (const auto& id : {object, container, other, failed_one}) {
    q.submit(id);
  }
  q.fail(failed_one, "r");
  CHECK(pending_for(*q.queue, {"AUTH_test", "c", "o"})
        == std::vector<std::string>{object, container});
  CHECK(pending_for(*q.queue, {"AUTH_test", "c", ""})
        == std::vector<std::string>{object, container});
  CHECK(pending_for(*q.queue, {"AUTH_test", "", ""})
        == std::vector<std::string>{object, container, other});
  CHECK(pending_for(*q.queue, {"AUTH_test", "e", ""}).empty());
}

TEST_CASE("wait: a list request is pending with its progress until its row is gone", "[ctl]")
{
  test::QueueFixture q;
  const std::string object = "/20261122120000.000/migrate/AUTH_test/c/0/o";
  q.submit(object);
  const std::string list = q.submit_list(Operation::migrate, "c", {"a", "b", "o"});
  CHECK(pending_for(*q.queue, {"AUTH_test", "c", "a"}) == std::vector<std::string>{list});
  CHECK(pending_for(*q.queue, {"AUTH_test", "c", "o"}) == std::vector<std::string>{object, list});
  CHECK(pending_for(*q.queue, {"AUTH_test", "c", "z"}).empty());
  CHECK(pending_for(*q.queue, {"AUTH_test", "d", ""}).empty());

  std::vector<queue::ListedList> lists;
  q.queue->for_each_list([&](const queue::ListedList& listed) {
    lists.push_back(listed);
    return true;
  });
  REQUIRE(lists.size() == 1);
  q.queue->update_list_progress(lists[0], {3, 2, 1});
  auto found = look_up(*q.queue, {object, list});
  REQUIRE(found.size() == 2);
  CHECK(found[1].id == list);
  CHECK(found[1].which == queue::Which::pending);
  CHECK(found[1].list == queue::ListProgress{3, 2, 1});

  std::vector<WaitProgress> seen;
  const auto look = [&](const std::set<std::string>& ids) { return look_up(*q.queue, ids); };
  WaitOptions options;
  options.timeout = std::chrono::milliseconds(0);
  const auto result =
    wait_for(look, {list}, options, [&](const WaitProgress& p) { seen.push_back(p); }, {});
  CHECK(result.timed_out);
  REQUIRE_FALSE(seen.empty());
  CHECK(seen.back().list_objects == 3);
  CHECK(seen.back().list_objects_done == 2);

  lists.clear();
  q.queue->for_each_list([&](const queue::ListedList& listed) {
    lists.push_back(listed);
    return true;
  });
  q.queue->complete_list(lists.at(0));
  CHECK(look_up(*q.queue, {list}).empty());
}

TEST_CASE("wait: a list request is pending while objects it left are pending, then failed "
          "with how many and the first reasons",
          "[ctl]")
{
  test::QueueFixture q;
  const std::string list = q.submit_list(Operation::migrate, "c", {"a", "b", "c", "d", "e"});
  const auto prefix = list.substr(0, list.rfind('/') + 1);
  // Another list of the container, submitted later: its rows are not this one's.
  const std::string other = "/20261122120011.000/migrate/AUTH_test/c/0/x";
  q.submit(other);
  q.fail(other, "not this list");
  // The dispatcher worked the list: two objects failed for good, one waits
  // for another attempt.
  for (const auto* object : {"b", "d", "e"}) {
    q.submit(prefix + object);
  }
  q.fail(prefix + "b", "tape offline");
  q.fail(prefix + "d", "no space");
  auto lists = std::vector<queue::ListedList>{};
  q.queue->for_each_list([&](const queue::ListedList& listed) {
    lists.push_back(listed);
    return true;
  });
  REQUIRE(lists.size() == 1);
  q.queue->complete_list(lists[0]);

  auto found = look_up(*q.queue, {list});
  REQUIRE(found.size() == 1);
  CHECK(found[0].id == list);
  CHECK(found[0].which == queue::Which::pending);

  q.fail(prefix + "e", "bad checksum");
  q.submit(prefix + "f");
  q.fail(prefix + "f", "");
  found = look_up(*q.queue, {list});
  REQUIRE(found.size() == 1);
  CHECK(found[0].which == queue::Which::failed);
  CHECK(found[0].reason
        == "4 objects of the list failed (first 3 shown): b: tape offline; d: no space; e: bad "
           "checksum");

  const auto look = [&](const std::set<std::string>& ids) { return look_up(*q.queue, ids); };
  const auto result = wait_for(look, {list}, fast(), {}, {});
  CHECK(result.done == 0);
  REQUIRE(result.failed.size() == 1);
  CHECK(result.failed[0].first == list);
}

TEST_CASE("wait: a list request whose objects all succeeded is done", "[ctl]")
{
  test::QueueFixture q;
  const std::string list = q.submit_list(Operation::recall, "c", {"a", "b"});
  const std::string single = "/20261122120000.000/migrate/AUTH_test/c/0/o";
  q.submit(single);
  auto found = look_up(*q.queue, {list, single});
  REQUIRE(found.size() == 2);
  q.queue->for_each_list([&](const queue::ListedList& listed) {
    q.queue->complete_list(listed);
    return true;
  });
  found = look_up(*q.queue, {list, single});
  REQUIRE(found.size() == 1);
  CHECK(found[0].id == single);
  // One failed object reads in the singular.
  q.submit(list.substr(0, list.rfind('/') + 1) + "a");
  q.fail(list.substr(0, list.rfind('/') + 1) + "a", "gone");
  found = look_up(*q.queue, {list});
  REQUIRE(found.size() == 1);
  CHECK(found[0].reason == "1 object of the list failed: a: gone");
}

TEST_CASE("wait: a container request settled object by object is pending while its objects "
          "are, then failed with them; failed whole, with its own reason",
          "[ctl]")
{
  test::QueueFixture q;
  const std::string container = q.submit("/20261122120010.000/recall/AUTH_test/c/0");
  const std::string whole = q.submit("/20261122120011.000/recall/AUTH_test/d/0");
  const std::string done = q.submit("/20261122120012.000/recall/AUTH_test/e/0");
  // Another container whose name begins alike: its rows are not c's.
  q.submit("/20261122120010.000/recall/AUTH_test/cc/0/x");
  // The dispatcher settled c object by object: a and b have rows of their
  // own, the container's row is gone; d failed whole; e is done.
  q.submit(container + "/a");
  q.submit(container + "/b");
  q.queue->for_each(queue::Which::pending, [&](const queue::ListedEntry& listed) {
    if (listed.row.name == container || listed.row.name == done) {
      q.queue->complete(listed.row);
    }
    return true;
  });
  q.fail(whole, "listing refused");

  auto found = look_up(*q.queue, {container, whole, done});
  REQUIRE(found.size() == 2);
  std::map<std::string, QueuedRequest> by_id;
  for (auto& request : found) {
    by_id.emplace(request.id, request);
  }
  CHECK(by_id.at(container).which == queue::Which::pending);
  CHECK(by_id.at(whole).which == queue::Which::failed);
  CHECK(by_id.at(whole).reason == "listing refused");

  q.fail(container + "/a", "tape offline");
  q.fail(container + "/b", "no space");
  found = look_up(*q.queue, {container});
  REQUIRE(found.size() == 1);
  CHECK(found[0].which == queue::Which::failed);
  CHECK(found[0].reason == "2 objects of the container failed: a: tape offline; b: no space");
}

TEST_CASE("wait: a container request whose failed objects went to a list (a spill) is pending "
          "while the list is, which keeps its attempts through a progress save",
          "[ctl]")
{
  test::QueueFixture q;
  const std::string container = "/20261122120010.000/migrate/AUTH_test/c/0";
  // The row is gone (settled); the dispatcher left a list of its failed
  // objects under its prefix, retried after a failed attempt.
  const std::string list = q.submit_list(Operation::migrate, "c", {"a", "b"});
  REQUIRE(list.starts_with(container + "/"));
  const queue::RetryState retry{1, 1800000000, "node down"};
  q.queue->direct().put_row_quorum(queue::k_pending_lists_container,
                                   list,
                                   SwiftTimestamp::now(),
                                   queue::list_content_type({2, 0, 0})
                                     + queue::retry_parameters(retry));
  const auto pending = look_up(*q.queue, {container});
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].which == queue::Which::pending);
  CHECK(pending[0].retry == retry);

  const auto the_list = [&] {
    std::vector<queue::ListedList> lists;
    q.queue->for_each_list([&](const queue::ListedList& listed) {
      lists.push_back(listed);
      return true;
    });
    REQUIRE(lists.size() == 1);
    return lists[0];
  };
  q.queue->update_list_progress(the_list(), {2, 1, 0});
  CHECK(the_list().progress == queue::ListProgress{2, 1, 0});
  CHECK(queue::retry_state_of(the_list().row.content_type) == retry);

  q.queue->complete_list(the_list());
  CHECK(look_up(*q.queue, {container}).empty());
}
