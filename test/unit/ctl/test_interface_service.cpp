#include "routed_http.hpp"

#include <hlm/ctl/service.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::RoutedHttp;

namespace {

const std::string k_id = "/20261122120000.000/migrate/AUTH_test/c/1/o";
const std::string k_recall = "/20261122120001.000/recall/AUTH_test/c/0";

struct Fixture
{
  RoutedHttp http;
  swift::Client client = test::preauthenticated_client(http);
  std::unique_ptr<Service> service = interface_service(client);

  void
  answer(const std::string& route, const nlohmann::json& doc)
  {
    http.answer(route, 200, {{"Content-Type", "application/json"}}, doc.dump());
  }
};

std::string
swift_error(const std::function<void()>& call, int& status)
{
  try {
    call();
  } catch (const SwiftError& e) {
    status = e.http_status();
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("interface service: submit asks the proxy and reads the id", "[ctl]")
{
  Fixture f;
  f.answer("POST /hlm/v1/migrate/AUTH_test/c/o",
           {{"requests", {{{"target", "AUTH_test/c/o"}, {"operation", "migrate"}, {"id", k_id}}}}});
  const auto submitted = f.service->submit(Operation::migrate, {"AUTH_test", "c", "o"});
  CHECK(submitted.id == k_id);
  CHECK(submitted.entry == queue::decode_entry(k_id));
  REQUIRE(f.http.sent.size() == 1);
  CHECK(swift::find_header(f.http.sent[0].headers, "Accept") == "application/json");
  CHECK(swift::find_header(f.http.sent[0].headers, "X-Auth-Token") == "AUTH_tk_secret");

  // An answer hlmctl does not understand is an error, never a guess.
  f.answer("POST /hlm/v1/recall/AUTH_test/c", {{"requests", nlohmann::json::array()}});
  CHECK_THROWS_WITH(f.service->submit(Operation::recall, {"AUTH_test", "c", ""}),
                    Catch::StartsWith("recall AUTH_test/c: the HTTP interface's answer is not what "
                                      "hlmctl expects: "));
  f.answer("POST /hlm/v1/recall/AUTH_test/c", {{"requests", {{{"id", "not an id"}}}}});
  CHECK_THROWS_AS(f.service->submit(Operation::recall, {"AUTH_test", "c", ""}), Error);
  f.http.answer("POST /hlm/v1/recall/AUTH_test/c", 200, {}, "not json");
  CHECK_THROWS_AS(f.service->submit(Operation::recall, {"AUTH_test", "c", ""}), Error);
}

TEST_CASE("interface service: status reads hlmctl status --json's document", "[ctl]")
{
  Fixture f;
  f.answer("GET /hlm/v1/status/AUTH_test/c",
           {{"objects",
             {{"/AUTH_test/c/a", "migrated"},
              {"/AUTH_test/c/b",
               {{"state", "unknown"},
                {"readable", true},
                {"replicas",
                 {{{"device", "sdb1"}, {"node", "10.0.0.1"}, {"state", "premigrated"}},
                  {{"device", "sdb2"}, {"state", "unknown"}, {"error", true}}}}}},
              {"/AUTH_test/c/z", "odd"}}},
            {"summary",
             {{"objects", 3},
              {"states", {{"resident", 0}, {"premigrated", 0}, {"migrated", 1}, {"unknown", 2}}},
              {"replica_errors", 1},
              {"stubs_missing", 1}}},
            {"errors",
             {{{"object", "/AUTH_test/c/b"}, {"error", "e1"}},
              {{"object", "/AUTH_test/c/b"}, {"error", "e2"}}}},
            {"stubs_missing", {{{"object", "/AUTH_test/c/a"}, {"devices", {"sdb1"}}}}}});
  std::vector<ObjectStatus> objects;
  const auto summary = f.service->status(
    {"AUTH_test", "c", ""},
    true,
    [&](const ObjectStatus& object) { objects.push_back(object); });
  CHECK(swift::find_header(f.http.sent.back().headers, "X-HLM-Replicas") == "yes");
  REQUIRE(objects.size() == 3);
  CHECK(objects[0].object == "/AUTH_test/c/a");
  CHECK(objects[0].state == ObjectState::migrated);
  CHECK(objects[0].stub_missing_on == std::vector<std::string>{"sdb1"});
  CHECK(objects[0].replicas.empty()); // the bare state of an hlm without replicas
  CHECK(objects[1].errors == std::vector<std::string>{"e1", "e2"});
  CHECK(objects[1].state == ObjectState::unknown);
  CHECK(objects[1].readable);
  CHECK(objects[1].replicas
        == std::vector<ReplicaStatus>{{"sdb1", "10.0.0.1", ObjectState::premigrated, false},
                                      {"sdb2", "", ObjectState::unknown, true}});
  CHECK(objects[2].state == ObjectState::unknown); // a state hlmctl does not know
  CHECK(summary.objects == 3);
  CHECK(summary.per_state[static_cast<std::size_t>(ObjectState::migrated)] == 1);
  CHECK(summary.per_state[static_cast<std::size_t>(ObjectState::unknown)] == 2);
  CHECK(summary.with_errors == 1);
  CHECK(summary.with_stub_missing == 1);

  f.answer("GET /hlm/v1/status/AUTH_test/d", {{"objects", nlohmann::json::object()}});
  CHECK_THROWS_AS(f.service->status({"AUTH_test", "d", ""}, false, [](const ObjectStatus&) {}),
                  Error);
  CHECK_FALSE(swift::find_header(f.http.sent.back().headers, "X-HLM-Replicas"));
}

TEST_CASE("interface service: requests, look_up and pending_for", "[ctl]")
{
  Fixture f;
  f.answer(
    "GET /hlm/v1/requests/AUTH_test/c",
    {{"pending",
      {{{"id", k_recall}, {"attempts", 2}, {"retry_after", 1795352700}, {"reason", "timed out"}},
       {{"id", k_id}, {"attempts", 0}, {"retry_after", nullptr}, {"reason", nullptr}}}},
     {"failed", {{{"id", k_id}, {"reason", "crashed"}}}}});
  std::vector<RequestLine> lines;
  CHECK(f.service->requests({"AUTH_test", "c", ""}, [&](const RequestLine& line) {
    lines.push_back(line);
  }) == 3);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].which == queue::Which::pending);
  CHECK(lines[0].entry == queue::decode_entry(k_recall));
  CHECK(lines[0].retry == queue::RetryState{2, 1795352700, "timed out"});
  CHECK(lines[1].retry == queue::RetryState{});
  CHECK(lines[2].which == queue::Which::failed);
  CHECK(lines[2].reason == "crashed");

  // One question per target the ids name; pending wins over failed.
  f.answer(
    "GET /hlm/v1/requests/AUTH_test/c/o",
    {{"pending", nlohmann::json::array()}, {"failed", {{{"id", k_id}, {"reason", "crashed"}}}}});
  f.http.sent.clear();
  const auto found = f.service->look_up({k_id, k_recall});
  CHECK(f.http.sent_routes()
        == std::vector<std::string>{"GET /hlm/v1/requests/AUTH_test/c",
                                    "GET /hlm/v1/requests/AUTH_test/c/o"});
  REQUIRE(found.size() == 2);
  CHECK((found[0].id == k_recall && found[0].which == queue::Which::pending
         && found[0].retry.attempts == 2));
  CHECK((found[1].id == k_id && found[1].which == queue::Which::pending));

  // Only failed: failed, with its reason.
  f.answer(
    "GET /hlm/v1/requests/AUTH_test/c",
    {{"pending", nlohmann::json::array()}, {"failed", {{{"id", k_id}, {"reason", "crashed"}}}}});
  const auto failed = f.service->look_up({k_id});
  REQUIRE(failed.size() == 1);
  CHECK((failed[0].which == queue::Which::failed && failed[0].reason == "crashed"));
  f.answer("GET /hlm/v1/requests/AUTH_test/c",
           {{"pending",
             {{{"id", k_recall}, {"attempts", 0}, {"retry_after", nullptr}, {"reason", nullptr}},
              {{"id", k_id}, {"attempts", 0}, {"retry_after", nullptr}, {"reason", nullptr}}}},
            {"failed", nlohmann::json::array()}});

  CHECK(f.service->pending_for({"AUTH_test", "c", ""}) == std::vector<std::string>{k_recall, k_id});
}

TEST_CASE("interface service: refusals are SwiftErrors with the proxy's status", "[ctl]")
{
  Fixture f;
  int status = 0;
  f.http.answer("GET /hlm/v1/requests/AUTH_test/c",
                404,
                {},
                R"({"error": "container AUTH_test/c does not exist"})");
  CHECK(swift_error(
          [&] {
            f.service->pending_for({"AUTH_test", "c", ""});
          },
          status)
        == "container AUTH_test/c does not exist");
  CHECK(status == 404);
  f.http.answer("GET /hlm/v1/requests/AUTH_test/secret", 403, {}, "<html>Forbidden</html>");
  CHECK(swift_error(
          [&] {
            f.service->pending_for({"AUTH_test", "secret", ""});
          },
          status)
        == "requests AUTH_test/secret: HTTP 403 Forbidden (the proxy refused the caller)");
  CHECK(status == 403);
  // No route: a proxy without hlm's interface answers 404 and no document.
  CHECK_THAT(swift_error(
               [&] {
                 f.service->pending_for({"AUTH_test", "plain", ""});
               },
               status),
             Catch::Contains("does not seem to answer hlm's HTTP interface"));
  CHECK(status == 404);
}

TEST_CASE("interface service: describe names the interface's URL", "[ctl]")
{
  Fixture f;
  CHECK(f.service->describe() == "the proxy's HTTP interface at http://proxy:8080/hlm/v1");
}

TEST_CASE("interface service: cancel, retry and forget ask the proxy and read its document",
          "[ctl]")
{
  Fixture f;
  f.answer("DELETE /hlm/v1/requests/AUTH_test/c",
           {{"requests",
             {{{"given", k_recall},
               {"id", k_recall},
               {"target", "AUTH_test/c"},
               {"done", "cancelled"}}}}});
  f.answer("POST /hlm/v1/retry/AUTH_test/c/o",
           {{"requests",
             {{{"given", "AUTH_test/c/o"},
               {"id", k_id},
               {"target", "AUTH_test/c/o"},
               {"done", "retried"},
               {"requeued", {{"outcome", "already_queued"}, {"id", k_recall}}}}}}});
  f.http.answer("POST /hlm/v1/forget/AUTH_test/d", 403);
  RequestName by_id{k_recall, k_recall, std::nullopt};
  RequestName by_target{"AUTH_test/c/o", std::nullopt, queue::Target{"AUTH_test", "c", "o"}};
  auto results = f.service->manage(Service::Manage::cancel, {by_id});
  REQUIRE(results.size() == 1);
  CHECK(results[0].done == "cancelled");
  CHECK(results[0].id == k_recall);
  // An id goes on its container's path, in X-HLM-Request-Id.
  CHECK(swift::find_header(f.http.sent.back().headers, "X-HLM-Request-Id") == k_recall);
  results = f.service->manage(Service::Manage::retry, {by_target});
  REQUIRE(results.size() == 1);
  REQUIRE(results[0].requeued);
  CHECK(results[0].requeued->outcome == SubmitOutcome::already_queued);
  CHECK(results[0].requeued->id == k_recall);
  RequestName refused{"AUTH_test/d", std::nullopt, queue::Target{"AUTH_test", "d", ""}};
  results = f.service->manage(Service::Manage::forget, {refused});
  REQUIRE(results.size() == 1);
  CHECK(results[0].http_status == 403);
  CHECK(results[0].error);
}

TEST_CASE("interface service: --priority and --copies ride in headers", "[ctl]")
{
  Fixture f;
  f.answer(
    "POST /hlm/v1/recall/AUTH_test/c/o",
    {{"requests", {{{"target", "AUTH_test/c/o"}, {"operation", "recall"}, {"id", k_recall}}}}});
  f.answer("POST /hlm/v1/migrate/AUTH_test/c/o",
           {{"requests", {{{"target", "AUTH_test/c/o"}, {"operation", "migrate"}, {"id", k_id}}}}});
  f.service->set_priority(2);
  f.service->set_recall_copies(queue::k_all_copies);
  f.service->submit(Operation::recall, {"AUTH_test", "c", "o"});
  CHECK(swift::find_header(f.http.sent.back().headers, "X-HLM-Priority") == "2");
  CHECK(swift::find_header(f.http.sent.back().headers, "X-HLM-Copies") == "all");
  f.service->submit(Operation::migrate, {"AUTH_test", "c", "o"});
  CHECK(swift::find_header(f.http.sent.back().headers, "X-HLM-Priority") == "2");
  CHECK_FALSE(swift::find_header(f.http.sent.back().headers, "X-HLM-Copies"));
}
