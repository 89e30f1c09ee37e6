#include <hlm/ctl/submit_report.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ostream>
#include <utility>
#include <vector>

namespace hlm::ctl {

namespace {

// Submits targets one by one and reports each: on `out`, on `err` (the
// first k_shown_problems errors and warnings, then a count) and in the
// document.
class Reporter
{
public:
  Reporter(Service& service,
           Operation operation,
           bool document,
           bool json,
           bool keep_ids,
           std::ostream& out,
           std::ostream& err)
    : m_service(service),
      m_operation(operation),
      m_document(document),
      m_json(json),
      m_keep_ids(keep_ids),
      m_out(out),
      m_err(err)
  {
    auto* bulk = service.bulk_submitter();
    if (bulk != nullptr && bulk->min_objects() > 0) {
      m_bulk = bulk;
    }
  }

  void submit(const queue::Target& target, const TargetOrigin& origin);
  // A list's next target (sorted by account, container, object): the
  // objects of a container with at least the bulk submitter's min_objects
  // queued as list requests, the others with submit(). Memory: at most
  // min_objects targets, and one manifest.
  void take(const queue::Target& target, const TargetOrigin& origin);
  // After the last target: queues what take() holds.
  void end_group();
  // Prints the counts of what was not shown; sets the status. `bad_lines`:
  // a list's lines that were not targets.
  SubmitReport finish(std::uint64_t bad_lines);

private:
  void queued(const queue::Target& target, int policy_index, const std::string& id);
  void already_queued(const queue::Target& target, const Submitted& submitted);
  void on_disk(const queue::Target& target);
  void refused(const queue::Target& target, const TargetOrigin& origin, const SwiftError& e);
  std::string where(const queue::Target& target, const TargetOrigin& origin) const;
  void add_to_list(const queue::Target& target, const TargetOrigin& origin);
  void queue_list(const ListBatch& batch);
  void listed(const ListBatch& batch, const std::string& id);

  // How take() handles the objects of the current container.
  enum class GroupMode {
    buffering,  // fewer than min_objects so far
    listing,    // into list requests
    per_object, // the container was refused: each object reported
  };

