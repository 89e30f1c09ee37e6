#include <hlm/dispatch/copies.hpp>
#include <hlm/dispatch/recall_copies.hpp>
#include <hlm/queue/entry.hpp>

#include <fmt/format.h>

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <utility>

namespace hlm::dispatch {

namespace {

// Every replica of the round in ring order, and per object the indexes of
// its replicas.
struct RoundReplicas
{
  std::vector<ReplicaTarget> targets;
  std::vector<std::vector<std::size_t>> of_object;
  std::map<std::tuple<std::size_t, std::string, std::string>, std::size_t> index;

  std::size_t
  find(const ReplicaOutcome& outcome) const
  {
    const auto it = index.find({outcome.object, outcome.host, outcome.device});
    return it == index.end() ? targets.size() : it->second;
  }
};

RoundReplicas
replicas_of(const ring::Ring& object_ring,
            const ring::HashSecret& secret,
            const std::vector<std::string>& paths)
{
  RoundReplicas round;
  round.of_object.resize(paths.size());
  round.targets = replica_targets(object_ring, secret, paths);
  for (std::size_t k = 0; k < round.targets.size(); ++k) {
    const auto& target = round.targets[k];
    round.index.emplace(std::make_tuple(target.object, target.host, target.device), k);
    round.of_object[target.object].push_back(k);
  }
  return round;
}

// What the status pass found: per object the replicas that answered (as
// the chooser's candidates, with their replica indexes) and the first
// failure of one that did not.
struct StatusPass
{
  std::vector<std::vector<CopyCandidate>> candidates;
  std::vector<std::vector<std::size_t>> replica_of; // parallel to candidates
  std::vector<std::optional<Failure>> failure;
  std::vector<std::string> warnings;
  // Per object, its replicas on disk and on tape (replica indexes).
  std::vector<std::vector<std::size_t>> premigrated;
};

StatusPass
run_status(const Fanout& fanout,
           int policy_index,
           const std::vector<std::string>& paths,
           const RoundReplicas& round)
{
  std::vector<std::optional<ReplicaOutcome>> answers(round.targets.size());
  StatusPass pass;
  pass.warnings = fanout.run_replicas(Operation::status,
                                      policy_index,
                                      paths,
                                      round.targets,
                                      true,
                                      [&](const ReplicaOutcome& outcome) {
                                        const auto r = round.find(outcome);
                                        if (r < answers.size()) {
                                          answers[r] = outcome;
                                        }
                                      });
  pass.candidates.resize(paths.size());
  pass.replica_of.resize(paths.size());
  pass.failure.resize(paths.size());
  pass.premigrated.resize(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    for (const auto r : round.of_object[i]) {
      const auto& answer = answers[r];
      if (!answer || answer->failure) {
        if (!pass.failure[i] && answer) {
          pass.failure[i] = answer->failure;
        }
        continue;
      }
      const bool on_disk = answer->state == ObjectState::resident
                           || answer->state == ObjectState::premigrated;
      pass.candidates[i].push_back({round.targets[r].device, on_disk, answer->placement});
      if (answer->state == ObjectState::premigrated) {
        pass.premigrated[i].push_back(r);
      }
      pass.replica_of[i].push_back(r);
    }
  }
  return pass;
}

// The failure of an object that cannot get `copies` replicas on disk.
ReplicaOutcome
shortfall_outcome(std::size_t object,
                  std::size_t copies,
                  std::size_t shortfall,
                  const std::optional<Failure>& cause)
{
  const std::string what = fmt::format(
    "recall --copies {}: {} of the copies cannot be recalled (too few replicas answered)",
    copies,
    shortfall);
  ReplicaOutcome outcome{object, {}, {}, ObjectState::unknown, std::nullopt};
  if (cause) {
    outcome.failure = *cause;
    outcome.failure->message = fmt::format("{}: {}", what, cause->message);
  } else {
    outcome.failure = make_failure(FailureKind::node, what);
  }
  return outcome;
}

// The recall of the chosen replicas, a failed one replaced by its object's
// next alternate until one succeeds or none is left.
class ChosenRecall
{
public:
  ChosenRecall(const Fanout& fanout,
               const HandlerWork& recall,
               int policy_index,
               const std::vector<std::string>& paths)
    : m_fanout(fanout),
      m_recall(recall),
      m_policy(policy_index),
      m_paths(paths),
      m_alternates(paths.size()),
      m_next(paths.size(), 0),
      m_wanted(paths.size(), 0),
      m_ok(paths.size()),
      m_failed(paths.size())
  {
  }

  void
  want(std::size_t object, std::vector<ReplicaTarget> chosen, std::vector<ReplicaTarget> alternates)
  {
    m_wanted[object] = chosen.size();
    m_alternates[object] = std::move(alternates);
    for (auto& target : chosen) {
      m_queue.push_back(std::move(target));
    }
  }

  void
  run(std::vector<ReplicaOutcome>& out)
  {
    while (!m_queue.empty()) {
      const auto batch = std::exchange(m_queue, {});
      m_fanout.run_replicas(m_recall,
                            m_policy,
                            m_paths,
                            batch,
                            false,
                            [&](const ReplicaOutcome& outcome) { settle(outcome); });
    }
    for (std::size_t i = 0; i < m_paths.size(); ++i) {
      out.insert(out.end(), m_ok[i].begin(), m_ok[i].end());
      if (m_ok[i].size() < m_wanted[i]) {
        out.insert(out.end(), m_failed[i].begin(), m_failed[i].end());
      }
    }
  }

private:
  void
  settle(const ReplicaOutcome& outcome)
  {
    const auto i = outcome.object;
    if (!outcome.failure) {
      m_ok[i].push_back(outcome);
      return;
    }
    m_failed[i].push_back(outcome);
    if (m_next[i] < m_alternates[i].size()) {
      m_queue.push_back(m_alternates[i][m_next[i]++]);
    }
  }

