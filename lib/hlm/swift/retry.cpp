#include <hlm/swift/retry.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace hlm::swift {

std::chrono::milliseconds
retry_delay(const RetryPolicy& policy, int retry)
{
  auto delay = policy.first_delay;
  for (int i = 0; i < retry && delay < policy.max_delay; ++i) {
    delay *= 2;
  }
  return std::min(delay, policy.max_delay);
}

bool
is_retryable_status(int status)
{
  return status >= 500 && status <= 599;
}

HttpResponse
send_with_retry(HttpClient& http, const HttpRequest& request, const RetryPolicy& policy)
{
  const int attempts = std::max(0, policy.max_retries) + 1;
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt == attempts;
    try {
      HttpResponse response = http.send(request);
      if (last || !is_retryable_status(response.status)) {
        return response;
      }
    } catch (const TransportError& e) {
      if (!e.transient()) {
        throw;
      }
      if (last) {
        if (attempts == 1) {
          throw;
        }
        throw TransportError(fmt::format("{} (gave up after {} attempts)", e.what(), attempts),
                             true);
      }
    }
    const auto delay = retry_delay(policy, attempt - 1);
    if (policy.sleep) {
      policy.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
  }
}

} // namespace hlm::swift
