#include "fake_service.hpp"

#include <hlm/ctl/submit_report.hpp>
#include <hlm/util/exit_status.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sstream>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::FakeService;

namespace {

Submitted
refused(Operation /*operation*/, const queue::Target& target)
{
  throw SwiftError("container " + target.account + "/" + target.container + " does not exist", 404);
}

Submitted
partly_queued(Operation /*operation*/, const queue::Target& /*target*/)
{
  throw queue::PartlyQueued("1 of 3 container servers accepted, 2 needed",
                            "/20261122120000.000/migrate/AUTH_test/p/2/o");
}

} // namespace

TEST_CASE("submit report: every target queued", "[ctl]")
{
  FakeService service;
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<queue::Target> targets{{"AUTH_test", "c", "o"}, {"AUTH_test", "d", ""}};
  const auto report = submit_targets(service, Operation::recall, targets, false, out, err);
  CHECK(service.submitted_targets == targets);
  CHECK(report.ids == std::vector<std::string>{"/1/AUTH_test/c/o", "/2/AUTH_test/d"});
  CHECK(report.status == k_exit_success);
  CHECK(out.str()
        == "queued recall AUTH_test/c/o: /1/AUTH_test/c/o\n"
           "queued recall AUTH_test/d: /2/AUTH_test/d\n");
  CHECK(err.str().empty());
  CHECK(report.document
        == nlohmann::json{{"requests",
                           {{{"target", "AUTH_test/c/o"},
                             {"operation", "recall"},
                             {"policy_index", 0},
                             {"id", "/1/AUTH_test/c/o"},
                             {"outcome", "queued"}},
                            {{"target", "AUTH_test/d"},
                             {"operation", "recall"},
                             {"policy_index", 0},
                             {"id", "/2/AUTH_test/d"},
                             {"outcome", "queued"}}}}});
}

TEST_CASE("submit report: a refused target does not stop the others", "[ctl]")
{
  FakeService service;
  service.submits["AUTH_test/gone"] = refused;
  service.submits["AUTH_test/p/o"] = partly_queued;
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<queue::Target> targets{{"AUTH_test", "gone", ""},
                                           {"AUTH_test", "p", "o"},
                                           {"AUTH_test", "c", ""}};
  const auto report = submit_targets(service, Operation::migrate, targets, true, out, err);
  CHECK(report.status == k_exit_partial);
  // Partly queued counts as queued: it will run.
  CHECK(
    report.ids
    == std::vector<std::string>{"/20261122120000.000/migrate/AUTH_test/p/2/o", "/3/AUTH_test/c"});
  CHECK(out.str().empty()); // --json: the caller prints the document
  CHECK(err.str()
        == "hlmctl: error: AUTH_test/gone: container AUTH_test/gone does not exist\n"
           "hlmctl: warning: AUTH_test/p/o: 1 of 3 container servers accepted, 2 needed\n");
  const auto& requests = report.document.at("requests");
  REQUIRE(requests.size() == 3);
  CHECK(requests.at(0)
        == nlohmann::json{{"target", "AUTH_test/gone"},
                          {"operation", "migrate"},
                          {"error", "container AUTH_test/gone does not exist"},
                          {"http_status", 404}});
  CHECK(requests.at(1)
        == nlohmann::json{{"target", "AUTH_test/p/o"},
                          {"operation", "migrate"},
                          {"policy_index", 2},
                          {"id", "/20261122120000.000/migrate/AUTH_test/p/2/o"},
                          {"warning", "1 of 3 container servers accepted, 2 needed"}});
  CHECK(requests.at(2).at("id") == "/3/AUTH_test/c");
}

TEST_CASE("submit report: every target refused", "[ctl]")
{
  FakeService service;
  service.submits["AUTH_test/a"] = refused;
  service.submits["AUTH_test/b"] = refused;
  std::ostringstream out;
  std::ostringstream err;
  const auto report = submit_targets(service,
                                     Operation::migrate,
                                     {{"AUTH_test", "a", ""}, {"AUTH_test", "b", ""}},
                                     false,
                                     out,
                                     err);
  CHECK(report.status == k_exit_failure);
  CHECK(report.ids.empty());
  CHECK(out.str().empty());
}

