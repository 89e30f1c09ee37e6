#pragma once

#include <hlm/core/operation.hpp>
#include <hlm/queue/queue.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hlm::dispatch {

// How pending entries reach the nodes.
enum class Schedule {
  // All entries of one operation and policy together, `batch_size` objects
  // per round: a backend sees many requests as one list and can order it
  // (by cartridge and position on tape).
  batched,
  // One entry at a time, in arrival order: the seed's behaviour, kept so
  // the difference can be measured.
  fifo,
};

// Entries of one operation and policy that go to the nodes together.
struct Group
{
  Operation operation = Operation::migrate;
  int policy = 0;
  std::vector<std::size_t> members; // indices into the pending list, in arrival order
  int priority = 0;                 // its members' effective priority (effective_priority)
  // Its members' restore parameters: a recall's --days, a release's
  // expiry (queue::days_of, queue::release_of). Members differ in none of
  // these, for each is one field of the handler's document.
  std::optional<int> days;
  std::optional<std::int64_t> release;

  bool operator==(const Group&) const = default;
};

// Puts listed pending entries in arrival order, which a listing (byte
// order of names) is not across both name forms: SwiftHLM's older
// "<time>--..." entries list after every "/<time>/..." one, whatever their
// time. Undecodable rows have no time and go first (they are only parked).
// Stable: entries of the same time keep their listing order.
void sort_by_arrival(std::vector<queue::ListedEntry>& pending);

// "YYYYmmddHHMMSS.mmm" (UTC, a queue entry's submitted) as Unix seconds;
// nullopt for another form.
std::optional<std::int64_t> submitted_seconds(std::string_view submitted);

// An entry's priority in a run at `now` (Unix seconds): its row's
// (queue::priority_of) or its operation's default, one level more for each
// `aging` it has waited since it was submitted, at most
// queue::k_max_priority, so that low priority cannot wait for ever.
int effective_priority(const queue::ListedEntry& listed,
                       std::int64_t now,
                       std::chrono::seconds aging);

// What an entry covers when conflicts are ordered (Grouping, Held): its
// target, or for a list request (ListedEntry::list) its whole container,
// conservatively, since any object of the container may be in its list.
queue::Entry covered_by(const queue::ListedEntry& listed);

// Whether an entry's next attempt is due at `now` (Unix seconds): none was
// set, its time has come, or it is later than `retry_delay_max` from now
// (set under a larger setting, by a clock running ahead, or by hand: not
// waited for).
bool is_due(const queue::RetryState& retry, std::int64_t now, std::chrono::seconds retry_delay_max);

// Entries a run leaves pending (next attempt not due, failed and to be
// retried, or held behind one of those), so that an entry queued later for
// an overlapping target with the other operation waits too: run now, a
// recall would be undone by the retried migrate queued before it.
class Held
{
public:
  void add(std::size_t index, const queue::Entry& entry);
  // Whether an entry queued before `index` and held conflicts with `entry`:
  // the other operation, on the same object or a container holding it.
  bool blocks(std::size_t index, const queue::Entry& entry) const;

private:
  struct Item
  {
    std::size_t index;
    Operation operation;
    std::string object; // empty: the whole container
  };
  std::map<std::pair<std::string, std::string>, std::vector<Item>> m_by_container;
};

// What a run does with the pending entries, decided from their listing
// alone (no I/O), in the manner of ninja's Plan: which are parked, which
// wait for a later run, and which go to the nodes in which groups and
// order. Groups run in order. With Schedule::fifo each entry is its own
// group, in arrival order. With Schedule::batched, the entries of one
// operation, policy and effective priority share a group; but an entry
// whose target overlaps an earlier one's with the other operation (recall
// X queued after migrate X, or migrate of a container after recall of one
// of its objects) starts a new round of groups, so that the later request
// still wins, as in arrival order. Within a round, higher priority groups
// run first (and are settled first). While the run goes on, an entry that failed and will be
// retried is hold()-ed, and ready() keeps later conflicting entries back.
class Plan
{
public:
  // `pending` in arrival order (sort_by_arrival); it must outlive the plan.
  Plan(const std::vector<queue::ListedEntry>& pending,
       Schedule schedule,
       std::int64_t now,
       std::chrono::seconds retry_delay_max,
       std::chrono::seconds priority_aging = std::chrono::seconds(3600));

  // Entries whose names do not decode: to be parked in the failed queue.
  const std::vector<std::size_t>&
  undecodable() const
  {
    return m_undecodable;
  }
  // Entries left for a later run so far, in the order they were left: at
  // planning, those not due and those behind them; then those ready()
  // kept back.
  const std::vector<std::size_t>&
  deferred() const
  {
    return m_deferred;
  }
  const std::vector<Group>&
  groups() const
  {
    return m_groups;
  }

  // The members of `group` to send now: all but those behind an entry held
  // so far, which are held and deferred in turn.
  std::vector<std::size_t> ready(const Group& group);
  // Entry `index` (of a group not sent) waits for a later run: held and
  // deferred.
  void defer(std::size_t index);
  // Entry `index` stays pending (it failed and will be retried): entries
  // after it for an overlapping target with the other operation wait.
  void hold(std::size_t index);

private:
  const std::vector<queue::ListedEntry>& m_pending;
  std::vector<std::size_t> m_undecodable;
  std::vector<std::size_t> m_deferred;
  std::vector<Group> m_groups;
  Held m_held;
};

} // namespace hlm::dispatch
