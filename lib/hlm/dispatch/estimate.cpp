#include <hlm/dispatch/estimate.hpp>
#include <hlm/dispatch/plan.hpp>
#include <hlm/dispatch/restore_expiry.hpp>
#include <hlm/dispatch/send.hpp>
#include <hlm/dispatch/settle.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

namespace hlm::dispatch {

namespace {

nlohmann::json
estimate_json(const connector::Estimate& estimate)
{
  return {{"items", estimate.items},
          {"bytes", estimate.bytes},
          {"cartridges", estimate.cartridges},
          {"mounts", estimate.mounts},
          {"drive_seconds", estimate.drive_seconds},
          {"wall_seconds", estimate.wall_seconds}};
}

std::string
estimate_text(const connector::Estimate& estimate)
{
  return fmt::format("{} to move, {} bytes, {}, {}, {:.1f} drive-seconds, {:.1f} s",
                     counted(estimate.items, "replica", "replicas"),
                     estimate.bytes,
                     counted(estimate.cartridges, "cartridge", "cartridges"),
                     counted(estimate.mounts, "mount", "mounts"),
                     estimate.drive_seconds,
                     estimate.wall_seconds);
}

// One estimate pass over the plan's groups.
class EstimatePass
{
public:
  EstimatePass(const config::HlmConf& conf,
               swift::HttpClient& http,
               const Fanout& fanout,
               queue::RequestQueue& requests,
               const std::vector<queue::ListedEntry>& pending,
               const DispatchOptions& options,
               const Progress& progress)
    : m_conf(conf),
      m_fanout(fanout),
      m_pending(pending),
      m_progress(progress),
      m_now(options.clock()),
      m_plan(pending, options.schedule, m_now, conf.retry_delay_max, conf.priority_aging),
      m_sender(fanout, http, requests, conf.batch_size, conf.recall_copies),
      m_rings(requests.swift_conf(), conf.swift_dir),
      m_bytes(object_bytes_from(http, requests)),
      m_failures(pending.size())
  {
  }

  EstimateReport
  run()
  {
    m_report.requests = m_pending.size();
    m_report.undecodable = m_plan.undecodable().size();
    m_fanout.set_estimate_sink(
      [this](const std::string& host, const std::optional<connector::Estimate>& estimate) {
        auto& node = m_report.nodes[host];
        ++node.answers;
        if (estimate) {
          node.known += *estimate;
        } else {
          ++node.unknown;
        }
      });
    try {
      for (const Group& group : m_plan.groups()) {
        estimate_group(group);
      }
    } catch (...) {
      m_fanout.set_estimate_sink({});
      throw;
    }
    m_fanout.set_estimate_sink({});
    m_report.deferred = m_plan.deferred().size();
    m_report.failed_requests = static_cast<std::size_t>(
      std::count_if(m_failures.begin(), m_failures.end(), [](const EntryFailures& failures) {
        return failures.failed();
      }));
    return m_report;
  }

private:
  void
  estimate_group(const Group& group)
  {
    const auto ready = m_plan.ready(group);
    if (ready.empty()) {
      return;
    }
    if (const auto why = held_for_batch(group, ready, m_pending, m_conf, m_now, m_bytes)) {
      m_report.held += ready.size();
      say(*why);
      return;
    }
    std::vector<std::size_t> members;
    for (const std::size_t i : ready) {
      if (const auto& list = m_pending[i].list) {
        ++m_report.lists;
        m_report.list_objects += list->count > list->done ? list->count - list->done : 0;
      } else {
        members.push_back(i);
      }
    }
    const PolicyRing& ring = m_rings.get(group.policy);
    if (members.empty() || !ring.ring) {
      for (const std::size_t i : members) {
        m_failures[i].add(*ring.failure);
      }
      return;
    }
    HandlerWork work(group.operation);
    work.estimate = true;
    if (group.days) {
      work.restore_until = restore_expiry(m_now, allowed_days(*group.days, m_conf));
    }
    work.release_before = group.release;
    m_sender.send(
      work,
      group.policy,
      *ring.ring,
      m_pending,
      members,
      m_failures,
      [this](std::size_t objects) { m_report.objects += objects; },
      nullptr);
  }

