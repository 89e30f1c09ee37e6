#include "fake_service.hpp"

#include <hlm/ctl/requests_report.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::FakeService;

namespace {

// 2026-11-22 13:04:05 UTC
constexpr std::int64_t k_now = 1795352645;

RequestLine
line(queue::Which which, std::string id)
{
  RequestLine line;
  line.which = which;
  line.entry = queue::decode_entry(id);
  line.id = std::move(id);
  return line;
}

std::chrono::system_clock::time_point
at(std::int64_t seconds)
{
  return std::chrono::system_clock::time_point{std::chrono::seconds{seconds}};
}

} // namespace

TEST_CASE("requests report: when the next attempt is due", "[ctl]")
{
  CHECK(next_attempt_text(std::nullopt, k_now) == "the next run");
  CHECK(next_attempt_text(k_now, k_now) == "the next run");
  CHECK(next_attempt_text(k_now - 10, k_now) == "the next run");
  CHECK(next_attempt_text(k_now + 55, k_now) == "2026-11-22 13:05:00 UTC (in 55 s)");
}

TEST_CASE("requests report: human lines", "[ctl]")
{
  FakeService service;
  auto failed = line(queue::Which::failed, "/20261122120000.000/recall/AUTH_test/c/0/o");
  failed.reason = "tape library offline";
  auto retrying = line(queue::Which::pending, "/20261122120001.000/migrate/AUTH_test/c/0");
  retrying.retry.attempts = 2;
  retrying.retry.retry_after = k_now + 55;
  retrying.retry.reason = "node 10.0.0.1: timed out";
  retrying.priority = 5;
  auto once = line(queue::Which::pending, "/20261122120002.000/migrate/AUTH_test/c/0/p");
  once.retry.attempts = 1;
  once.priority = 2;
  once.release = 1'795'478'400;
  auto recall = line(queue::Which::pending, "/20261122120003.000/recall/AUTH_test/c/0/q");
  recall.priority = 8;
  recall.days = 7;
  service.lines = {recall, retrying, once, failed};
  std::ostringstream out;
  CHECK(print_requests(service, {"AUTH_test", "c", ""}, false, out, at(k_now)) == 4);
  CHECK(out.str()
        == "pending  recall   AUTH_test/c/q  submitted 20261122120003.000, priority 8, --days 7\n"
           "pending  migrate  AUTH_test/c  submitted 20261122120001.000, priority 5\n"
           "         2 attempts failed, next attempt: 2026-11-22 13:05:00 UTC (in 55 s)\n"
           "         last reason: node 10.0.0.1: timed out\n"
           "pending  migrate  AUTH_test/c/p  submitted 20261122120002.000, priority 2, release of "
           "a restore expiry\n"
           "         1 attempt failed, next attempt: the next run\n"
           "failed   recall   AUTH_test/c/o  submitted 20261122120000.000\n"
           "         reason: tape library offline\n");
}

TEST_CASE("requests report: none", "[ctl]")
{
  FakeService service;
  std::ostringstream out;
  CHECK(print_requests(service, {"AUTH_test", "c", "o"}, false, out, at(k_now)) == 0);
  CHECK(out.str() == "There are no pending or failed requests for AUTH_test/c/o.\n");
  out.str("");
  print_requests(service, {"AUTH_test", "", ""}, false, out, at(k_now));
  CHECK(out.str() == "There are no pending or failed requests for AUTH_test.\n");
  out.str("");
  print_requests(service, {"AUTH_test", "c", ""}, true, out, at(k_now));
  CHECK(
    nlohmann::json::parse(out.str())
    == nlohmann::json{{"pending", nlohmann::json::array()}, {"failed", nlohmann::json::array()}});
}

