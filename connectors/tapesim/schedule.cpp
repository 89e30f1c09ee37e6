#include <connectors/tapesim/schedule.hpp>

#include <algorithm>
#include <map>
#include <tuple>

namespace hlm::connector::tapesim {

namespace {

// Extent indexes per cartridge, each group sorted by position (then by
// index, so equal positions keep arrival order).
std::map<std::string, std::vector<std::size_t>>
group_by_cartridge(std::span<const Extent> extents)
{
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < extents.size(); ++i) {
    groups[extents[i].cartridge].push_back(i);
  }
  for (auto& [cartridge, members] : groups) {
    std::stable_sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) {
      return extents[a].position < extents[b].position;
    });
  }
  return groups;
}

// Drive-seconds of one forward pass over `members` (sorted) from `start`.
double
pass_seconds(std::span<const Extent> extents,
             const std::vector<std::size_t>& members,
             std::uint64_t start,
             const Timing& timing)
{
  double seconds = 0;
  std::uint64_t head = start;
  for (const std::size_t i : members) {
    seconds += timing.locate(head, extents[i].position) + timing.transfer(extents[i].length);
    head = extents[i].position + extents[i].length;
  }
  return seconds;
}

} // namespace

std::vector<CartridgeRun>
plan_reads(std::span<const Extent> extents, const Drives& drives)
{
  const Timing& timing = drives.timing();
  auto groups = group_by_cartridge(extents);

  // Per drive: its runs and when its queue ends (seconds from now).
  std::vector<std::vector<CartridgeRun>> queues(drives.size());
  std::vector<double> ends(drives.size(), 0.0);
  std::vector<bool> holds_other(drives.size(), false);
  for (std::size_t d = 0; d < drives.size(); ++d) {
    holds_other[d] = drives.state(d).cartridge.has_value();
  }

  struct Pending
  {
    std::string cartridge;
    std::vector<std::size_t> members;
    double seconds; // mount, pass; the unmount of what it replaces is added on placement
  };
  std::vector<Pending> pending;
  for (auto& [cartridge, members] : groups) {
    if (const auto drive = drives.holding(cartridge)) {
      const auto d = *drive;
      ends[d] += pass_seconds(extents, members, drives.state(d).position, timing);
      holds_other[d] = false;
      queues[d].push_back({d, cartridge, std::move(members)});
      continue;
    }
    const double seconds = timing.robot_exchange_seconds + timing.load_seconds
                           + pass_seconds(extents, members, 0, timing);
    pending.push_back({cartridge, std::move(members), seconds});
  }
  // Longest work first, each to the drive that is free first (the LPT
  // rule). Drive-seconds do not depend on the placement; the makespan does.
  std::stable_sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
    return a.seconds > b.seconds;
  });
  for (auto& work : pending) {
    std::size_t d = 0;
    for (std::size_t i = 1; i < ends.size(); ++i) {
      const auto key = [&](std::size_t x) {
        return std::make_tuple(ends[x],
                               static_cast<bool>(holds_other[x]),
                               drives.state(x).last_used);
      };
      if (key(i) < key(d)) {
        d = i;
      }
    }
    if (holds_other[d]) {
      // What the drive holds comes out first.
      ends[d] += timing.rewind(drives.state(d).position) + timing.unload_seconds;
    }
    holds_other[d] = true;
    ends[d] += work.seconds;
    queues[d].push_back({d, std::move(work.cartridge), std::move(work.members)});
  }

  // Interleave the drives' queues so runs come in the order drives start
  // them (the process carries them out one after another).
  std::vector<CartridgeRun> plan;
  std::size_t round = 0;
  bool more = true;
  while (more) {
    more = false;
    for (auto& queue : queues) {
      if (round < queue.size()) {
        plan.push_back(std::move(queue[round]));
        more = true;
      }
    }
    ++round;
  }
  return plan;
}

double
lower_bound_seconds(std::span<const Extent> extents, const Timing& timing)
{
  double seconds = 0;
  for (auto& [cartridge, members] : group_by_cartridge(extents)) {
    // Duplicates (two replicas' items naming one extent) are read once.
    members.erase(std::unique(members.begin(),
                              members.end(),
                              [&](std::size_t a, std::size_t b) {
                                return extents[a].position == extents[b].position
                                       && extents[a].length == extents[b].length;
                              }),
                  members.end());
    const auto& last = extents[members.back()];
    seconds += timing.robot_exchange_seconds + timing.load_seconds
               + pass_seconds(extents, members, 0, timing)
               + timing.rewind(last.position + last.length) + timing.unload_seconds;
  }
  return seconds;
}

} // namespace hlm::connector::tapesim
