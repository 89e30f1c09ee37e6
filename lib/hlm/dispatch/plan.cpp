#include <hlm/dispatch/plan.hpp>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <optional>
#include <set>
#include <string_view>

namespace hlm::dispatch {

namespace {

// Builds the groups of a plan, one entry at a time in arrival order (see
// Plan).
class Grouping
{
public:
  explicit Grouping(Schedule schedule)
    : m_schedule(schedule)
  {
  }

  void
  add(std::size_t index,
      const queue::Entry& entry,
      int priority,
      std::optional<int> days,
      std::optional<std::int64_t> release)
  {
    if (m_schedule == Schedule::fifo) {
      m_groups.push_back({entry.operation, entry.policy_index, {index}, priority, days, release});
      return;
    }
    if (conflicts(entry)) {
      end_round();
      m_seen.clear();
    }
    remember(entry);
    auto group = std::find_if(m_groups.begin() + static_cast<std::ptrdiff_t>(m_round_start),
                              m_groups.end(),
                              [&](const Group& g) {
                                return g.operation == entry.operation
                                       && g.policy == entry.policy_index && g.priority == priority
                                       && g.days == days && g.release == release;
                              });
    if (group == m_groups.end()) {
      m_groups.push_back({entry.operation, entry.policy_index, {}, priority, days, release});
      group = std::prev(m_groups.end());
    }
    group->members.push_back(index);
  }

  std::vector<Group>
  take()
  {
    if (m_schedule == Schedule::batched) {
      end_round();
    }
    return std::move(m_groups);
  }

private:
  // Higher priority first within the round (no two of its groups
  // conflict), arrival order otherwise.
  void
  end_round()
  {
    std::stable_sort(m_groups.begin() + static_cast<std::ptrdiff_t>(m_round_start),
                     m_groups.end(),
                     [](const Group& a, const Group& b) { return a.priority > b.priority; });
    m_round_start = m_groups.size();
  }

  // What the current round holds for one container: the operations of
  // container-wide entries, of all entries, and per object.
  struct Seen
  {
    std::set<Operation> whole;
    std::set<Operation> any;
    std::map<std::string, std::set<Operation>> objects;
  };

  static bool
  other_than(const std::set<Operation>& operations, Operation operation)
  {
    return operations.size() > 1 || (operations.size() == 1 && *operations.begin() != operation);
  }

  bool
  conflicts(const queue::Entry& entry) const
  {
    const auto it = m_seen.find({entry.target.account, entry.target.container});
    if (it == m_seen.end()) {
      return false;
    }
    const Seen& seen = it->second;
    if (entry.target.object.empty()) {
      return other_than(seen.any, entry.operation);
    }
    if (other_than(seen.whole, entry.operation)) {
      return true;
    }
    const auto object = seen.objects.find(entry.target.object);
    return object != seen.objects.end() && other_than(object->second, entry.operation);
  }

  void
  remember(const queue::Entry& entry)
  {
    Seen& seen = m_seen[{entry.target.account, entry.target.container}];
    seen.any.insert(entry.operation);
    if (entry.target.object.empty()) {
      seen.whole.insert(entry.operation);
    } else {
      seen.objects[entry.target.object].insert(entry.operation);
    }
  }

  Schedule m_schedule;
  std::vector<Group> m_groups;
  std::size_t m_round_start = 0;
  std::map<std::pair<std::string, std::string>, Seen> m_seen;
};

} // namespace

void
sort_by_arrival(std::vector<queue::ListedEntry>& pending)
{
  std::stable_sort(pending.begin(), pending.end(), [](const auto& a, const auto& b) {
    return (a.entry ? std::string_view(a.entry->submitted) : std::string_view())
           < (b.entry ? std::string_view(b.entry->submitted) : std::string_view());
  });
}

std::optional<std::int64_t>
submitted_seconds(std::string_view submitted)
{
  const auto time = queue::parse_submitted(submitted);
  if (!time) {
    return std::nullopt;
  }
  return std::chrono::floor<std::chrono::seconds>(*time).time_since_epoch().count();
}

int
effective_priority(const queue::ListedEntry& listed, std::int64_t now, std::chrono::seconds aging)
{
  const auto& entry = *listed.entry;
  int priority =
    queue::priority_of(listed.row.content_type).value_or(queue::default_priority(entry.operation));
  const auto since = submitted_seconds(entry.submitted);
  if (since && *since < now && aging.count() > 0) {
    priority += static_cast<int>(
      std::min<std::int64_t>((now - *since) / aging.count(), queue::k_max_priority));
  }
  return std::min(priority, queue::k_max_priority);
}

queue::Entry
covered_by(const queue::ListedEntry& listed)
{
  queue::Entry entry = *listed.entry;
  if (listed.list) {
    entry.target.object.clear();
  }
  return entry;
}

bool
is_due(const queue::RetryState& retry, std::int64_t now, std::chrono::seconds retry_delay_max)
{
  return !retry.retry_after || *retry.retry_after <= now
         || *retry.retry_after > now + retry_delay_max.count();
}

void
Held::add(std::size_t index, const queue::Entry& entry)
{
  m_by_container[{entry.target.account, entry.target.container}].push_back(
    {index, entry.operation, entry.target.object});
}

bool
Held::blocks(std::size_t index, const queue::Entry& entry) const
{
  const auto it = m_by_container.find({entry.target.account, entry.target.container});
  if (it == m_by_container.end()) {
    return false;
  }
  return std::any_of(it->second.begin(), it->second.end(), [&](const Item& held) {
    return held.index < index && held.operation != entry.operation
           && (held.object.empty() || entry.target.object.empty()
               || held.object == entry.target.object);
  });
}

Plan::Plan(const std::vector<queue::ListedEntry>& pending,
           Schedule schedule,
           std::int64_t now,
           std::chrono::seconds retry_delay_max,
           std::chrono::seconds priority_aging)
  : m_pending(pending)
{
  Grouping grouping(schedule);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (!pending[i].entry) {
      m_undecodable.push_back(i);
    } else if (!is_due(pending[i].retry, now, retry_delay_max)
               || m_held.blocks(i, covered_by(pending[i]))) {
      hold(i);
      m_deferred.push_back(i);
    } else {
      const auto& type = pending[i].row.content_type;
      const Operation operation = pending[i].entry->operation;
      grouping.add(i,
                   covered_by(pending[i]),
                   effective_priority(pending[i], now, priority_aging),
                   operation == Operation::recall ? queue::days_of(type) : std::nullopt,
                   operation == Operation::migrate ? queue::release_of(type) : std::nullopt);
    }
  }
  m_groups = grouping.take();
}

std::vector<std::size_t>
Plan::ready(const Group& group)
{
  std::vector<std::size_t> members;
  for (const std::size_t i : group.members) {
    if (m_held.blocks(i, covered_by(m_pending[i]))) {
      hold(i);
      m_deferred.push_back(i);
    } else {
      members.push_back(i);
    }
  }
  return members;
}

void
Plan::defer(std::size_t index)
{
  hold(index);
  m_deferred.push_back(index);
}

void
Plan::hold(std::size_t index)
{
  m_held.add(index, covered_by(m_pending[index]));
}

} // namespace hlm::dispatch
