#include <hlm/ctl/submit_report.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ostream>

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
  }

  void submit(const queue::Target& target, const TargetOrigin& origin);
  // Prints the counts of what was not shown; sets the status. `bad_lines`:
  // a list's lines that were not targets.
  SubmitReport finish(std::uint64_t bad_lines);

private:
  void queued(const queue::Target& target, int policy_index, const std::string& id);
  std::string where(const queue::Target& target, const TargetOrigin& origin) const;

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
Reporter::submit(const queue::Target& target, const TargetOrigin& origin)
{
  try {
    const auto submitted = m_service.submit(m_operation, target);
    queued(target, submitted.entry.policy_index, submitted.id);
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
    if (++m_report.refused <= k_shown_problems) {
      fmt::print(m_err, "hlmctl: error: {}: {}\n", where(target, origin), e.what());
    }
    if (m_document) {
      m_results.push_back({{"target", to_string(target)},
                           {"operation", to_string(m_operation)},
                           {"error", e.what()},
                           {"http_status", e.http_status()}});
    }
  }
}

SubmitReport
Reporter::finish(std::uint64_t bad_lines)
{
  if (m_report.refused > k_shown_problems) {
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
  m_report.status = all_good               ? k_exit_success
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
      reporter.submit(target, origin);
    });
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
