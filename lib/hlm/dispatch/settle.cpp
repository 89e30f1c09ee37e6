#include <hlm/core/swift_timestamp.hpp>
#include <hlm/dispatch/fault_point.hpp>
#include <hlm/dispatch/settle.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/queue/list_manifest.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <vector>

namespace hlm::dispatch {

namespace {

[[noreturn]] void
fail_spill(std::string_view what, int error)
{
  throw Error(fmt::format("{} the spill of failed objects: {}", what, std::strerror(error)));
}

} // namespace

EntryFailures::Spill::Spill()
  : m_file(unlinked_temporary_file("hlm-spill"))
{
}

// Each object: its name's and its reason's sizes (4 bytes each), whether
// it is permanent (1 byte), then the name and the reason.
void
EntryFailures::Spill::add(const Object& object)
{
  // Back to the end after a read (a seek flushes the stream's buffer, so
  // only then).
  if (m_read && std::fseek(m_file.get(), 0, SEEK_END) != 0) {
    fail_spill("cannot write", errno);
  }
  m_read = false;
  const auto name_size = static_cast<std::uint32_t>(object.name.size());
  const auto reason_size = static_cast<std::uint32_t>(object.reason.size());
  const char permanent = object.permanent ? 1 : 0;
  std::FILE* file = m_file.get();
  if (std::fwrite(&name_size, sizeof name_size, 1, file) != 1
      || std::fwrite(&reason_size, sizeof reason_size, 1, file) != 1
      || std::fwrite(&permanent, 1, 1, file) != 1
      || std::fwrite(object.name.data(), 1, name_size, file) != name_size
      || std::fwrite(object.reason.data(), 1, reason_size, file) != reason_size) {
    fail_spill("cannot write", errno);
  }
  ++m_count;
}

void
EntryFailures::Spill::for_each(const std::function<void(const Object&)>& on_object) const
{
  std::FILE* file = m_file.get();
  if (std::fflush(file) != 0) {
    fail_spill("cannot write", errno);
  }
  std::rewind(file);
  m_read = true;
  Object object;
  for (std::uint64_t i = 0; i < m_count; ++i) {
    std::uint32_t name_size = 0;
    std::uint32_t reason_size = 0;
    char permanent = 0;
    if (std::fread(&name_size, sizeof name_size, 1, file) != 1
        || std::fread(&reason_size, sizeof reason_size, 1, file) != 1
        || std::fread(&permanent, 1, 1, file) != 1) {
      fail_spill("cannot read", std::ferror(file) ? errno : EIO);
    }
    object.name.resize(name_size);
    object.reason.resize(reason_size);
    if (std::fread(object.name.data(), 1, name_size, file) != name_size
        || std::fread(object.reason.data(), 1, reason_size, file) != reason_size) {
      fail_spill("cannot read", std::ferror(file) ? errno : EIO);
    }
    object.permanent = permanent != 0;
    on_object(object);
  }
}

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
  m_keeping = true;
  m_keep_most = most;
}

void
EntryFailures::keep_object(std::string object, EntryFailures failures)
{
  if (!m_keeping || !m_kept_all) {
    return;
  }
  if (!m_spill && m_objects.size() < m_keep_most) {
    m_objects.push_back({std::move(object), std::move(failures)});
    return;
  }
  // Too many to queue one by one: from here on they go to the spill, those
  // kept so far first, so that it holds them all in the order they came.
  try {
    if (!m_spill) {
      auto spill = std::make_shared<Spill>();
      for (const auto& kept : m_objects) {
        spill->add({kept.object, kept.failures.permanent(), kept.failures.summary()});
      }
      m_spill = std::move(spill);
      std::vector<FailedObject>().swap(m_objects);
    }
    m_spill->add({std::move(object), failures.permanent(), failures.summary()});
  } catch (const Error&) {
    // Nowhere to keep them: the entry is settled whole.
    m_kept_all = false;
    std::vector<FailedObject>().swap(m_objects);
    m_spill.reset();
  }
}

bool
EntryFailures::by_object() const
{
  return m_keeping && m_kept_all && !m_whole && !m_spill && !m_objects.empty();
}

