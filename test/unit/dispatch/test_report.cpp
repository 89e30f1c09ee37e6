#include <hlm/dispatch/report.hpp>
#include <hlm/util/exit_status.hpp>

#include <catch2/catch.hpp>

using hlm::dispatch::DispatchReport;

TEST_CASE("report: text, JSON and the exit status of a run", "[dispatch]")
{
  DispatchReport report;
  report.entries = 1;
  report.completed = 1;
  report.objects = 1;
  CHECK(hlm::dispatch::to_text(report)
        == "1 entry: 1 completed, 0 failed, 0 undecodable, 0 to retry, 0 deferred; 1 object");
  CHECK(
    hlm::dispatch::to_json(report).dump()
    == R"({"cancelled":0,"completed":1,"deferred":0,"entries":1,"failed":0,"objects":1,"retrying":0,"undecodable":0})");
  report.cancelled = 1;
  CHECK(hlm::dispatch::to_text(report)
        == "1 entry: 1 completed, 0 failed, 0 undecodable, 0 to retry, 0 deferred, 1 cancelled; 1 "
           "object");
  CHECK(hlm::dispatch::exit_status_of(report) == hlm::k_exit_success);
  report.cancelled = 0;
  CHECK(hlm::dispatch::exit_status_of(report) == hlm::k_exit_success);

  // Deferred alone needs no attention; a retry, a failure or a parked entry does.
  report.deferred = 2;
  CHECK(report.settled() == 3);
  CHECK_FALSE(hlm::dispatch::needs_attention(report));
  for (auto DispatchReport::*field :
       {&DispatchReport::failed, &DispatchReport::undecodable, &DispatchReport::retrying}) {
    auto failed = report;
    failed.*field = 1;
    CHECK(hlm::dispatch::needs_attention(failed));
    CHECK(hlm::dispatch::exit_status_of(failed) == hlm::k_exit_partial);
  }
}
