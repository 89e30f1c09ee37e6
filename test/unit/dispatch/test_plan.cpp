// The dispatcher's plan, from listed entries alone: arrival order,
// due retries, deferral behind held entries, and grouping.

#include <hlm/dispatch/plan.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::dispatch;
using hlm::queue::ListedEntry;

namespace {

constexpr std::int64_t k_now = 1'800'000'000;
constexpr std::chrono::seconds k_delay_max{3600};

// A listed pending entry submitted at second `second` of the day.
ListedEntry
listed(int second,
       Operation operation,
       const std::string& object,
       int policy = 0,
       const std::string& container = "c")
{
  ListedEntry entry;
  const std::string submitted = "20261122000" + std::string(3 - std::to_string(second).size(), '0')
                                + std::to_string(second) + ".000";
  entry.entry = queue::Entry{submitted, operation, {"AUTH_test", container, object}, policy};
  entry.row.name = "/" + submitted + "/" + std::string(to_string(operation)) + "/" + object;
  return entry;
}

ListedEntry
undecodable(const std::string& name)
{
  ListedEntry entry;
  entry.row.name = name;
  entry.decode_error = "bad";
  return entry;
}

ListedEntry
waiting(ListedEntry entry, std::int64_t retry_after)
{
  entry.retry = {1, retry_after, "tape offline"};
  return entry;
}

} // namespace

TEST_CASE("plan: arrival order across both name forms, undecodable first", "[dispatch]")
{
  std::vector<ListedEntry> pending{listed(2, Operation::migrate, "b"),
                                   undecodable("x"),
                                   listed(1, Operation::recall, "a"),
                                   listed(2, Operation::recall, "c")};
  sort_by_arrival(pending);
  std::vector<std::string> order;
  for (const auto& entry : pending) {
    order.push_back(entry.entry ? entry.entry->target.object : entry.row.name);
  }
  CHECK(order == std::vector<std::string>{"x", "a", "b", "c"}); // stable for equal times
}

TEST_CASE("plan: which retries are due", "[dispatch]")
{
  CHECK(is_due({}, k_now, k_delay_max));
  CHECK(is_due({1, k_now, {}}, k_now, k_delay_max));
  CHECK_FALSE(is_due({1, k_now + 1, {}}, k_now, k_delay_max));
  CHECK_FALSE(is_due({1, k_now + 3600, {}}, k_now, k_delay_max));
  // Beyond retry_delay_max from now: not waited for.
  CHECK(is_due({1, k_now + 3601, {}}, k_now, k_delay_max));
}

TEST_CASE("plan: batched groups per operation and policy, fifo one per entry", "[dispatch]")
{
  const std::vector<ListedEntry> pending{listed(1, Operation::migrate, "a"),
                                         listed(2, Operation::recall, "b"),
                                         listed(3, Operation::migrate, "c", 1),
                                         listed(4, Operation::migrate, "d"),
                                         undecodable("x")};

  // Without aging: recalls (high) before migrations (normal) in a round.
  const Plan batched(pending, Schedule::batched, k_now, k_delay_max, std::chrono::seconds(0));
  CHECK(batched.groups()
        == std::vector<Group>{{Operation::recall, 0, {1}, 8, {}, {}},
                              {Operation::migrate, 0, {0, 3}, 5, {}, {}},
                              {Operation::migrate, 1, {2}, 5, {}, {}}});
  CHECK(batched.undecodable() == std::vector<std::size_t>{4});
  CHECK(batched.deferred().empty());

  const Plan fifo(pending, Schedule::fifo, k_now, k_delay_max, std::chrono::seconds(0));
  CHECK(fifo.groups()
        == std::vector<Group>{{Operation::migrate, 0, {0}, 5, {}, {}},
                              {Operation::recall, 0, {1}, 8, {}, {}},
                              {Operation::migrate, 1, {2}, 5, {}, {}},
                              {Operation::migrate, 0, {3}, 5, {}, {}}});
}

