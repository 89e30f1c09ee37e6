#include "queue_fixture.hpp"
#include "routed_http.hpp"

#include <hlm/ctl/submit.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::QueueFixture;
using hlm::test::RoutedHttp;

namespace {

std::string
swift_error(const std::function<void()>& call, int* status = nullptr)
{
  try {
    call();
  } catch (const SwiftError& e) {
    if (status != nullptr) {
      *status = e.http_status();
    }
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("submit: parse_target reads the swift client's names", "[ctl]")
{
  CHECK(parse_target("c") == queue::Target{"", "c", ""});
  CHECK(parse_target("AUTH_a/c") == queue::Target{"AUTH_a", "c", ""});
  CHECK(parse_target("/AUTH_a/c/dir/o") == queue::Target{"AUTH_a", "c", "dir/o"});
  for (const char* bad : {"", "/", "a//o", "a/c/", "a/\xff"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_target(bad), InputError);
  }
  CHECK(to_string(queue::Target{"AUTH_a", "c", ""}) == "AUTH_a/c");
  CHECK(to_string(queue::Target{"AUTH_a", "c", "dir/o"}) == "AUTH_a/c/dir/o");
}

TEST_CASE("submit: the container's policy and existence, as the caller sees them", "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/silver", 204, {{"X-Storage-Policy", "silver"}});
  http.answer("HEAD /v1/AUTH_test/plain", 204);
  http.answer("HEAD /v1/AUTH_test/secret", 403);
  CHECK(container_policy(client, q.swift_conf, {"AUTH_test", "silver", ""}).index == 1);
  CHECK(container_policy(client, q.swift_conf, {"AUTH_test", "plain", "o"}).index == 0);

  int status = 0;
  CHECK(swift_error(
          [&] {
            require_container(client, {"AUTH_test", "gone", ""});
          },
          &status)
        == "container AUTH_test/gone does not exist");
  CHECK(status == 404);
  swift_error(
    [&] {
      container_policy(client, q.swift_conf, {"AUTH_test", "secret", ""});
    },
    &status);
  CHECK(status == 403);

  http.answer("HEAD /v1/AUTH_test/plain/o", 200);
  http.sent.clear();
  require_object(client, {"AUTH_test", "plain", ""}); // a container: nothing to ask
  require_object(client, {"AUTH_test", "plain", "o"});
  CHECK(http.sent_routes() == std::vector<std::string>{"HEAD /v1/AUTH_test/plain/o"});
  CHECK(swift_error(
          [&] {
            require_object(client, {"AUTH_test", "plain", "p"});
          },
          &status)
        == "object AUTH_test/plain/p does not exist");
  CHECK(status == 404);
}

TEST_CASE("submit: Submitter queues one pending entry per request", "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/silver", 204, {{"X-Storage-Policy", "silver"}});
  http.answer("HEAD /v1/AUTH_test/silver/o", 200);
  Submitter submitter(client, *q.queue, q.swift_conf);

  const auto first = submitter.submit(Operation::migrate, {"AUTH_test", "silver", "o"});
  const auto second = submitter.submit(Operation::recall, {"AUTH_test", "silver", ""});
  CHECK(first.entry.operation == Operation::migrate);
  CHECK(first.entry.target == queue::Target{"AUTH_test", "silver", "o"});
  CHECK(first.entry.policy_index == 1);
  CHECK(first.entry.submitted.size() == 18);
  CHECK(first.id == queue::encode_entry(first.entry));
  CHECK(second.entry.policy_index == 1);
  CHECK(q.names(queue::Which::pending) == std::vector<std::string>{first.id, second.id});
  // The container's policy is asked once.
  CHECK(http.sent_routes()
        == std::vector<std::string>{"HEAD /v1/AUTH_test/silver", "HEAD /v1/AUTH_test/silver/o"});
}

TEST_CASE("submit: nothing is queued for what the caller cannot see", "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/c", 204);
  Submitter submitter(client, *q.queue, q.swift_conf);
  CHECK_THROWS_AS(submitter.submit(Operation::migrate, {"AUTH_test", "c", "missing"}), SwiftError);
  CHECK_THROWS_AS(submitter.submit(Operation::migrate, {"AUTH_test", "gone", ""}), SwiftError);
  CHECK_THROWS_AS(submitter.submit(Operation::status, {"AUTH_test", "c", ""}), InputError);
  CHECK(q.names(queue::Which::pending).empty());
}

TEST_CASE("submit: a refused container is asked once for its targets in a row", "[ctl]")
{
  QueueFixture q;
  RoutedHttp http;
  auto client = test::preauthenticated_client(http);
  http.answer("HEAD /v1/AUTH_test/c", 204);
  Submitter submitter(client, *q.queue, q.swift_conf);
  for (const char* object : {"a", "b", "c"}) {
    CHECK_THROWS_WITH(submitter.submit(Operation::migrate, {"AUTH_test", "gone", object}),
                      "container AUTH_test/gone does not exist");
  }
  CHECK(http.sent_routes() == std::vector<std::string>{"HEAD /v1/AUTH_test/gone"});
}
