#pragma once

// `recall --copies N`: a recall that brings back N replicas of each object
// instead of all, choosing the copies that cost the fewest mounts
// (dispatch/copies.hpp) from a status pass with placements over the round.

#include <hlm/dispatch/fanout.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/ring/ring.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hlm::dispatch {

// The copies a group of recall entries asks for: the largest of its
// members' (an entry without a copies parameter gets `configured`; more
// copies than one member asked for is safe, fewer is not), or nullopt when
// that is all the ring's replicas (then the plain recall of every replica
// runs) or the operation is not a recall.
std::optional<std::size_t> copies_for_group(Operation operation,
                                            const ring::Ring& object_ring,
                                            const std::vector<queue::ListedEntry>& pending,
                                            const std::vector<std::size_t>& members,
                                            std::size_t configured);

// The recall (`recall`: the operation with its restore expiry) of one
// round of objects keeping `copies` replicas of each on disk:
// 1. a status of every replica, with placements;
// 2. choose_copies over the replicas that answered;
// 3. a recall of the chosen (object, device) pairs only; a chosen replica
//    that fails is replaced by the object's next alternate, in the same
//    run, while it has one.
// An object that cannot get `copies` replicas (too few answered the
// status) fails with a reason saying so, beside its recalled ones. When a
// node of the round warns that guarded reads are not configured (the
// proxy could serve a stub), every replica of the round is recalled
// instead, with a warning through `warn`.
// The outcomes: per object, its replicas' final recall outcomes (the
// status pass is not reported; an object already on disk has none), and
// the shortfall's failure.
std::vector<ReplicaOutcome> recall_copies(const Fanout& fanout,
                                          const HandlerWork& recall,
                                          int policy_index,
                                          const ring::Ring& object_ring,
                                          const ring::HashSecret& secret,
                                          const std::vector<std::string>& paths,
                                          std::size_t copies,
                                          const WarningSink& warn);

// Collects the objects of a copies recall and runs them recall_copies()
// `batch_size` at a time, on the calling thread; the same add()/flush()
// and `on_round` as FanoutRounds.
class CopiesRounds
{
public:
  using OnRound = std::function<void(const std::vector<std::string>& paths,
                                     const std::vector<ReplicaOutcome>& outcomes)>;

  CopiesRounds(const Fanout& fanout,
               const HandlerWork& recall,
               std::size_t batch_size,
               int policy_index,
               const ring::Ring& object_ring,
               const ring::HashSecret& secret,
               std::size_t copies,
               OnRound on_round);

  void add(std::string path);
  void flush();

private:
  const Fanout& m_fanout;
  HandlerWork m_recall;
  std::size_t m_batch_size;
  int m_policy;
  const ring::Ring& m_ring;
  const ring::HashSecret& m_secret;
  std::size_t m_copies;
  OnRound m_on_round;
  std::vector<std::string> m_paths;
};

} // namespace hlm::dispatch
