#pragma once

#include <hlm/swift/http.hpp>

#include <chrono>
#include <functional>

namespace hlm::swift {

// When and how often a request is tried again.
struct RetryPolicy
{
  // Retries after the first attempt; 0 never retries.
  int max_retries = 3;
  // Wait before the first retry; each further wait doubles, up to
  // max_delay (0.5 s, 1 s, 2 s by default).
  std::chrono::milliseconds first_delay{500};
  std::chrono::milliseconds max_delay{30'000};
  // How to wait; empty means std::this_thread::sleep_for. Tests inject a
  // recorder so that they never sleep.
  std::function<void(std::chrono::milliseconds)> sleep;
};

// The wait before retry number `retry` (0 for the first retry).
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int retry);

// True for statuses worth retrying: 5xx. Never a 4xx.
bool is_retryable_status(int status);

// Sends `request`, trying again after a transient hlm::TransportError or a
// 5xx answer, at most `policy.max_retries` times. Returns the last response,
// which may still be a 5xx when retries ran out, and any other status at
// once. Rethrows a non-transient TransportError at once; a transient one
// after the last attempt, its message saying how many attempts were made.
HttpResponse send_with_retry(HttpClient& http,
                             const HttpRequest& request,
                             const RetryPolicy& policy);

} // namespace hlm::swift