  const Fanout& m_fanout;
  HandlerWork m_recall;
  int m_policy;
  const std::vector<std::string>& m_paths;
  std::vector<std::vector<ReplicaTarget>> m_alternates;
  std::vector<std::size_t> m_next;   // each object's next alternate
  std::vector<std::size_t> m_wanted; // each object's copies to recall
  std::vector<std::vector<ReplicaOutcome>> m_ok;
  std::vector<std::vector<ReplicaOutcome>> m_failed;
  std::vector<ReplicaTarget> m_queue; // the next run's replicas
};

std::vector<ReplicaTarget>
targets_of(const std::vector<std::size_t>& chosen,
           const std::vector<std::size_t>& replica_of,
           const RoundReplicas& round)
{
  std::vector<ReplicaTarget> out;
  out.reserve(chosen.size());
  for (const auto c : chosen) {
    out.push_back(round.targets[replica_of[c]]);
  }
  return out;
}

} // namespace

std::optional<std::size_t>
copies_for_group(Operation operation,
                 const ring::Ring& object_ring,
                 const std::vector<queue::ListedEntry>& pending,
                 const std::vector<std::size_t>& members,
                 std::size_t configured)
{
  if (operation != Operation::recall) {
    return std::nullopt;
  }
  std::size_t copies = 0;
  for (const auto i : members) {
    copies = std::max(copies, queue::copies_of(pending[i].row.content_type).value_or(configured));
  }
  if (copies == 0 || copies >= object_ring.replica_rows()) {
    return std::nullopt;
  }
  return copies;
}

std::vector<ReplicaOutcome>
recall_copies(const Fanout& fanout,
              const HandlerWork& recall,
              int policy_index,
              const ring::Ring& object_ring,
              const ring::HashSecret& secret,
              const std::vector<std::string>& paths,
              std::size_t copies,
              const WarningSink& warn)
{
  std::vector<ReplicaOutcome> out;
  const auto round = replicas_of(object_ring, secret, paths);
  const auto pass = run_status(fanout, policy_index, paths, round);
  if (!pass.warnings.empty()) {
    warn(fmt::format("recall --copies {}: {} node(s) warned that guarded reads are not "
                     "configured (a GET could be served a stub), so every replica of these {} "
                     "objects is recalled",
                     queue::format_copies(copies),
                     pass.warnings.size(),
                     paths.size()));
    fanout.run(recall,
               policy_index,
               object_ring,
               secret,
               paths,
               [&](const ReplicaOutcome& outcome) { out.push_back(outcome); });
    return out;
  }
  const auto plan = choose_copies(pass.candidates, copies);
  ChosenRecall chosen(fanout, recall, policy_index, paths);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const auto& choice = plan.objects[i];
    if (choice.shortfall > 0) {
      out.push_back(shortfall_outcome(i, copies, choice.shortfall, pass.failure[i]));
    }
    auto targets = targets_of(choice.recall, pass.replica_of[i], round);
    // A recall with --days marks its copies already on disk too (the
    // backend has nothing to do for them): re-issuing extends the expiry.
    if (recall.restore_until) {
      for (const auto r : pass.premigrated[i]) {
        targets.push_back(round.targets[r]);
      }
    }
    if (!targets.empty()) {
      chosen.want(i, std::move(targets), targets_of(choice.alternates, pass.replica_of[i], round));
    }
  }
  chosen.run(out);
  return out;
}

CopiesRounds::CopiesRounds(const Fanout& fanout,
                           const HandlerWork& recall,
                           std::size_t batch_size,
                           int policy_index,
                           const ring::Ring& object_ring,
                           const ring::HashSecret& secret,
                           std::size_t copies,
                           OnRound on_round)
  : m_fanout(fanout),
    m_recall(recall),
    m_batch_size(std::max<std::size_t>(batch_size, 1)),
    m_policy(policy_index),
    m_ring(object_ring),
    m_secret(secret),
    m_copies(copies),
    m_on_round(std::move(on_round))
{
}

void
CopiesRounds::add(std::string path)
{
  m_paths.push_back(std::move(path));
  if (m_paths.size() >= m_batch_size) {
    flush();
  }
}

void
CopiesRounds::flush()
{
  if (m_paths.empty()) {
    return;
  }
  const auto paths = std::exchange(m_paths, {});
  const auto outcomes = recall_copies(m_fanout,
                                      m_recall,
                                      m_policy,
                                      m_ring,
                                      m_secret,
                                      paths,
                                      m_copies,
                                      [](const std::string& text) {
                                        std::fputs(fmt::format("warning: {}\n", text).c_str(),
                                                   stderr);
                                      });
  m_on_round(paths, outcomes);
  // The round's status answers, choices and documents are freed by now;
  // glibc keeps the freed pages inside its heap until told, and the next
  // round's allocations do not land in the same holes. Peak RSS of a
  // 100,000-object recall: 61 MB without, 59 MB with (bench/scale.sh).
  ::malloc_trim(0);
}

} // namespace hlm::dispatch
