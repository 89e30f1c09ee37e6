// hlmctl cancel, retry and forget over a queue on fake container servers,
// the caller's access asked through a routed proxy.

#include "queue_fixture.hpp"
#include "routed_http.hpp"

#include <hlm/ctl/manage.hpp>
#include <hlm/ctl/submit.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::QueueFixture;
using hlm::test::RoutedHttp;

namespace {

std::vector<RequestName>
names(std::initializer_list<std::string> texts)
{
  std::vector<RequestName> out;
  for (const auto& text : texts) {
    out.push_back(parse_request_name(text, [](queue::Target target) {
      if (target.account.empty()) {
        target.account = "AUTH_test";
      }
      return target;
    }));
  }
  return out;
}

} // namespace

TEST_CASE("manage: a name is a request id or a target", "[ctl]")
{
  const auto parsed = names(
    {"/20261122120001.000/recall/AUTH_test/c/0/o", "AUTH_test/c/o", "/AUTH_x/c", "c"});
  CHECK(parsed[0].id == "/20261122120001.000/recall/AUTH_test/c/0/o");
  CHECK(parsed[1].target == queue::Target{"AUTH_test", "c", "o"});
  CHECK(parsed[2].target == queue::Target{"AUTH_x", "c", ""});
  CHECK(parsed[3].target == queue::Target{"AUTH_test", "c", ""});
}

TEST_CASE("manage: cancel removes pending requests by id or target, where the caller may read",
          "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/c", 204);
  http.answer("HEAD /v1/AUTH_test/secret", 403);
  const std::string o = q.submit("/20261122120001.000/recall/AUTH_test/c/0/o");
  const std::string p = q.submit("/20261122120002.000/migrate/AUTH_test/c/0/p");
  const std::string whole = q.submit("/20261122120003.000/migrate/AUTH_test/c/0");
  const std::string list = q.submit_list(Operation::migrate, "c", {"x", "y"}, "20261122120004.000");
  const std::string other = q.submit("/20261122120005.000/migrate/AUTH_test/cc/0/p");
  const std::string secret = q.submit("/20261122120006.000/migrate/AUTH_test/secret/0/s");

  auto results = cancel_requests(client, *q.queue, names({o, "AUTH_test/c/nothing", secret}));
  REQUIRE(results.size() == 3);
  CHECK(results[0].done == "cancelled");
  CHECK(results[0].target == "AUTH_test/c/o");
  CHECK(results[1].error == "no pending request for AUTH_test/c/nothing");
  CHECK(results[1].http_status == 404);
  CHECK(results[2].id == secret);
  CHECK(results[2].http_status == 403);
  CHECK(q.names(queue::Which::pending) == std::vector<std::string>{p, whole, other, secret});

  // A container: its own request, its objects', its list's; named twice,
  // touched once.
  results = cancel_requests(client, *q.queue, names({"c", "AUTH_test/c/p"}));
  REQUIRE(results.size() == 3);
  CHECK(results[0].id == p);
  CHECK(results[1].id == whole);
  CHECK(results[2].id == list);
  CHECK(results[2].target == "AUTH_test/c");
  CHECK(q.names(queue::Which::pending) == std::vector<std::string>{other, secret});
  q.queue->for_each_list([](const queue::ListedList&) {
    FAIL("the list is gone");
    return true;
  });
}

TEST_CASE("manage: retry queues a failed request anew and clears it; forget only clears", "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/c", 204, {{"X-Container-Object-Count", "1000000"}});
  http.answer("HEAD /v1/AUTH_test/c/o", 200);
  http.answer("HEAD /v1/AUTH_test/c/gone", 404);
  for (const auto* id :
       {"/20261122120001.000/migrate/AUTH_test/c/0/o",
        "/20261122120002.000/migrate/AUTH_test/c/0/gone",
        "/20261122120003.000/recall/AUTH_test/c/0/20261122120003.000-00000000000000aa",
        "/20261122120004.000/recall/AUTH_test/c/0/o"}) {
    q.submit(id);
    q.fail(id, "tape offline");
  }
  Submitter submitter(client, *q.queue, q.swift_conf);
  auto results = retry_requests(
    client,
    *q.queue,
    submitter,
    names({"/20261122120001.000/migrate/AUTH_test/c/0/o",
           "/20261122120002.000/migrate/AUTH_test/c/0/gone",
           "/20261122120003.000/recall/AUTH_test/c/0/20261122120003.000-00000000000000aa"}));
  REQUIRE(results.size() == 3);
  CHECK(results[0].done == "retried");
  REQUIRE(results[0].requeued);
  CHECK(results[0].requeued->outcome == SubmitOutcome::queued);
  CHECK(q.names(queue::Which::pending) == std::vector<std::string>{results[0].requeued->id});
  CHECK(results[1].http_status == 404); // the object is gone: nothing queued, kept failed
  CHECK_THAT(*results[2].error, Catch::Contains("no list left"));
  CHECK(q.names(queue::Which::failed)
        == std::vector<std::string>{
          "/20261122120002.000/migrate/AUTH_test/c/0/gone",
          "/20261122120003.000/recall/AUTH_test/c/0/20261122120003.000-00000000000000aa",
          "/20261122120004.000/recall/AUTH_test/c/0/o"});

  results = forget_requests(client,
                            *q.queue,
                            names({"AUTH_test/c/gone", "AUTH_test/c/o", "AUTH_test/c/x"}));
  REQUIRE(results.size() == 3);
  CHECK(results[0].done == "forgotten");
  CHECK(results[1].id == "/20261122120004.000/recall/AUTH_test/c/0/o");
  CHECK(results[2].http_status == 404);
  CHECK(q.names(queue::Which::failed)
        == std::vector<std::string>{
          "/20261122120003.000/recall/AUTH_test/c/0/20261122120003.000-00000000000000aa"});
}
