#include <hlm/ctl/pending_index.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string_view>

namespace hlm::ctl {

namespace {

// What makes two requests the same, hashed: the operation, the target, the
// storage policy, the copies parameter (none, a number, all) and the
// restore days.
std::uint64_t
sameness(const queue::Entry& entry, std::optional<std::size_t> copies, std::optional<int> days)
{
  std::string key;
  key.reserve(entry.target.account.size() + entry.target.container.size()
              + entry.target.object.size() + 48);
  key += to_string(entry.operation);
  for (const auto* part : {&entry.target.account, &entry.target.container, &entry.target.object}) {
    key += '\0';
    key += *part;
  }
  key += '\0';
  key += std::to_string(entry.policy_index);
  key += '\0';
  key += copies ? std::to_string(*copies) : std::string("-");
  key += '\0';
  key += days ? std::to_string(*days) : std::string("-");
  return std::hash<std::string_view>{}(key);
}

// A submission time as milliseconds since the epoch (what m_rows and
// m_latest keep); nullopt for another form.
std::optional<std::uint64_t>
submitted_number(std::string_view submitted)
{
  const auto time = queue::parse_submitted(submitted);
  if (!time) {
    return std::nullopt;
  }
  const auto millis =
    std::chrono::duration_cast<std::chrono::milliseconds>(time->time_since_epoch()).count();
  if (millis < 0) {
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(millis);
}

// An operation and a target; `any_object`: the operation and any target in
// the target's container.
std::uint64_t
overlap_key(Operation operation, const queue::Target& target, bool any_object)
{
  std::string key(to_string(operation));
  key += '\0';
  key += target.account;
  key += '\0';
  key += target.container;
  key += any_object ? std::string("\1") : '\0' + target.object;
  return std::hash<std::string_view>{}(key);
}

// The latest time of `key` in a sorted, collapsed m_latest; 0 when none.
std::uint64_t
latest_of(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& latest, std::uint64_t key)
{
  const auto it = std::lower_bound(latest.begin(),
                                   latest.end(),
                                   std::make_pair(key, std::uint64_t{0}));
  return it != latest.end() && it->first == key ? it->second : 0;
}

} // namespace

PendingIndex::PendingIndex(queue::RequestQueue& requests)
  : m_requests(requests)
{
}

void
PendingIndex::load()
{
  const auto note = [&](const queue::Entry& entry, std::uint64_t number) {
    m_latest.emplace_back(overlap_key(entry.operation, entry.target, false), number);
    m_latest.emplace_back(overlap_key(entry.operation, entry.target, true), number);
  };
  m_requests.for_each(queue::Which::pending, [&](const queue::ListedEntry& listed) {
    if (!listed.entry) {
      return true;
    }
    const auto number = submitted_number(listed.entry->submitted);
    // A time that is no real date (written by hand) conflicts with every
    // request, and is never the same as one.
    note(*listed.entry, number.value_or(UINT64_MAX));
    // Only names find() can rebuild from the entry (hlm's own form); a
    // release (hlm-dispatch's, at a restore expiry) is no user's request.
    if (number && queue::encode_entry(*listed.entry) == listed.row.name
        && !queue::release_of(listed.row.content_type)) {
      m_rows.emplace_back(sameness(*listed.entry,
                                   queue::copies_of(listed.row.content_type),
                                   queue::days_of(listed.row.content_type)),
                          *number);
    }
    return true;
  });
  // A list request overlaps its whole container.
  m_requests.for_each_list([&](const queue::ListedList& list) {
    if (list.entry) {
      queue::Entry whole = *list.entry;
      whole.target.object.clear();
      note(whole, submitted_number(list.entry->submitted).value_or(UINT64_MAX));
    }
    return true;
  });
  std::sort(m_rows.begin(), m_rows.end());
  std::sort(m_latest.begin(), m_latest.end());
  // One pair per key, with its latest time (the last of its run).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> collapsed;
  for (const auto& pair : m_latest) {
    if (!collapsed.empty() && collapsed.back().first == pair.first) {
      collapsed.back().second = pair.second;
    } else {
      collapsed.push_back(pair);
    }
  }
  m_latest = std::move(collapsed);
  m_loaded = true;
}

std::optional<std::string>
PendingIndex::find(const queue::Entry& entry,
                   std::optional<std::size_t> copies,
                   std::optional<int> days)
{
  if (auto listed = find_listed(entry, copies, days)) {
    return listed->row.name;
  }
  return std::nullopt;
}

std::optional<queue::ListedEntry>
PendingIndex::find_listed(const queue::Entry& entry,
                          std::optional<std::size_t> copies,
                          std::optional<int> days)
{
  if (!m_loaded) {
    load();
  }
  const std::uint64_t hash = sameness(entry, copies, days);
  const auto [first, last] = std::equal_range(
    m_rows.begin(),
    m_rows.end(),
    std::make_pair(hash, std::uint64_t{0}),
    [](const auto& a, const auto& b) { return a.first < b.first; });
  // The latest request of the other operation for an overlapping target.
  const Operation other = entry.operation == Operation::migrate ? Operation::recall
                                                                : Operation::migrate;
  std::uint64_t conflict = 0;
  if (entry.target.object.empty()) {
    conflict = latest_of(m_latest, overlap_key(other, entry.target, true));
  } else {
    queue::Target container = entry.target;
    container.object.clear();
    conflict = std::max(latest_of(m_latest, overlap_key(other, entry.target, false)),
                        latest_of(m_latest, overlap_key(other, container, false)));
  }
  // Newest first (sorted by time within a hash): an older one has the
  // conflicts of the newer ones after it too.
  for (auto it = last; it != first;) {
    --it;
    if (it->second <= conflict) {
      break;
    }
    queue::Entry candidate = entry;
    candidate.submitted = queue::format_submitted(std::chrono::sys_time<std::chrono::milliseconds>(
      std::chrono::milliseconds(static_cast<std::int64_t>(it->second))));
    const std::string id = queue::encode_entry(candidate);
    auto found = m_requests.find(queue::Which::pending, id);
    if (found && queue::copies_of(found->row.content_type) == copies
        && queue::days_of(found->row.content_type) == days
        && !queue::release_of(found->row.content_type)) {
      return found;
    }
  }
  return std::nullopt;
}

} // namespace hlm::ctl
