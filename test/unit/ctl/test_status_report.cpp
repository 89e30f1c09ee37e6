#include "fake_service.hpp"

#include <hlm/ctl/status_report.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::FakeService;

namespace {

const queue::Target k_target{"AUTH_test", "c", ""};

ObjectStatus
object(std::string name,
       ObjectState state,
       std::vector<std::string> errors = {},
       std::vector<std::string> stub_missing_on = {})
{
  return ObjectStatus{std::move(name), state, std::move(errors), std::move(stub_missing_on)};
}

StatusSummary
summary_of(std::size_t objects, std::size_t with_errors)
{
  StatusSummary summary;
  summary.objects = objects;
  summary.with_errors = with_errors;
  return summary;
}

} // namespace

TEST_CASE("status report: exit status from the replica errors", "[ctl]")
{
  CHECK(status_exit(summary_of(0, 0)) == k_exit_success);
  CHECK(status_exit(summary_of(5, 0)) == k_exit_success);
  CHECK(status_exit(summary_of(5, 2)) == k_exit_partial);
  CHECK(status_exit(summary_of(5, 5)) == k_exit_failure);
}

TEST_CASE("status report: summary line names the states that have objects", "[ctl]")
{
  StatusSummary summary;
  CHECK(summary_line(summary) == "0 objects");
  summary.objects = 6;
  summary.per_state[static_cast<std::size_t>(ObjectState::migrated)] = 3;
  summary.per_state[static_cast<std::size_t>(ObjectState::resident)] = 2;
  summary.per_state[static_cast<std::size_t>(ObjectState::unknown)] = 1;
  CHECK(summary_line(summary) == "6 objects: 2 resident, 3 migrated, 1 unknown");
}

TEST_CASE("status report: human lines, stubs, errors once on stderr", "[ctl]")
{
  FakeService service;
  service.objects = {object("/AUTH_test/c/a", ObjectState::resident),
                     object("/AUTH_test/c/b", ObjectState::migrated, {}, {"sdb1", "sdc1"}),
                     object("/AUTH_test/c/c", ObjectState::unknown, {"node 1: refused"}),
                     object("/AUTH_test/c/d", ObjectState::unknown, {"node 1: refused"})};
  std::ostringstream out;
  std::ostringstream err;
  std::vector<std::size_t> answered;
  ErrorLines errors(err);
  const auto summary =
    print_status(service, k_target, StatusFormat{}, out, errors, [&](std::size_t n) {
      answered.push_back(n);
    });
  errors.finish();
  CHECK(out.str()
        == "/AUTH_test/c/a  resident\n"
           "/AUTH_test/c/b  migrated (stub missing on sdb1, sdc1: recall rebuilds it)\n"
           "/AUTH_test/c/c  unknown\n"
           "/AUTH_test/c/d  unknown\n"
           "4 objects: 1 resident, 1 migrated, 2 unknown\n");
  CHECK(err.str()
        == "hlmctl: error: /AUTH_test/c/c: node 1: refused\n"
           "hlmctl: error: node 1: refused (also for 1 more replica)\n");
  CHECK(answered == std::vector<std::size_t>{1, 2, 3, 4});
  CHECK(summary.objects == 4);
  CHECK(status_exit(summary) == k_exit_partial);
}

TEST_CASE("status report: --replicas lines", "[ctl]")
{
  FakeService service;
  service.objects = {object("/AUTH_test/c/a", ObjectState::premigrated),
                     object("/AUTH_test/c/b", ObjectState::migrated, {}, {"sdb2"})};
  service.objects[0].replicas = {{"sdb1", "127.0.0.1", ObjectState::premigrated, false},
                                 {"sdb2", "", ObjectState::migrated, false}};
  service.objects[0].readable = true;
  service.objects[1].replicas = {{"sdb1", "127.0.0.1", ObjectState::migrated, false},
                                 {"sdb3", "127.0.0.3", ObjectState::unknown, true}};
  std::ostringstream out;
  std::ostringstream err;
  ErrorLines errors(err);
  print_status(service, k_target, StatusFormat{false, true}, out, errors, {});
  CHECK(out.str()
        == "/AUTH_test/c/a  premigrated  readable  sdb1@127.0.0.1=premigrated sdb2=migrated\n"
           "/AUTH_test/c/b  migrated  not-readable  sdb1@127.0.0.1=migrated"
           " sdb3@127.0.0.3=error (stub missing on sdb2: recall rebuilds it)\n"
           "2 objects: 1 premigrated, 1 migrated\n");
}

TEST_CASE("status report: the JSON document maps each object to its state", "[ctl]")
{
  FakeService service;
  service.objects = {object("/AUTH_test/c/a", ObjectState::premigrated)};
  service.objects[0].replicas = {{"sdb1", "127.0.0.1", ObjectState::premigrated, false}};
  service.objects[0].readable = true;
  std::ostringstream out;
  std::ostringstream err;
  ErrorLines errors(err);
  print_status(service, k_target, StatusFormat{true, false}, out, errors, {});
  const auto doc = nlohmann::json::parse(out.str());
  CHECK(doc.at("objects") == nlohmann::json{{"/AUTH_test/c/a", "premigrated"}});
}

