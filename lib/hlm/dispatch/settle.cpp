#include <hlm/dispatch/fault_point.hpp>
#include <hlm/dispatch/settle.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iterator>

namespace hlm::dispatch {

void
EntryFailures::add(const Failure& failure, const std::string& object)
{
  ++m_failed;
  m_whole = m_whole || object.empty();
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

void
EntryFailures::keep_objects(std::size_t most)
{
  m_keep_most = most;
}

void
EntryFailures::keep_object(std::string object, EntryFailures failures)
{
  if (m_keep_most == 0 || !m_kept_all) {
    return;
  }
  if (m_objects.size() >= m_keep_most) {
    // Too many to queue one by one: the entry is settled whole.
    m_kept_all = false;
    m_objects = {};
    return;
  }
  m_objects.push_back({std::move(object), std::move(failures)});
}

bool
EntryFailures::by_object() const
{
  return m_keep_most > 0 && m_kept_all && !m_whole && !m_objects.empty();
}

const std::vector<EntryFailures::FailedObject>&
EntryFailures::failed_objects() const
{
  return m_objects;
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
                 DispatchReport& report,
                 Say say,
                 Notify notify)
  : m_requests(requests),
    m_conf(conf),
    m_clock(std::move(clock)),
    m_report(report),
    m_say(std::move(say)),
    m_notify(std::move(notify))
{
}

nlohmann::json
completion_document(const std::string& id, const queue::Entry& entry, std::string_view outcome)
{
  const auto& t = entry.target;
  std::string target = t.account + "/" + t.container;
  if (!t.object.empty()) {
    target += "/" + t.object;
  }
  return {{"id", id},
          {"operation", std::string(to_string(entry.operation))},
          {"target", target},
          {"policy_index", entry.policy_index},
          {"submitted", entry.submitted},
          {"outcome", std::string(outcome)}};
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
  Verdict verdict = Verdict::complete;
  if (failures.by_object() && settle_objects(listed, failures, verdict)) {
    return verdict;
  }
  return settle_whole(listed, failures);
}

void
Settler::completed(const queue::Entry& entry, bool every_object)
{
  const auto& target = entry.target;
  auto& latest = m_completed[{target.account, target.container, target.object, entry.operation}];
  latest = std::max(latest, entry.submitted);
  if (every_object && target.object.empty()) {
    auto& container = m_containers_done[{target.account, target.container, entry.operation}];
    container = std::max(container, entry.submitted);
  }
}

Verdict
Settler::settle_whole(const queue::ListedEntry& listed, const EntryFailures& failures)
{
  const Settlement settlement = decide(failures, listed.retry.attempts, m_conf, m_clock());
  switch (settlement.verdict) {
  case Verdict::complete:
    m_requests.complete(listed.row);
    fault_point("completed");
    completed(*listed.entry, true);
    ++m_report.completed;
    if (m_notify) {
      m_notify(completion_document(listed.row.name, *listed.entry, "completed"));
    }
    break;
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
    if (m_notify) {
      auto document = completion_document(listed.row.name, *listed.entry, "failed");
      document["reason"] = settlement.reason;
      m_notify(std::move(document));
    }
    break;
  }
  return settlement.verdict;
}

bool
Settler::settle_objects(const queue::ListedEntry& listed,
                        const EntryFailures& failures,
                        Verdict& verdict)
{
  const queue::Entry& entry = *listed.entry;
  const std::int64_t now = m_clock();
  std::size_t to_retry = 0;
  std::size_t to_failed = 0;
  nlohmann::json failed_objects = nlohmann::json::array();
  try {
    for (const auto& failed : failures.failed_objects()) {
      const Settlement settlement = decide(failed.failures, listed.retry.attempts, m_conf, now);
      const std::string name = queue::encode_entry(
        queue::Entry{entry.submitted,
                     entry.operation,
                     queue::Target{entry.target.account, entry.target.container, failed.object},
                     entry.policy_index});
      failed_objects.push_back({{"object", failed.object},
                                {"id", name},
                                {"reason", settlement.reason},
                                {"final", settlement.verdict != Verdict::retry}});
      if (settlement.verdict == Verdict::retry) {
        m_requests.put_row(queue::Which::pending,
                           name,
                           queue::with_parameters_of(queue::pending_content_type(settlement.retry),
                                                     listed.row.content_type));
        ++to_retry;
      } else {
        m_requests.put_row(queue::Which::failed,
                           name,
                           queue::failed_content_type(settlement.reason));
        ++to_failed;
      }
      fault_point("object-row-put");
    }
  } catch (const Error& e) {
    // No majority for a row, or a name no entry can carry: the entry is
    // settled whole; the rows written stay (their objects tried twice).
    if (m_say) {
      m_say(fmt::format("{}: cannot queue its failed objects one by one ({}); settled whole",
                        printable(listed.row.name),
                        e.what()));
    }
    return false;
  }
  m_requests.complete(listed.row);
  fault_point("completed");
  completed(entry, false);
  if (m_say) {
    m_say(fmt::format("{}: {} of its objects failed and stay as requests of their own ({} to "
                      "retry, {} to the failed queue); the container request is done",
                      printable(listed.row.name),
                      to_retry + to_failed,
                      to_retry,
                      to_failed));
  }
  if (to_failed > 0) {
    ++m_report.failed;
  } else {
    ++m_report.retrying;
  }
  if (m_notify) {
    auto document = completion_document(listed.row.name, entry, "completed");
    document["failed_objects"] = std::move(failed_objects);
    m_notify(std::move(document));
  }
  verdict = to_retry > 0 ? Verdict::retry : Verdict::fail;
  return true;
}

void
Settler::clear_superseded()
{
  if (m_completed.empty() && m_containers_done.empty()) {
    return;
  }
  m_requests.clear_failed([&](const queue::Entry& failed) {
    const auto& t = failed.target;
    const auto it = m_completed.find({t.account, t.container, t.object, failed.operation});
    if (it != m_completed.end() && failed.submitted <= it->second) {
      return true;
    }
    if (t.object.empty()) {
      return false;
    }
    const auto whole = m_containers_done.find({t.account, t.container, failed.operation});
    return whole != m_containers_done.end() && failed.submitted <= whole->second;
  });
}

} // namespace hlm::dispatch
