#include "scripted_http.hpp"

#include <hlm/swift/retry.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

using namespace hlm::swift;
using hlm::test::Drop;
using hlm::test::ScriptedHttp;
using namespace std::chrono_literals;

namespace {

struct Recorder
{
  std::vector<std::chrono::milliseconds> waits;

  RetryPolicy
  policy(int max_retries = 3)
  {
    RetryPolicy policy;
    policy.max_retries = max_retries;
    policy.sleep = [this](std::chrono::milliseconds d) { waits.push_back(d); };
    return policy;
  }
};

HttpRequest
request()
{
  HttpRequest r;
  r.url = "http://swift/v1/AUTH_test/c";
  return r;
}

} // namespace

TEST_CASE("retry_delay doubles from first_delay up to max_delay", "[swift]")
{
  RetryPolicy policy;
  CHECK(retry_delay(policy, 0) == 500ms);
  CHECK(retry_delay(policy, 1) == 1000ms);
  CHECK(retry_delay(policy, 2) == 2000ms);
  policy.max_delay = 3s;
  CHECK(retry_delay(policy, 3) == 3s);
  CHECK(retry_delay(policy, 60) == 3s);
}

TEST_CASE("only 5xx statuses are retryable", "[swift]")
{
  CHECK(is_retryable_status(500));
  CHECK(is_retryable_status(503));
  CHECK(is_retryable_status(507));
  CHECK_FALSE(is_retryable_status(200));
  CHECK_FALSE(is_retryable_status(401));
  CHECK_FALSE(is_retryable_status(404));
  CHECK_FALSE(is_retryable_status(499));
}

TEST_CASE("send_with_retry retries 503 then succeeds", "[swift]")
{
  Recorder recorder;
  ScriptedHttp http({503, 503, 200});
  const auto response = send_with_retry(http, request(), recorder.policy());
  CHECK(response.status == 200);
  CHECK(http.sent().size() == 3);
  CHECK(recorder.waits == std::vector<std::chrono::milliseconds>{500ms, 1000ms});
}

TEST_CASE("send_with_retry returns the last 5xx when retries run out", "[swift]")
{
  Recorder recorder;
  ScriptedHttp http({500, 502, 503, 504});
  CHECK(send_with_retry(http, request(), recorder.policy()).status == 504);
  CHECK(http.sent().size() == 4);
  CHECK(recorder.waits == std::vector<std::chrono::milliseconds>{500ms, 1000ms, 2000ms});
}

TEST_CASE("send_with_retry never retries 4xx", "[swift]")
{
  for (const int status : {400, 401, 403, 404, 409, 412}) {
    Recorder recorder;
    ScriptedHttp http({status, 200});
    CHECK(send_with_retry(http, request(), recorder.policy()).status == status);
    CHECK(http.sent().size() == 1);
    CHECK(recorder.waits.empty());
  }
}

TEST_CASE("send_with_retry retries transient transport errors only", "[swift]")
{
  SECTION("transient, then success")
  {
    Recorder recorder;
    ScriptedHttp http({Drop{}, Drop{}, 201});
    CHECK(send_with_retry(http, request(), recorder.policy()).status == 201);
    CHECK(recorder.waits.size() == 2);
  }
  SECTION("transient every time")
  {
    Recorder recorder;
    ScriptedHttp http({Drop{}, Drop{}, Drop{}, Drop{}});
    try {
      send_with_retry(http, request(), recorder.policy());
      FAIL("no exception");
    } catch (const hlm::TransportError& e) {
      CHECK(e.transient());
      CHECK_THAT(std::string(e.what()), Catch::EndsWith("(gave up after 4 attempts)"));
    }
    CHECK(http.sent().size() == 4);
  }
  SECTION("not transient")
  {
    Recorder recorder;
    ScriptedHttp http({Drop{false}, 200});
    CHECK_THROWS_AS(send_with_retry(http, request(), recorder.policy()), hlm::TransportError);
    CHECK(http.sent().size() == 1);
    CHECK(recorder.waits.empty());
  }
  SECTION("no retries configured")
  {
    Recorder recorder;
    ScriptedHttp http({Drop{}, 200});
    CHECK_THROWS_WITH(send_with_retry(http, request(), recorder.policy(0)),
                      !Catch::Contains("gave up"));
    CHECK(http.sent().size() == 1);
  }
}