TEST_CASE("submit report: other errors stop the command", "[ctl]")
{
  FakeService service;
  service.submits["AUTH_test/a"] = [](Operation, const queue::Target&) -> Submitted {
    throw TransportError("not queued: 0 of 3 container servers accepted", true);
  };
  std::ostringstream out;
  std::ostringstream err;
  CHECK_THROWS_AS(submit_targets(service,
                                 Operation::migrate,
                                 {{"AUTH_test", "a", ""}, {"AUTH_test", "b", ""}},
                                 false,
                                 out,
                                 err),
                  TransportError);
  CHECK(service.submitted_targets.size() == 1);
}

namespace {

queue::Target
as_is(queue::Target target)
{
  return target;
}

} // namespace

TEST_CASE("submit report: a list's bad lines, refusals and duplicates, each summed up", "[ctl]")
{
  FakeService service;
  service.submits["AUTH_test/gone/o"] = refused;
  std::string text = "AUTH_test/c/o2\nAUTH_test/c/o1\nAUTH_test/gone/o\nAUTH_test/c/o1\n";
  for (int i = 0; i < 30; ++i) {
    text += "bad//\n";
  }
  std::istringstream in(text);
  TargetList list;
  list.read({}, {"-"}, in, as_is);
  std::ostringstream out;
  std::ostringstream err;
  const auto report = submit_list(service, Operation::migrate, list, true, true, out, err);
  // Sorted, once each; nothing for the bad lines.
  CHECK(service.submitted_targets
        == std::vector<queue::Target>{{"AUTH_test", "c", "o1"},
                                      {"AUTH_test", "c", "o2"},
                                      {"AUTH_test", "gone", "o"}});
  CHECK(report.status == k_exit_partial);
  CHECK(report.queued == 2);
  CHECK(report.refused == 1);
  CHECK(report.duplicates == 1);
  CHECK(report.ids.size() == 2);
  const auto messages = err.str();
  CHECK_THAT(
    messages,
    Catch::StartsWith("hlmctl: error: standard input line 5: ")
      && Catch::Contains("hlmctl: error: 30 bad lines in standard input, not queued; "
                         "first 20 shown\n")
      && Catch::Contains("hlmctl: error: standard input line 3: AUTH_test/gone/o: "
                         "container AUTH_test/gone does not exist\n")
      && Catch::EndsWith("hlmctl: 1 duplicate target skipped (each target is queued once)\n"));
  CHECK(report.document.at("requests").size() == 3);
  CHECK(report.document.at("bad_lines") == 30);
  CHECK(report.document.at("bad_lines_shown").size() == 20);
  CHECK(report.document.at("bad_lines_shown").at(0)
        == nlohmann::json{{"list", "standard input"},
                          {"line", 5},
                          {"error", list.shown_bad_lines()[0].reason}});
  CHECK(report.document.at("duplicates") == 1);
}

TEST_CASE("submit report: refusals past the first 20 are counted, not printed", "[ctl]")
{
  FakeService service;
  std::string text;
  for (int i = 0; i < 10000; ++i) {
    const auto name = fmt::format("AUTH_test/gone/o{:05d}", i);
    service.submits[name] = refused;
    text += name + "\n";
  }
  std::istringstream in(text);
  TargetList list;
  list.read({}, {"-"}, in, as_is);
  std::ostringstream out;
  std::ostringstream err;
  const auto report = submit_list(service, Operation::recall, list, false, false, out, err);
  CHECK(report.status == k_exit_failure);
  CHECK(report.refused == 10000);
  CHECK(report.document.at("requests").empty()); // no document without --json
  const auto messages = err.str();
  CHECK(std::count(messages.begin(), messages.end(), '\n') == 21);
  CHECK_THAT(messages,
             Catch::StartsWith("hlmctl: error: standard input line 1: AUTH_test/gone/o00000: ")
               && Catch::EndsWith("hlmctl: error: 10000 targets not queued; first 20 shown\n"));
}

TEST_CASE("submit report: a list of bad lines only queues nothing, a usage error", "[ctl]")
{
  FakeService service;
  std::istringstream in("a//\nb//\n");
  TargetList list;
  list.read({}, {"-"}, in, as_is);
  std::ostringstream out;
  std::ostringstream err;
  const auto report = submit_list(service, Operation::migrate, list, false, true, out, err);
  CHECK(report.status == k_exit_usage);
  CHECK(service.submitted_targets.empty());
  CHECK(out.str().empty());
  CHECK_THAT(err.str(), Catch::EndsWith("2 bad lines in standard input, not queued\n"));
}
