// Restore expiry in the dispatcher (restore_expiry.hpp), against fake
// container servers: the expiry's rounding and texts, a recall's reminder
// stored before it is sent, and due reminders queued as releases, once.

#include "../queue/fake_container_servers.hpp"
#include "../support/filter_http.hpp"
#include "../support/ring_writer.hpp"
#include "../support/temp_dir.hpp"
#include "fake_nodes.hpp"

#include <hlm/config/hlm_conf.hpp>
#include <hlm/dispatch/dispatcher.hpp>
#include <hlm/dispatch/restore_expiry.hpp>
#include <hlm/queue/direct_container.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

using namespace hlm;
using namespace hlm::queue;
using hlm::test::FakeContainerServers;
using hlm::test::FakeNodes;

namespace {

// 2026-12-04 19:50:00 UTC.
constexpr std::int64_t k_now = 1'796'413'800;
// 2026-12-07 00:00:00 UTC: two days later, rounded up to midnight.
constexpr std::int64_t k_two_days = 1'796'601'600;

struct Fixture
{
  test::TempDir dir;
  FakeContainerServers containers;
  test::FilterHttp http{containers};
  FakeNodes nodes;
  config::HlmConf conf;
  std::unique_ptr<RequestQueue> queue;

  Fixture()
  {
    dir.write("swift.conf",
              "[swift-hash]\nswift_hash_path_prefix = p\nswift_hash_path_suffix = s\n"
              "[storage-policy:0]\nname = gold\ndefault = yes\n");
    test::write_gzip(dir.path() / "container.ring.gz", test::serialize(test::simple_ring(4, 3)));
    test::write_gzip(dir.path() / "object.ring.gz", test::serialize(test::simple_ring(4, 3)));
    conf.swift_dir = dir.path();
    conf.recall_copies = k_all_copies;
    queue = std::make_unique<RequestQueue>(http, dir.path());
  }

  std::vector<Row>
  reminders()
  {
    std::vector<Row> rows;
    queue->direct().list_rows(dispatch::k_expiry_container, {}, [&](const Row& row) {
      rows.push_back(row);
      return true;
    });
    return rows;
  }

  std::vector<ListedEntry>
  pending()
  {
    std::vector<ListedEntry> out;
    queue->for_each(Which::pending, [&](const ListedEntry& listed) {
      out.push_back(listed);
      return true;
    });
    return out;
  }
};

const Entry k_object_recall{"20261204195000.000",
                            Operation::recall,
                            Target{"AUTH_test", "c", "o"},
                            0};
const Entry k_container_recall{"20261204195001.000",
                               Operation::recall,
                               Target{"AUTH_test", "d", ""},
                               0};

} // namespace

