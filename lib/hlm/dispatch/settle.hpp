#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/core/failure.hpp>
#include <hlm/dispatch/report.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/util/clock.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace hlm::dispatch {

// What went wrong for one entry in one attempt: its failures grouped by
// kind and node, so that a node that failed a thousand objects for one
// reason says it once. A group shows the message of its first failure and
// names up to k_objects_named of its objects; up to k_reasons_kept groups
// are kept (the others are counted, not shown).
class EntryFailures
{
public:
  static constexpr std::size_t k_reasons_kept = 3;
  static constexpr std::size_t k_objects_named = 5;

  // A replica was sent (it failed or not; a failed one is also add()-ed).
  void
  add_replica()
  {
    ++m_replicas;
  }
  // A failure of the entry: of a replica of `object`, or (no object) of the
  // entry as a whole, such as its container's listing.
  void add(const Failure& failure, const std::string& object = {});

  bool
  failed() const
  {
    return m_failed > 0;
  }
  // Whether every failure is permanent: asking again gives the same answer.
  bool
  permanent() const
  {
    return m_failed > 0 && !m_transient;
  }
  // "N of M replicas failed; <message> (objects: a, b); <message>", without
  // the counts when no replica was sent.
  std::string summary() const;

private:
  struct Reason
  {
    FailureKind kind;
    std::string node;
    std::string message;
    std::vector<std::string> objects;
  };

  std::size_t m_replicas = 0;
  std::size_t m_failed = 0; // failures, of replicas or of the entry as a whole
  bool m_transient = false; // some failure was transient
  std::vector<Reason> m_reasons;
};

// How long the attempt after `failed_attempts` (1 or more) failed ones
// waits: conf.retry_delay, doubled for each further attempt, at most
// conf.retry_delay_max.
std::chrono::seconds retry_delay_after(const config::HlmConf& conf, int failed_attempts);

// What becomes of an entry after an attempt.
enum class Verdict {
  complete, // every replica succeeded: removed from the queue
  retry,    // failed; pending again for another attempt
  fail,     // failed for the last time: moved to the failed queue
};

struct Settlement
{
  Verdict verdict = Verdict::complete;
  std::string reason;      // fail: the failed row's reason
  queue::RetryState retry; // retry: what the pending row says now
};

// Decides an attempt of an entry that had failed `attempts_before` times,
// at `now` (Unix seconds): complete without failures; retry, `retry_delay_after`
// from now, while attempts remain and some failure is transient; otherwise
// fail, with the summary, preceded by "after N attempts: " when there were
// several. An entry whose failures are all permanent fails at once.
Settlement decide(const EntryFailures& failures,
                  int attempts_before,
                  const config::HlmConf& conf,
                  std::int64_t now);

// Carries out decisions in the queue and counts them in a report: in the
// manner of ninja's Builder finishing its commands, one entry at a time as
// its attempt ends.
class Settler
{
public:
  // `requests`, `conf` and `report` must outlive the settler.
  Settler(queue::RequestQueue& requests,
          const config::HlmConf& conf,
          UnixClock clock,
          DispatchReport& report);

  // Parks an entry whose name does not decode in the failed queue (a list
  // request: a failed row named as its row, then its row removed; a row
  // that does not decode names no manifest).
  void park(const queue::ListedEntry& listed);
  // Settles a decoded pending entry after an attempt with `failures`:
  // removes it (complete), rewrites it with its attempts (retry; the next
  // one counted from now, not from the start of the run), or moves it to
  // the failed queue, writing the failed row first, so that a crash in
  // between leaves the entry in both queues, to be tried again, rather than
  // in neither.
  Verdict settle(const queue::ListedEntry& listed, const EntryFailures& failures);
  // Removes the failed entries superseded by one that completed in this
  // run: same target and operation, submitted no later (the completed
  // request itself may be in the failed queue, from a run that stopped
  // between moving it there and removing it from pending). One listing of
  // the failed queue.
  void clear_superseded();

private:
  queue::RequestQueue& m_requests;
  const config::HlmConf& m_conf;
  UnixClock m_clock;
  DispatchReport& m_report;
  // (account, container, object, operation) → the latest submission that
  // completed in this run.
  std::map<std::tuple<std::string, std::string, std::string, Operation>, std::string> m_completed;
};

} // namespace hlm::dispatch