TEST_CASE("status report: the JSON document with --replicas", "[ctl]")
{
  FakeService service;
  service.objects = {object("/AUTH_test/c/\xc3\xa9", ObjectState::premigrated),
                     object("/AUTH_test/c/b", ObjectState::unknown, {"e1", "e2"}, {"sdb1"})};
  service.objects[0].replicas = {{"sdb1", "127.0.0.1", ObjectState::premigrated, false},
                                 {"sdb2", "127.0.0.2", ObjectState::migrated, false}};
  service.objects[0].readable = true;
  service.objects[1].replicas = {{"sdb1", "", ObjectState::migrated, false},
                                 {"sdb3", "127.0.0.3", ObjectState::unknown, true}};
  std::ostringstream out;
  std::ostringstream err;
  ErrorLines errors(err);
  print_status(service, k_target, StatusFormat{true, true}, out, errors, {});
  errors.finish();
  CHECK(
    out.str()
    == "{\"objects\": {\n"
       "  \"/AUTH_test/c/\xc3\xa9\": {\"state\":\"premigrated\",\"readable\":true,\"replicas\":["
       "{\"device\":\"sdb1\",\"node\":\"127.0.0.1\",\"state\":\"premigrated\"},"
       "{\"device\":\"sdb2\",\"node\":\"127.0.0.2\",\"state\":\"migrated\"}]},\n"
       "  \"/AUTH_test/c/b\": {\"state\":\"unknown\",\"readable\":false,\"replicas\":["
       "{\"device\":\"sdb1\",\"state\":\"migrated\"},"
       "{\"device\":\"sdb3\",\"node\":\"127.0.0.3\",\"state\":\"unknown\",\"error\":true}]}\n"
       "},\n"
       "\"summary\": {\"objects\":2,\"replica_errors\":1,\"states\":{\"migrated\":0,"
       "\"premigrated\":1,\"resident\":0,\"unknown\":1},\"stubs_missing\":1},\n"
       "\"errors\": [{\"error\":\"e1\",\"object\":\"/AUTH_test/c/b\"},"
       "{\"error\":\"e2\",\"object\":\"/AUTH_test/c/b\"}],\n"
       "\"stubs_missing\": [{\"devices\":[\"sdb1\"],\"object\":\"/AUTH_test/c/b\"}]}\n");
  // With --json the errors are in the document only.
  CHECK(err.str().empty());
  CHECK(nlohmann::json::parse(out.str()).at("summary").at("objects") == 2);
}

TEST_CASE("status report: an empty container, and at most 20 errors in the document", "[ctl]")
{
  FakeService service;
  std::ostringstream out;
  std::ostringstream err;
  ErrorLines errors(err);
  print_status(service, k_target, StatusFormat{true, false}, out, errors, {});
  const auto empty = nlohmann::json::parse(out.str());
  CHECK(empty.at("objects").empty());
  CHECK(empty.at("summary").at("objects") == 0);

  for (int i = 0; i < 25; ++i) {
    service.objects.push_back(
      object("/AUTH_test/c/" + std::to_string(i), ObjectState::unknown, {"e"}, {"sdb1"}));
  }
  out.str("");
  print_status(service, k_target, StatusFormat{true, false}, out, errors, {});
  const auto doc = nlohmann::json::parse(out.str());
  CHECK(doc.at("objects").size() == 25);
  CHECK(doc.at("errors").size() == 20);
  CHECK(doc.at("stubs_missing").size() == 20);
  CHECK(doc.at("summary").at("replica_errors") == 25);
  CHECK(doc.at("summary").at("stubs_missing") == 25);
}

TEST_CASE("status report: a refusal leaves stdout empty", "[ctl]")
{
  FakeService service;
  service.refuse_status = true;
  for (const bool json : {false, true}) {
    std::ostringstream out;
    std::ostringstream err;
    ErrorLines errors(err);
    CHECK_THROWS_AS(print_status(service, k_target, StatusFormat{json, false}, out, errors, {}),
                    SwiftError);
    CHECK(out.str().empty());
  }
  std::ostringstream out;
  std::ostringstream err;
  ErrorLines errors(err);
  CHECK_THROWS_AS(print_swifthlm_status(service, k_target, out, errors), SwiftError);
  CHECK(out.str().empty());
}

TEST_CASE("status report: SwiftHLM's one-line map", "[ctl]")
{
  FakeService service;
  std::ostringstream out;
  std::ostringstream err;
  {
    ErrorLines errors(err);
    print_swifthlm_status(service, k_target, out, errors);
  }
  CHECK(out.str() == "{}");

  service.objects = {object("/AUTH_test/c/\xc3\xa9", ObjectState::migrated),
                     object("/AUTH_test/c/b", ObjectState::unknown, {"node 1: refused"}),
                     object("/AUTH_test/c/bad\xff", ObjectState::resident)};
  out.str("");
  {
    ErrorLines errors(err);
    const auto summary = print_swifthlm_status(service, k_target, out, errors);
    CHECK(status_exit(summary) == k_exit_partial);
  }
  // As Python's json.dumps: non-ASCII escaped, ", " and ": " separators;
  // invalid UTF-8 replaced rather than thrown.
  CHECK(out.str()
        == "{\"/AUTH_test/c/\\u00e9\": \"migrated\", \"/AUTH_test/c/b\": \"unknown\", "
           "\"/AUTH_test/c/bad\\ufffd\": \"resident\"}");
  CHECK(err.str() == "hlmctl: error: /AUTH_test/c/b: node 1: refused\n");
}
