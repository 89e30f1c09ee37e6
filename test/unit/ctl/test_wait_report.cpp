#include <hlm/ctl/wait_report.hpp>
#include <hlm/util/exit_status.hpp>

#include <catch2/catch.hpp>

#include <sstream>

using namespace hlm;
using namespace hlm::ctl;

TEST_CASE("wait report: ids once, in the order first named", "[ctl]")
{
  CHECK(unique_ids({"/b", "/a", "/b", "/c", "/a"}) == std::vector<std::string>{"/b", "/a", "/c"});
  CHECK(unique_ids({}).empty());
}

TEST_CASE("wait report: progress text", "[ctl]")
{
  CHECK(wait_progress_text({3, 2, 0, 1, {}}) == "2 of 3 requests pending, 1 failed");
  CHECK(wait_progress_text({3, 2, 0, 1, {}, 100'000, 20'000})
        == "2 of 3 requests pending (lists: 20000 of 100000 objects done), 1 failed");
  CHECK(wait_progress_text({3, 2, 1, 0, {}})
        == "2 of 3 requests pending (1 to be retried), 0 failed");
}

TEST_CASE("wait report: exit status and human lines", "[ctl]")
{
  std::ostringstream out;
  std::ostringstream err;
  WaitResult result;
  result.done = 3;
  CHECK(report_wait(result, 3, std::nullopt, false, out, err) == k_exit_success);
  CHECK(out.str() == "3 requests: 3 done, 0 failed, 0 still pending\n");
  CHECK(err.str().empty());

  out.str("");
  result.done = 1;
  result.failed = {{"/a", "tape offline"}, {"/b", ""}};
  CHECK(report_wait(result, 3, std::nullopt, false, out, err) == k_exit_partial);
  CHECK(out.str()
        == "3 requests: 1 done, 2 failed, 0 still pending\n"
           "failed /a\n  reason: tape offline\n"
           "failed /b\n  reason: (none recorded)\n");

  out.str("");
  result.failed.clear();
  result.pending = {"/b", "/c"};
  result.timed_out = true;
  CHECK(report_wait(result, 3, 2.5, false, out, err) == k_exit_failure);
  CHECK(out.str() == "3 requests: 1 done, 0 failed, 2 still pending\n");
  CHECK(err.str() == "hlmctl: error: timed out after 2.5 s with 2 requests pending\n");

  // An interrupt wins over the timeout, and says nothing more.
  out.str("");
  err.str("");
  result.interrupted = true;
  CHECK(report_wait(result, 3, 2.0, false, out, err) == k_exit_interrupted);
  CHECK(err.str().empty());
}

TEST_CASE("wait report: the JSON document, printed or handed back", "[ctl]")
{
  WaitResult result;
  result.done = 1;
  result.failed = {{"/a", "r"}};
  result.pending = {"/c"};
  result.timed_out = true;
  const nlohmann::json expected{{"requests", 3},
                                {"done", 1},
                                {"failed", {{{"id", "/a"}, {"reason", "r"}}}},
                                {"pending", {"/c"}},
                                {"timed_out", true}};
  std::ostringstream out;
  std::ostringstream err;
  CHECK(report_wait(result, 3, 2.0, true, out, err) == k_exit_failure);
  CHECK(nlohmann::json::parse(out.str()) == expected);
  CHECK(err.str() == "hlmctl: error: timed out after 2 s with 1 requests pending\n");

  out.str("");
  nlohmann::json doc;
  report_wait(result, 3, 2.0, true, out, err, &doc);
  CHECK(out.str().empty());
  CHECK(doc == expected);
}
