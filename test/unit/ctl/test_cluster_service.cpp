#include "queue_fixture.hpp"
#include "routed_http.hpp"

#include <hlm/config/hlm_conf.hpp>
#include <hlm/ctl/service.hpp>
#include <hlm/dispatch/fanout.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::QueueFixture;
using hlm::test::RoutedHttp;

namespace {

const std::string k_id = "/20261122120000.000/migrate/AUTH_test/c/0/o";

struct Fixture
{
  QueueFixture q;
  RoutedHttp http;
  swift::Client client = test::preauthenticated_client(http);
  config::HlmConf conf;
  dispatch::Fanout fanout{conf, {}};
  std::unique_ptr<Service> service =
    cluster_service(client, conf, q.swift_conf, fanout, *q.queue, "the cluster (a test)");
};

} // namespace

TEST_CASE("cluster service: requests only for what the caller can see", "[ctl]")
{
  Fixture f;
  f.q.submit(k_id);
  const auto count = [&](const queue::Target& target) {
    return f.service->requests(target, [](const RequestLine&) {});
  };
  f.http.answer("HEAD /v1/AUTH_test", 204);
  f.http.answer("HEAD /v1/AUTH_test/c", 204);
  CHECK(count({"AUTH_test", "", ""}) == 1);
  CHECK(count({"AUTH_test", "c", "o"}) == 1);
  CHECK_THROWS_WITH(count({"AUTH_gone", "", ""}), "account AUTH_gone does not exist");
  CHECK_THROWS_WITH(count({"AUTH_test", "d", ""}), "container AUTH_test/d does not exist");
  CHECK(f.http.sent_routes()
        == std::vector<std::string>{"HEAD /v1/AUTH_test",
                                    "HEAD /v1/AUTH_test/c",
                                    "HEAD /v1/AUTH_gone",
                                    "HEAD /v1/AUTH_test/d"});
}

TEST_CASE("cluster service: the queue's own look, and what -v prints", "[ctl]")
{
  Fixture f;
  f.q.submit(k_id);
  const auto found = f.service->look_up({k_id});
  REQUIRE(found.size() == 1);
  CHECK(found[0].which == queue::Which::pending);
  CHECK(f.service->pending_for({"AUTH_test", "c", ""}) == std::vector<std::string>{k_id});
  CHECK(f.service->describe() == "the cluster (a test)");
  // Submitting goes through the Submitter: the container's policy first.
  f.http.answer("HEAD /v1/AUTH_test/c", 204, {{"X-Storage-Policy", "silver"}});
  const auto submitted = f.service->submit(Operation::recall, {"AUTH_test", "c", ""});
  CHECK(submitted.entry.policy_index == 1);
  CHECK(f.q.names(queue::Which::pending).size() == 2);
}