  Service& m_service;
  Operation m_operation;
  bool m_document;
  bool m_json;
  bool m_keep_ids;
  std::ostream& m_out;
  std::ostream& m_err;
  SubmitReport m_report;
  nlohmann::json m_results = nlohmann::json::array();
  std::uint64_t m_warnings = 0;
  std::uint64_t m_refused_shown = 0; // targets the errors printed cover
  // The list path: unset when every target is submitted on its own.
  BulkSubmitter* m_bulk = nullptr;
  std::pair<std::string, std::string> m_group; // account, container
  GroupMode m_mode = GroupMode::buffering;
  std::vector<std::pair<queue::Target, TargetOrigin>> m_buffer;
};

std::string
Reporter::where(const queue::Target& target, const TargetOrigin& origin) const
{
  return origin.line == 0 ? to_string(target)
                          : fmt::format("{}: {}", to_string(origin), to_string(target));
}

void
Reporter::queued(const queue::Target& target, int policy_index, const std::string& id)
{
  ++m_report.queued;
  if (m_document) {
    m_results.push_back({{"target", to_string(target)},
                         {"operation", to_string(m_operation)},
                         {"policy_index", policy_index},
                         {"id", id}});
  }
  if (m_keep_ids) {
    m_report.ids.push_back(id);
  }
  if (!m_json) {
    fmt::print(m_out, "queued {} {}: {}\n", to_string(m_operation), to_string(target), id);
  }
}

void
Reporter::already_queued(const queue::Target& target, const Submitted& submitted)
{
  ++m_report.queued;
  if (m_operation == Operation::recall) {
    ++m_report.in_progress;
  }
  if (m_document) {
    m_results.push_back({{"target", to_string(target)},
                         {"operation", to_string(m_operation)},
                         {"policy_index", submitted.entry.policy_index},
                         {"id", submitted.id},
                         {"outcome", "already_queued"}});
    if (submitted.raised_to) {
      m_results.back()["priority_raised_to"] = *submitted.raised_to;
    }
  }
  if (m_keep_ids) {
    m_report.ids.push_back(submitted.id);
  }
  if (!m_json) {
    fmt::print(m_out,
               "already queued {} {}: {}{}\n",
               to_string(m_operation),
               to_string(target),
               submitted.id,
               submitted.raised_to ? fmt::format(" (priority raised to {})", *submitted.raised_to)
                                   : std::string());
  }
}

void
Reporter::on_disk(const queue::Target& target)
{
  ++m_report.queued;
  if (m_document) {
    m_results.push_back({{"target", to_string(target)},
                         {"operation", to_string(m_operation)},
                         {"outcome", "on_disk"}});
  }
  if (!m_json) {
    fmt::print(m_out, "on disk already, nothing to recall: {}\n", to_string(target));
  }
}

void
Reporter::submit(const queue::Target& target, const TargetOrigin& origin)
{
  try {
    const auto submitted = m_service.submit(m_operation, target);
    switch (submitted.outcome) {
    case SubmitOutcome::queued:
      queued(target, submitted.entry.policy_index, submitted.id);
      if (m_document) {
        m_results.back()["outcome"] = "queued";
      }
      break;
    case SubmitOutcome::already_queued:
      already_queued(target, submitted);
      break;
    case SubmitOutcome::on_disk:
      on_disk(target);
      break;
    }
  } catch (const queue::PartlyQueued& e) {
    // Written to too few container servers and not withdrawn: the
    // request is queued and will run, so it is reported as queued.
    if (++m_warnings <= k_shown_problems) {
      fmt::print(m_err, "hlmctl: warning: {}: {}\n", where(target, origin), e.what());
    }
    queued(target, queue::decode_entry(e.id()).policy_index, e.id());
    if (m_document) {
      m_results.back()["warning"] = e.what();
    }
  } catch (const SwiftError& e) {
    // One target the caller cannot see does not stop the others.
    refused(target, origin, e);
  }
}

void
Reporter::refused(const queue::Target& target, const TargetOrigin& origin, const SwiftError& e)
{
  if (++m_report.refused <= k_shown_problems) {
    ++m_refused_shown;
    fmt::print(m_err, "hlmctl: error: {}: {}\n", where(target, origin), e.what());
  }
  if (m_document) {
    m_results.push_back({{"target", to_string(target)},
                         {"operation", to_string(m_operation)},
                         {"error", e.what()},
                         {"http_status", e.http_status()}});
  }
}

void
Reporter::take(const queue::Target& target, const TargetOrigin& origin)
{
  if (m_bulk == nullptr || target.object.empty()) {
    end_group();
    submit(target, origin);
    return;
  }
  auto group = std::make_pair(target.account, target.container);
  if (group != m_group) {
    end_group();
    m_group = std::move(group);
    try {
      m_bulk->start(m_operation, target);
      m_mode = GroupMode::buffering;
    } catch (const SwiftError&) {
      // Refused: each object reported as submit() reports it (the
      // refusal is remembered, so the container is not asked again).
      m_mode = GroupMode::per_object;
    }
  }
  if (m_mode == GroupMode::per_object || target.object.size() > queue::k_max_listed_name_bytes) {
    submit(target, origin); // refused, or a name no manifest holds: a row
    return;
  }
  if (m_mode == GroupMode::listing) {
    add_to_list(target, origin);
    return;
  }
  m_buffer.emplace_back(target, origin);
  if (m_buffer.size() >= m_bulk->min_objects()) {
    // Enough for a list: checked knowing that (by the listing at once
    // where that is cheaper than their HEADs).
    m_mode = GroupMode::listing;
    auto buffered = std::move(m_buffer);
    m_buffer.clear();
    for (const auto& [object, where] : buffered) {
      add_to_list(object, where);
    }
  }
}

void
Reporter::add_to_list(const queue::Target& target, const TargetOrigin& origin)
{
  try {
    m_bulk->check(target);
  } catch (const SwiftError& e) {
    refused(target, origin, e); // missing: in no list
    return;
  }
  if (auto full = m_bulk->add(target)) {
    queue_list(*full);
  }
}

void
Reporter::end_group()
{
  if (m_mode == GroupMode::listing) {
    if (auto last = m_bulk->finish()) {
      queue_list(*last);
    }
  }
  // Fewer than min_objects: each its own row, as submit() queues it.
  auto buffered = std::move(m_buffer);
  m_buffer.clear();
  for (const auto& [target, origin] : buffered) {
    submit(target, origin);
  }
  m_mode = GroupMode::buffering;
  m_group = {};
}

void
Reporter::listed(const ListBatch& batch, const std::string& id)
{
  m_report.queued += batch.count;
  const queue::Target container{batch.header.account, batch.header.container, {}};
  if (m_document) {
    m_results.push_back({{"target", to_string(container)},
                         {"operation", to_string(m_operation)},
                         {"policy_index", batch.header.policy_index},
                         {"id", id},
                         {"list", queue::decode_entry(id).target.object},
                         {"objects", batch.count}});
  }
  if (m_keep_ids) {
    m_report.ids.push_back(id);
  }
  if (!m_json) {
    fmt::print(m_out,
               "queued {} {}: list of {}: {}\n",
               to_string(m_operation),
               to_string(container),
               counted(batch.count, "object", "objects"),
               id);
  }
}

void
Reporter::queue_list(const ListBatch& batch)
{
  const queue::Target container{batch.header.account, batch.header.container, {}};
  try {
    listed(batch, m_bulk->queue(batch));
  } catch (const queue::PartlyQueued& e) {
    // Queued, and will run: as for a single row.
    if (++m_warnings <= k_shown_problems) {
      fmt::print(m_err, "hlmctl: warning: {}: {}\n", to_string(container), e.what());
    }
    listed(batch, e.id());
    if (m_document) {
      m_results.back()["warning"] = e.what();
    }
  } catch (const TransportError& e) {
    // Not queued: an error for each of its objects; the others go on.
    if (m_report.refused < k_shown_problems) {
      m_refused_shown += batch.count;
      fmt::print(m_err, "hlmctl: error: {}: {}\n", to_string(container), e.what());
    }
    m_report.refused += batch.count;
    if (m_document) {
      m_results.push_back({{"target", to_string(container)},
                           {"operation", to_string(m_operation)},
                           {"error", e.what()},
                           {"objects", batch.count}});
    }
  }
}

SubmitReport
Reporter::finish(std::uint64_t bad_lines)
{
  if (m_report.refused > m_refused_shown) {
    fmt::print(m_err,
               "hlmctl: error: {} targets not queued; first {} shown\n",
               m_report.refused,
               k_shown_problems);
  }
  if (m_warnings > k_shown_problems) {
    fmt::print(m_err,
               "hlmctl: warning: {} targets written to too few container servers; first {} "
               "shown\n",
               m_warnings,
               k_shown_problems);
  }
  m_report.document = {{"requests", std::move(m_results)}};
  const bool all_good = m_report.refused == 0 && bad_lines == 0;
  m_report.status = all_good ? (m_report.in_progress > 0 ? k_exit_in_progress : k_exit_success)
                    : m_report.queued > 0  ? k_exit_partial
                    : m_report.refused > 0 ? k_exit_failure
                                           : k_exit_usage;
  return std::move(m_report);
}

} // namespace

SubmitReport
submit_targets(Service& service,
               Operation operation,
               const std::vector<queue::Target>& targets,
               bool json,
               std::ostream& out,
               std::ostream& err)
{
  Reporter reporter(service, operation, true, json, true, out, err);
  for (const auto& target : targets) {
    reporter.submit(target, TargetOrigin{});
  }
  return reporter.finish(0);
}

SubmitReport
submit_list(Service& service,
            Operation operation,
            TargetList& list,
            bool json,
            bool keep_ids,
            std::ostream& out,
            std::ostream& err)
{
  list.report_bad_lines(err);
  Reporter reporter(service, operation, json, json, keep_ids, out, err);
  const auto duplicates = list.for_each(
    [&](const queue::Target& target, const TargetOrigin& origin) {
      reporter.take(target, origin);
    });
  reporter.end_group();
  if (duplicates > 0) {
    fmt::print(err,
               "hlmctl: {} duplicate target{} skipped (each target is queued once)\n",
               duplicates,
               duplicates == 1 ? "" : "s");
  }
  auto report = reporter.finish(list.bad_lines());
  report.duplicates = duplicates;
  if (json) {
    auto shown = nlohmann::json::array();
    for (const auto& bad : list.shown_bad_lines()) {
      shown.push_back({{"list", bad.list}, {"line", bad.line}, {"error", bad.reason}});
    }
    report.document["bad_lines"] = list.bad_lines();
    report.document["bad_lines_shown"] = std::move(shown);
    report.document["duplicates"] = duplicates;
  }
  return report;
}

} // namespace hlm::ctl