  void
  say(const std::string& message) const
  {
    if (m_progress) {
      m_progress(message);
    }
  }

  const config::HlmConf& m_conf;
  const Fanout& m_fanout;
  const std::vector<queue::ListedEntry>& m_pending;
  const Progress& m_progress;
  std::int64_t m_now;
  Plan m_plan;
  Sender m_sender;
  PolicyRings m_rings;
  ObjectBytes m_bytes;
  std::vector<EntryFailures> m_failures;
  EstimateReport m_report;
};

} // namespace

std::optional<connector::Estimate>
EstimateReport::total() const
{
  connector::Estimate sum;
  double longest = 0;
  for (const auto& [host, node] : nodes) {
    if (node.unknown > 0) {
      return std::nullopt;
    }
    sum += node.known;
    longest = std::max(longest, node.known.wall_seconds);
  }
  sum.wall_seconds = longest;
  return sum;
}

EstimateReport
estimate_run(const config::HlmConf& conf,
             swift::HttpClient& http,
             const Fanout& fanout,
             queue::RequestQueue& requests,
             const std::vector<queue::ListedEntry>& pending,
             const DispatchOptions& options,
             const Progress& progress)
{
  return EstimatePass(conf, http, fanout, requests, pending, options, progress).run();
}

EstimateReport
estimate_once(const config::HlmConf& conf,
              swift::HttpClient& http,
              const Fanout& fanout,
              const DispatchOptions& options,
              const Progress& progress)
{
  queue::RequestQueue requests(http, conf.swift_dir);
  std::size_t releases_due = 0;
  if (options.process == 0) {
    try {
      releases_due = count_due_releases(requests, options.clock());
    } catch (const Error& e) {
      if (progress) {
        progress(fmt::format("cannot count the restore expiries due now: {}", e.what()));
      }
    }
  }
  const auto pending = list_owned(requests, options);
  auto report = estimate_run(conf, http, fanout, requests, pending, options, progress);
  report.releases_due = releases_due;
  return report;
}

std::string
to_text(const EstimateReport& report)
{
  std::string text = fmt::format(
    "{}: {} deferred, {} held, {} undecodable; {} sent for an estimate",
    counted(report.requests, "request", "requests"),
    report.deferred,
    report.held,
    report.undecodable,
    counted(report.objects, "object", "objects"));
  if (report.lists > 0) {
    text += fmt::format("; {} ({}) not estimated",
                        counted(report.lists, "list request", "list requests"),
                        counted(report.list_objects, "object", "objects"));
  }
  if (report.failed_requests > 0) {
    text += fmt::format("; {} could not be estimated (a node or a listing failed)",
                        counted(report.failed_requests, "request", "requests"));
  }
  if (report.releases_due > 0) {
    text += fmt::format(
      "; {} due first",
      counted(report.releases_due, "release of a restore expiry", "releases of restore expiries"));
  }
  text += '\n';
  for (const auto& [host, node] : report.nodes) {
    text += fmt::format("node {}: {}\n",
                        host,
                        node.unknown > 0 ? std::string("unknown (a backend cannot estimate)")
                                         : estimate_text(node.known));
  }
  const auto total = report.total();
  text += fmt::format("total: {}\n",
                      report.nodes.empty() ? std::string("nothing to move")
                      : total              ? estimate_text(*total)
                                           : std::string("unknown (a backend cannot estimate)"));
  return text;
}

nlohmann::json
to_json(const EstimateReport& report)
{
  nlohmann::json nodes = nlohmann::json::object();
  for (const auto& [host, node] : report.nodes) {
    nodes[host] = node.unknown > 0 ? nlohmann::json(nullptr) : estimate_json(node.known);
  }
  const auto total = report.total();
  return {{"requests", report.requests},
          {"deferred", report.deferred},
          {"held", report.held},
          {"undecodable", report.undecodable},
          {"objects", report.objects},
          {"lists_not_estimated", report.lists},
          {"list_objects_not_estimated", report.list_objects},
          {"failed_requests", report.failed_requests},
          {"releases_due", report.releases_due},
          {"nodes", std::move(nodes)},
          {"total", total ? estimate_json(*total) : nlohmann::json(nullptr)}};
}

} // namespace hlm::dispatch
