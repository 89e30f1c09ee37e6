#include <hlm/dispatch/fault_point.hpp>
#include <hlm/dispatch/settle.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iterator>

namespace hlm::dispatch {

void
EntryFailures::add(const Failure& failure, const std::string& object)
{
  ++m_failed;
  m_transient = m_transient || failure.transient;
  // By kind and node, never by text: messages name devices and objects.
  auto it = std::find_if(m_reasons.begin(), m_reasons.end(), [&](const Reason& r) {
    return r.kind == failure.kind && r.node == failure.node;
  });
  if (it == m_reasons.end()) {
    if (m_reasons.size() >= k_reasons_kept) {
      return;
    }
    m_reasons.push_back({failure.kind, failure.node, failure.message, {}});
    it = std::prev(m_reasons.end());
  }
  if (!object.empty() && it->objects.size() < k_objects_named
      && std::find(it->objects.begin(), it->objects.end(), object) == it->objects.end()) {
    it->objects.push_back(object);
  }
}

std::string
EntryFailures::summary() const
{
  std::string text;
  if (m_replicas > 0) {
    text = fmt::format("{} of {} replicas failed", m_failed, m_replicas);
  }
  for (const auto& reason : m_reasons) {
    text += (text.empty() ? "" : "; ") + reason.message;
    if (!reason.objects.empty()) {
      text += fmt::format(" (objects: {}{})",
                          fmt::join(reason.objects, ", "),
                          reason.objects.size() == k_objects_named ? ", ..." : "");
    }
  }
  return text;
}

std::chrono::seconds
retry_delay_after(const config::HlmConf& conf, int failed_attempts)
{
  auto delay = std::min(conf.retry_delay, conf.retry_delay_max);
  for (int n = 1; n < failed_attempts && delay < conf.retry_delay_max; ++n) {
    delay = std::min(delay * 2, conf.retry_delay_max);
  }
  return delay;
}

Settlement
decide(const EntryFailures& failures,
       int attempts_before,
       const config::HlmConf& conf,
       std::int64_t now)
{
  if (!failures.failed()) {
    return {};
  }
  const int attempts = attempts_before + 1;
  std::string summary = failures.summary();
  if (attempts < conf.max_attempts && !failures.permanent()) {
    const std::int64_t retry_after = now + retry_delay_after(conf, attempts).count();
    return {Verdict::retry, summary, {attempts, retry_after, summary}};
  }
  return {Verdict::fail,
          attempts > 1 ? fmt::format("after {} attempts: {}", attempts, summary) : summary,
          {}};
}

Settler::Settler(queue::RequestQueue& requests,
                 const config::HlmConf& conf,
                 UnixClock clock,
                 DispatchReport& report)
  : m_requests(requests),
    m_conf(conf),
    m_clock(std::move(clock)),
    m_report(report)
{
}

void
Settler::park(const queue::ListedEntry& listed)
{
  if (listed.list) {
    m_requests.fail_list(queue::as_listed_list(listed),
                         fmt::format("cannot decode: {}", listed.decode_error));
  } else {
    m_requests.park_undecodable(listed.row, listed.decode_error);
  }
  ++m_report.undecodable;
}

Verdict
Settler::settle(const queue::ListedEntry& listed, const EntryFailures& failures)
{
  const Settlement settlement = decide(failures, listed.retry.attempts, m_conf, m_clock());
  switch (settlement.verdict) {
  case Verdict::complete: {
    m_requests.complete(listed.row);
    fault_point("completed");
    const queue::Entry& entry = *listed.entry;
    const auto& target = entry.target;
    auto& latest = m_completed[{target.account, target.container, target.object, entry.operation}];
    latest = std::max(latest, entry.submitted);
    ++m_report.completed;
    break;
  }
  case Verdict::retry:
    m_requests.retry_later(listed, settlement.retry);
    fault_point("retry-put");
    ++m_report.retrying;
    break;
  case Verdict::fail:
    m_requests.record_failure(listed.row, settlement.reason);
    fault_point("failed-put");
    m_requests.complete(listed.row);
    ++m_report.failed;
    break;
  }
  return settlement.verdict;
}

void
Settler::clear_superseded()
{
  if (m_completed.empty()) {
    return;
  }
  m_requests.clear_failed([&](const queue::Entry& failed) {
    const auto& t = failed.target;
    const auto it = m_completed.find({t.account, t.container, t.object, failed.operation});
    return it != m_completed.end() && failed.submitted <= it->second;
  });
}

} // namespace hlm::dispatch