TEST_CASE("restore expiry: days later, rounded up to midnight UTC, and its texts", "[dispatch]")
{
  CHECK(dispatch::restore_expiry(k_now, 2) == k_two_days);
  // Midnight itself stays.
  CHECK(dispatch::restore_expiry(k_two_days - 86'400, 1) == k_two_days);
  CHECK(dispatch::restore_expiry(k_two_days - 86'400 + 1, 1) == k_two_days + 86'400);
  CHECK(dispatch::expiry_text(k_two_days) == "2026-12-07T00:00:00Z");
  CHECK(dispatch::restore_header_value(1'796'947'200)
        == R"(ongoing-request="false", expiry-date="Fri, 11 Dec 2026 00:00:00 GMT")");
  CHECK(dispatch::release_name(k_object_recall, k_two_days)
        == "/20261207000000.000/migrate/AUTH_test/c/0/o");
  CHECK(dispatch::release_name(k_container_recall, k_two_days)
        == "/20261207000000.000/migrate/AUTH_test/d/0");
  CHECK(days_of("application/swifthlm-task; days=30") == 30);
  CHECK_FALSE(days_of("application/swifthlm-task; days=0"));
  CHECK_FALSE(days_of("application/swifthlm-task; days=36501"));
  CHECK(release_of(with_release("application/swifthlm-task", k_two_days)) == k_two_days);
}

TEST_CASE("restore expiry: due reminders become releases, each once", "[dispatch]")
{
  Fixture f;
  dispatch::schedule_release(*f.queue, k_object_recall, k_two_days);
  dispatch::schedule_release(*f.queue, k_container_recall, k_two_days + 86'400);
  REQUIRE(f.reminders().size() == 2);

  // Not due: nothing queued, nothing removed.
  CHECK(dispatch::queue_due_releases(*f.queue, k_two_days - 1) == 0);
  CHECK(f.pending().empty());
  CHECK(f.reminders().size() == 2);

  // The first due: a low priority release of its own name.
  CHECK(dispatch::queue_due_releases(*f.queue, k_two_days) == 1);
  auto pending = f.pending();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].row.name == "/20261207000000.000/migrate/AUTH_test/c/0/o");
  CHECK(release_of(pending[0].row.content_type) == k_two_days);
  CHECK(priority_of(pending[0].row.content_type) == k_priority_low);
  CHECK(f.reminders().size() == 1);

  // A run stopped before the reminder was deleted queues the same row
  // again: still one request.
  dispatch::schedule_release(*f.queue, k_object_recall, k_two_days);
  CHECK(dispatch::queue_due_releases(*f.queue, k_two_days + 86'400) == 2);
  pending = f.pending();
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].row.name == "/20261207000000.000/migrate/AUTH_test/c/0/o");
  CHECK(pending[1].row.name == "/20261208000000.000/migrate/AUTH_test/d/0");
  CHECK(f.reminders().empty());
}

TEST_CASE("restore expiry: a recall with --days stores its release before it is sent", "[dispatch]")
{
  Fixture f;
  f.queue->submit(k_object_recall, std::nullopt, std::nullopt, 2);
  dispatch::DispatchOptions options;
  options.clock = [] { return k_now; };
  const dispatch::Fanout fanout(f.conf, f.nodes.factory());
  std::vector<std::string> said;
  const auto report =
    dispatch::dispatch_once(f.conf, f.http, fanout, options, [&](std::string_view text) {
      said.emplace_back(text);
    });
  const auto reminders = f.reminders();
  REQUIRE(reminders.size() == 1);
  CHECK(reminders[0].name == "/20261207000000.000/migrate/AUTH_test/c/0/o");
  CHECK(std::find(said.begin(),
                  said.end(),
                  "recall (policy 0): copies stay on disk until 2026-12-07T00:00:00Z (--days 2)")
        != said.end());
  // The nodes were asked to mark what they recall with that expiry, in a
  // version 3 document.
  CHECK(report.completed == 1);
  REQUIRE_FALSE(f.nodes.documents.empty());
  for (const auto& document : f.nodes.documents) {
    CHECK(document["request"] == "recall");
    CHECK(document["version"] == 3);
    CHECK(document["restore_until"] == k_two_days);
  }
  CHECK(f.pending().empty());

  // When the reminder is due, the run queues the release and works it:
  // a migrate asking the nodes to release what is due by the expiry.
  f.nodes.documents.clear();
  options.clock = [] { return k_two_days; };
  // These fake nodes answered without an id, so this fanout now speaks
  // version 1 to them, which cannot carry a release: it is not sent (it
  // would migrate every replica), it stays pending with the reason.
  const auto refused = dispatch::dispatch_once(f.conf, f.http, fanout, options, {});
  CHECK(refused.retrying == 1);
  CHECK(f.nodes.documents.empty());
  auto pending = f.pending();
  REQUIRE(pending.size() == 1);
  REQUIRE(pending[0].retry.reason);
  CHECK_THAT(*pending[0].retry.reason, Catch::Contains("protocol version 3"));
  CHECK(release_of(pending[0].row.content_type) == k_two_days);
  // A new fanout (the next hlm-dispatch, its next attempt due) sends it in
  // a version 3 document.
  options.clock = [] { return k_two_days + 3600; };
  const dispatch::Fanout next(f.conf, f.nodes.factory());
  const auto release = dispatch::dispatch_once(f.conf, f.http, next, options, {});
  CHECK(release.completed == 1);
  REQUIRE_FALSE(f.nodes.documents.empty());
  for (const auto& document : f.nodes.documents) {
    CHECK(document["request"] == "migrate");
    CHECK(document["release_before"] == k_two_days);
    CHECK_FALSE(document.contains("restore_until"));
  }
  CHECK(f.reminders().empty());
  CHECK(f.pending().empty());

  // Over max_restore_days, the run truncates the days.
  f.queue->submit(k_object_recall, std::nullopt, std::nullopt, 2);
  f.conf.max_restore_days = 1;
  said.clear();
  options.clock = [] { return k_now + 7200; };
  const dispatch::Fanout third(f.conf, f.nodes.factory());
  dispatch::dispatch_once(f.conf, f.http, third, options, [&](std::string_view text) {
    said.emplace_back(text);
  });
  CHECK(std::find(said.begin(),
                  said.end(),
                  "recall (policy 0): copies stay on disk until 2026-12-06T00:00:00Z (--days 1)")
        != said.end());
}

TEST_CASE("restore expiry: hlm.conf's max_restore_days and its action", "[dispatch]")
{
  const auto conf = config::parse_hlm_conf(
    "[dispatch]\nmax_restore_days = 30\nmax_restore_days_action = refuse\n",
    "t.conf");
  CHECK(conf.max_restore_days == 30);
  CHECK(conf.refuse_over_max_restore_days);
  const config::HlmConf defaults;
  CHECK(defaults.max_restore_days == 0);
  CHECK_FALSE(defaults.refuse_over_max_restore_days);
  CHECK_FALSE(config::parse_hlm_conf("[dispatch]\nmax_restore_days_action = truncate\n", "t.conf")
                .refuse_over_max_restore_days);
  CHECK_THROWS_AS(config::parse_hlm_conf("[dispatch]\nmax_restore_days_action = cut\n", "t.conf"),
                  ConfigError);
  CHECK_THROWS_AS(config::parse_hlm_conf("[dispatch]\nmax_restore_days = 36501\n", "t.conf"),
                  ConfigError);
  CHECK_THROWS_AS(config::parse_hlm_conf("[dispatch]\nmax_restore_days = -1\n", "t.conf"),
                  ConfigError);
}