bool
EntryFailures::spilled() const
{
  return m_keeping && m_kept_all && !m_whole && m_spill && m_spill->size() > 0;
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

namespace {

// A failed row's reason after `attempts` attempts.
std::string
final_reason(const std::string& summary, int attempts)
{
  return attempts > 1 ? fmt::format("after {} attempts: {}", attempts, summary) : summary;
}

} // namespace

std::string
object_row_name(const queue::Entry& request, std::string object)
{
  return queue::encode_entry(
    queue::Entry{request.submitted,
                 request.operation,
                 queue::Target{request.target.account, request.target.container, std::move(object)},
                 request.policy_index});
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
  return {Verdict::fail, final_reason(summary, attempts), {}};
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
  if (failures.spilled() && settle_spilled(listed, failures, verdict)) {
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
      const std::string name = object_row_name(entry, failed.object);
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
  nlohmann::json hook;
  hook["failed_objects"] = std::move(failed_objects);
  verdict = settled_by_object(
    listed,
    fmt::format("({} to retry, {} to the failed queue)", to_retry, to_failed),
    to_retry + to_failed,
    to_retry,
    to_failed,
    std::move(hook));
  return true;
}

// The end of a container entry settled object by object (its failed
// objects queued, as rows or lists): its row removed, counted, told of.
Verdict
Settler::settled_by_object(const queue::ListedEntry& listed,
                           const std::string& where,
                           std::uint64_t failed,
                           std::uint64_t to_retry,
                           std::uint64_t to_failed,
                           nlohmann::json hook)
{
  const queue::Entry& entry = *listed.entry;
  m_requests.complete(listed.row);
  fault_point("completed");
  completed(entry, false);
  if (m_say) {
    m_say(fmt::format("{}: {} of its objects failed and stay as requests of their own {}; the "
                      "container request is done",
                      printable(listed.row.name),
                      failed,
                      where));
  }
  if (to_failed > 0) {
    ++m_report.failed;
  } else {
    ++m_report.retrying;
  }
  if (m_notify) {
    auto document = completion_document(listed.row.name, entry, "completed");
    for (auto& [key, value] : hook.items()) {
      document[key] = std::move(value);
    }
    m_notify(std::move(document));
  }
  return to_retry > 0 ? Verdict::retry : Verdict::fail;
}

namespace {

// Room for a manifest's last line, {"end":true,"count":N}.
constexpr std::size_t k_manifest_end_bytes = 64;

// The row of a list request a spill writes: its progress (none done), the
// retry state of a failed attempt and the parameters of the row `from`.
std::string
spilled_list_type(std::uint64_t count, const queue::RetryState& retry, std::string_view from)
{
  return queue::with_parameters_of(queue::list_content_type({count, 0, 0})
                                     + queue::retry_parameters(retry),
                                   from);
}

} // namespace

ListSpiller::ListSpiller(queue::RequestQueue& requests,
                         queue::Entry entry,
                         std::string row_content_type,
                         queue::RetryState retry)
  : m_requests(requests),
    m_entry(std::move(entry)),
    m_row_content_type(std::move(row_content_type)),
    m_retry(std::move(retry)),
    m_header{m_entry.operation,
             m_entry.target.account,
             m_entry.target.container,
             m_entry.policy_index}
{
}

// The failed objects come in listing order, which is the manifest's byte
// order: the Sender hands outcomes on in the order the objects were added
// (its owners queue relies on it), a container's as its merged listing
// gives them, a list's as its manifest does. A name out of that order,
// which ManifestWriter would refuse, starts another list instead.
std::string
ListSpiller::add(const std::string& name)
{
  const std::size_t line = nlohmann::json(name).dump().size() + 1;
  std::string queued;
  if (m_writer
      && (m_manifest.size() + line + k_manifest_end_bytes > queue::k_max_manifest_bytes
          || name <= m_last)) {
    queued = flush();
  }
  if (!m_writer) {
    m_writer = std::make_unique<queue::ManifestWriter>(m_header, [this](std::string_view bytes) {
      m_manifest.append(bytes);
    });
  }
  m_writer->add(name);
  m_last = name;
  ++m_objects;
  return queued;
}

// The manifest, its listing row and the list's row, written with the
// retry state and the entry's parameters from the start: a list is never
// pending as a first attempt, even after a crash.
std::string
ListSpiller::flush()
{
  if (!m_writer) {
    return {};
  }
  const std::uint64_t count = m_writer->finish();
  std::string id;
  if (count > 0) {
    id = m_requests.submit_list_with_type(m_header,
                                          m_entry.submitted,
                                          m_manifest,
                                          count,
                                          spilled_list_type(count, m_retry, m_row_content_type));
    fault_point("spill-put");
    ++m_lists;
    if (m_ids.size() < Settler::k_hook_objects) {
      m_ids.push_back(id);
    }
  }
  m_writer.reset();
  m_manifest.clear();
  return id;
}

namespace {

// What the rows and lists of a spilled entry hold.
struct SpillResult
{
  std::uint64_t failed = 0;    // failed objects in all
  std::uint64_t to_failed = 0; // of those, with failed rows
  std::uint64_t to_retry = 0;  // of those, in lists
  std::size_t lists = 0;
  std::vector<std::string> ids; // the first lists' ids
  // The first objects, for the hook (Settler's k_hook_objects).
  nlohmann::json hook_objects = nlohmann::json::array();
};

// Writes the failed rows and the lists of a spilled entry that failed its
// attempt `retry.attempts` (Settler::settle), the objects to be retried
// bound for lists unless `last`. Throws hlm::Error as its writes do.
//
// The objects whose failures are final go to the failed queue one row
// each, as settle_objects() writes them, rather than as a failed list:
// the failed queue has no lists (a list request that fails is a failed row
// named as its row, its manifest removed), and one row per object is what
// hlmctl requests shows, what a later success clears (clear_superseded)
// and what an operator resubmits. Those are objects that are deleted or
// refused, or the last attempt's failures, where each one is an answer to
// keep.
SpillResult
write_spill(queue::RequestQueue& requests,
            const queue::ListedEntry& listed,
            const EntryFailures::Spill& spill,
            const queue::RetryState& retry,
            bool last)
{
  const queue::Entry& entry = *listed.entry;
  ListSpiller spiller(requests, entry, listed.row.content_type, retry);
  SpillResult result;
  std::vector<std::size_t> awaiting_id; // hook items of the list being written
  const auto name_ids = [&](const std::string& id) {
    for (const std::size_t i : awaiting_id) {
      result.hook_objects[i]["id"] = id;
    }
    awaiting_id.clear();
  };
  spill.for_each([&](const EntryFailures::Spill::Object& object) {
    ++result.failed;
    const bool is_final = object.permanent || last;
    std::string id;
    std::string reason = retry.reason.value_or("");
    if (is_final) {
      reason = final_reason(object.reason, retry.attempts);
      id = object_row_name(entry, object.name);
      requests.put_row(queue::Which::failed, id, queue::failed_content_type(reason));
      ++result.to_failed;
    } else if (const std::string queued = spiller.add(object.name); !queued.empty()) {
      name_ids(queued); // the list written so far, queued before this object
    }
    if (result.hook_objects.size() < Settler::k_hook_objects) {
      if (!is_final) {
        awaiting_id.push_back(result.hook_objects.size());
      }
      result.hook_objects.push_back(
        {{"object", object.name}, {"id", id}, {"reason", reason}, {"final", is_final}});
    }
  });
  name_ids(spiller.flush());
  result.to_retry = spiller.objects();
  result.lists = spiller.lists();
  result.ids = spiller.ids();
  return result;
}

} // namespace

bool
Settler::settle_spilled(const queue::ListedEntry& listed,
                        const EntryFailures& failures,
                        Verdict& verdict)
{
  const std::string printed = printable(listed.row.name);
  // A release's row says which replicas it may migrate (release=), and a
  // list request is worked without that choice (it would migrate every
  // replica). Settled whole.
  if (queue::release_of(listed.row.content_type)) {
    if (m_say) {
      m_say(fmt::format("{}: {} failed objects of a release are not queued as lists; settled "
                        "whole",
                        printed,
                        failures.spill()->size()));
    }
    return false;
  }
  const int attempts = listed.retry.attempts + 1;
  const std::int64_t now = m_clock();
  const queue::RetryState retry{attempts,
                                now + retry_delay_after(m_conf, attempts).count(),
                                failures.summary()};
  SpillResult result;
  try {
    result =
      write_spill(m_requests, listed, *failures.spill(), retry, attempts >= m_conf.max_attempts);
  } catch (const Error& e) {
    // No majority for a row or a list, a name no list can hold, a spill
    // that cannot be read: the entry is settled whole; what was written
    // stays (those objects are worked twice).
    if (m_say) {
      m_say(fmt::format("{}: cannot queue its {} failed objects as lists ({}); settled whole",
                        printed,
                        failures.spill()->size(),
                        e.what()));
    }
    return false;
  }
  nlohmann::json hook;
  hook["failed_objects"] = std::move(result.hook_objects);
  hook["failed_objects_count"] = result.failed;
  hook["lists"] = result.ids;
  verdict = settled_by_object(listed,
                              fmt::format("({} to retry in {}, {} to the failed queue)",
                                          result.to_retry,
                                          counted(result.lists, "list request", "list requests"),
                                          result.to_failed),
                              result.failed,
                              result.to_retry,
                              result.to_failed,
                              std::move(hook));
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