TEST_CASE("plan: the other operation on an overlapping target starts a new round", "[dispatch]")
{
  // recall o after migrate o; migrate of the container after recall p;
  // migrate q overlaps nothing of the other operation in its round.
  const std::vector<ListedEntry> pending{listed(1, Operation::migrate, "o"),
                                         listed(2, Operation::recall, "o"),
                                         listed(3, Operation::recall, "p"),
                                         listed(4, Operation::migrate, ""),
                                         listed(5, Operation::migrate, "q", 0, "d")};
  const Plan plan(pending, Schedule::batched, k_now, k_delay_max, std::chrono::seconds(0));
  CHECK(plan.groups()
        == std::vector<Group>{{Operation::migrate, 0, {0}, 5, {}, {}},
                              {Operation::recall, 0, {1, 2}, 8, {}, {}},
                              {Operation::migrate, 0, {3, 4}, 5, {}, {}}});
}

TEST_CASE("plan: higher priority first within a round; waiting raises a request's priority",
          "[dispatch]")
{
  auto low = listed(1, Operation::migrate, "a");
  low.row.content_type = "application/swifthlm-task; priority=2";
  auto high = listed(2, Operation::migrate, "b");
  high.row.content_type = "application/swifthlm-task; priority=high";
  auto urgent = listed(3, Operation::migrate, "c");
  urgent.row.content_type = "application/swifthlm-task; copies=1; priority=9";
  const auto recall = listed(4, Operation::recall, "d");
  const std::vector<ListedEntry> pending{low, high, urgent, recall};
  const Plan plan(pending, Schedule::batched, k_now, k_delay_max, std::chrono::seconds(0));
  CHECK(plan.groups()
        == std::vector<Group>{{Operation::migrate, 0, {2}, 9, {}, {}},
                              {Operation::migrate, 0, {1}, 8, {}, {}},
                              {Operation::recall, 0, {3}, 8, {}, {}},
                              {Operation::migrate, 0, {0}, 2, {}, {}}});
  // Waiting raises it: one level per priority_aging (an hour here).
  CHECK(effective_priority(low, k_now, std::chrono::seconds(0)) == 2);
  const auto waited = [&](std::int64_t seconds) {
    // low was submitted at 2026-11-22 00:00:01 UTC = 1795305601.
    return effective_priority(low, 1'795'305'601 + seconds, std::chrono::seconds(3600));
  };
  CHECK(waited(0) == 2);
  CHECK(waited(3599) == 2);
  CHECK(waited(3600) == 3);
  CHECK(waited(5 * 3600) == 7);
  CHECK(waited(100 * 3600) == 9);
}

TEST_CASE("plan: entries not due, and those behind them, are deferred", "[dispatch]")
{
  const std::vector<ListedEntry> pending{
    waiting(listed(1, Operation::migrate, "o"), k_now + 60), // not due
    listed(2, Operation::recall, "o"),                       // behind it
    listed(3, Operation::migrate, "q"),                      // another object
    listed(4, Operation::recall, ""),                        // behind it: its container
    listed(5, Operation::recall, "o", 0, "d"),               // another container
    waiting(listed(6, Operation::recall, "p"), k_now - 1)};  // due
  for (const auto schedule : {Schedule::batched, Schedule::fifo}) {
    const Plan plan(pending, schedule, k_now, k_delay_max);
    CHECK(plan.deferred() == std::vector<std::size_t>{0, 1, 3});
    std::vector<std::size_t> planned;
    for (const auto& group : plan.groups()) {
      planned.insert(planned.end(), group.members.begin(), group.members.end());
    }
    std::sort(planned.begin(), planned.end());
    CHECK(planned == std::vector<std::size_t>{2, 4, 5});
  }
}

TEST_CASE("plan: an entry held during the run keeps later conflicting ones back", "[dispatch]")
{
  const std::vector<ListedEntry> pending{listed(1, Operation::migrate, "p"),
                                         listed(2, Operation::recall, "p"),
                                         listed(3, Operation::recall, "r"),
                                         listed(4, Operation::recall, "")};
  Plan plan(pending, Schedule::batched, k_now, k_delay_max);
  REQUIRE(plan.groups().size() == 2);
  CHECK(plan.ready(plan.groups()[0]) == std::vector<std::size_t>{0});
  plan.hold(0); // migrate p failed and will be retried
  CHECK(plan.ready(plan.groups()[1]) == std::vector<std::size_t>{2});
  CHECK(plan.deferred() == std::vector<std::size_t>{1, 3});
}