TEST_CASE("requests report: the JSON document", "[ctl]")
{
  FakeService service;
  auto failed = line(queue::Which::failed, "/20261122120000.000/recall/AUTH_test/c/1/o");
  auto retrying = line(queue::Which::pending, "/20261122120001.000/migrate/AUTH_test/c/0");
  retrying.retry.attempts = 1;
  retrying.retry.retry_after = k_now + 55;
  retrying.retry.reason = "r";
  auto high = line(queue::Which::pending, "/20261122120003.000/recall/AUTH_test/c/0/q");
  high.priority = 8;
  service.lines = {high, retrying, failed};
  std::ostringstream out;
  print_requests(service, {"AUTH_test", "c", ""}, true, out, at(k_now));
  const auto doc = nlohmann::json::parse(out.str());
  REQUIRE(doc.at("pending").size() == 2);
  CHECK(doc.at("pending").at(0)
        == nlohmann::json{{"id", "/20261122120003.000/recall/AUTH_test/c/0/q"},
                          {"operation", "recall"},
                          {"target", "AUTH_test/c/q"},
                          {"policy_index", 0},
                          {"submitted", "20261122120003.000"},
                          {"attempts", 0},
                          {"priority", 8},
                          {"retry_after", nullptr},
                          {"reason", nullptr}});
  CHECK(doc.at("pending").at(1).at("attempts") == 1);
  CHECK(doc.at("pending").at(1).at("retry_after") == k_now + 55);
  CHECK(doc.at("pending").at(1).at("reason") == "r");
  REQUIRE(doc.at("failed").size() == 1);
  // A failed entry without a stored reason says "".
  CHECK(doc.at("failed").at(0)
        == nlohmann::json{{"id", "/20261122120000.000/recall/AUTH_test/c/1/o"},
                          {"operation", "recall"},
                          {"target", "AUTH_test/c/o"},
                          {"policy_index", 1},
                          {"submitted", "20261122120000.000"},
                          {"reason", ""}});
}

TEST_CASE("requests report: SwiftHLM's list", "[ctl]")
{
  FakeService service;
  std::ostringstream out;
  print_swifthlm_requests(service, {"AUTH_test", "c", ""}, out);
  CHECK(out.str() == "[\"There are no pending or failed SwiftHLM requests.\"]");

  service.lines = {line(queue::Which::pending, "/20261122120003.000/recall/AUTH_test/c/0/\xc3\xa9"),
                   line(queue::Which::failed, "/20261122120000.000/migrate/AUTH_test/c/0")};
  out.str("");
  print_swifthlm_requests(service, {"AUTH_test", "c", ""}, out);
  CHECK(out.str()
        == "[\"/20261122120003.000/recall/AUTH_test/c/0/\\u00e9--pending\", "
           "\"/20261122120000.000/migrate/AUTH_test/c/0--failed\"]");
}

TEST_CASE("requests report: a list request with its progress", "[ctl]")
{
  FakeService service;
  const std::string id =
    "/20261122120003.000/recall/AUTH_test/c/0/20261122120003.000-0123456789abcdef";
  auto list = line(queue::Which::pending, id);
  list.is_list = true;
  list.list = queue::ListProgress{100'000, 20'000, 3};
  service.lines = {list};
  std::ostringstream out;
  CHECK(print_requests(service, {"AUTH_test", "c", ""}, false, out, at(k_now)) == 1);
  CHECK(out.str()
        == "pending  recall   AUTH_test/c  list 20261122120003.000-0123456789abcdef  submitted "
           "20261122120003.000, priority 0\n"
           "         20000 of 100000 objects done, 3 failed\n");
  out.str("");
  print_requests(service, {"AUTH_test", "c", ""}, true, out, at(k_now));
  const auto item = nlohmann::json::parse(out.str()).at("pending").at(0);
  CHECK(item.at("id") == id);
  CHECK(item.at("target") == "AUTH_test/c");
  CHECK(item.at("list") == "20261122120003.000-0123456789abcdef");
  CHECK(item.at("objects") == 100'000);
  CHECK(item.at("objects_done") == 20'000);
  CHECK(item.at("objects_failed") == 3);
}
