#include <hlm/dispatch/copies.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <queue>
#include <set>
#include <tuple>

namespace hlm::dispatch {

namespace {

bool
is_on_disk(const CopyCandidate& candidate)
{
  return candidate.on_disk || (candidate.placement && candidate.placement->on_disk);
}

// A replica that could be read from a volume.
struct OnVolume
{
  std::size_t object = 0;
  std::uint64_t position = 0;
  std::size_t replica = 0;

  auto operator<=>(const OnVolume&) const = default;
};

struct Volume
{
  VolumeId name;
  bool in_drive = false;
  std::vector<OnVolume> replicas; // by object, then position
};

// The greedy set cover's state: what each object still needs, which
// replicas are taken, and the volumes (sorted by name, so index order is
// name order).
class Cover
{
public:
  Cover(std::span<const std::vector<CopyCandidate>> objects, std::size_t copies)
    : m_need(objects.size(), 0),
      m_shortfall(objects.size(), 0),
      m_taken(objects.size())
  {
    std::map<VolumeId, Volume> by_name;
    for (std::size_t i = 0; i < objects.size(); ++i) {
      const auto& replicas = objects[i];
      m_taken[i].assign(replicas.size(), false);
      const auto on_disk = static_cast<std::size_t>(
        std::count_if(replicas.begin(), replicas.end(), is_on_disk));
      if (on_disk >= copies) {
        continue;
      }
      m_need[i] = std::min(copies - on_disk, replicas.size() - on_disk);
      m_shortfall[i] = copies - on_disk - m_need[i];
      for (std::size_t r = 0; r < replicas.size(); ++r) {
        const auto& placement = replicas[r].placement;
        if (placement && !is_on_disk(replicas[r])) {
          VolumeId id{placement->library, placement->volume};
          auto& volume = by_name[id];
          volume.name = std::move(id);
          volume.in_drive = volume.in_drive || placement->in_drive;
          volume.replicas.push_back({i, placement->position, r});
        }
      }
    }
    for (auto& entry : by_name) {
      auto& volume = entry.second;
      std::sort(volume.replicas.begin(), volume.replicas.end());
      m_volumes.push_back(std::move(volume));
    }
  }

  // The copies reading volume `v` would give now: per object, its replicas
  // there not yet taken, at most what it still needs.
  std::size_t
  coverage(std::size_t v) const
  {
    std::size_t met = 0;
    std::size_t given = 0; // to the current object
    std::size_t object = std::numeric_limits<std::size_t>::max();
    for (const auto& on : m_volumes[v].replicas) {
      if (on.object != object) {
        object = on.object;
        given = 0;
      }
      if (!m_taken[on.object][on.replica] && given < m_need[on.object]) {
        ++given;
        ++met;
      }
    }
    return met;
  }

  // Takes volume `v`'s replicas for the objects that need them, in
  // position order.
  void
  take(std::size_t v)
  {
    for (const auto& on : m_volumes[v].replicas) {
      if (!m_taken[on.object][on.replica] && m_need[on.object] > 0) {
        m_taken[on.object][on.replica] = true;
        --m_need[on.object];
      }
    }
    m_order.push_back(v);
  }

  const std::vector<Volume>&
  volumes() const
  {
    return m_volumes;
  }
  const std::vector<std::size_t>&
  order() const
  {
    return m_order;
  }
  std::vector<std::size_t>&
  need()
  {
    return m_need;
  }
  const std::vector<std::size_t>&
  shortfall() const
  {
    return m_shortfall;
  }
  std::vector<std::vector<bool>>&
  taken()
  {
    return m_taken;
  }

private:
  std::vector<std::size_t> m_need;
  std::vector<std::size_t> m_shortfall; // wanted beyond the replicas
  std::vector<std::vector<bool>> m_taken;
  std::vector<Volume> m_volumes;
  std::vector<std::size_t> m_order; // volumes taken, in order
};

// A volume's rank in the greedy order: in a drive first, then the most
// copies given, then the name (the lower index).
struct Rank
{
  bool in_drive = false;
  std::size_t coverage = 0;
  std::size_t volume = 0;

  bool
  operator<(const Rank& other) const // "ranks below"
  {
    return std::tie(in_drive, coverage, other.volume)
           < std::tie(other.in_drive, other.coverage, volume);
  }
};

// Greedy set cover with lazy evaluation: a volume's coverage only shrinks
// as others are taken, so a stale rank is an upper bound, and the top of
// the queue is taken once its rank is recomputed unchanged. That takes the
// same volumes, in the same order, as recomputing every rank each step.
void
run_cover(Cover& cover)
{
  std::priority_queue<Rank> queue;
  const auto& volumes = cover.volumes();
  for (std::size_t v = 0; v < volumes.size(); ++v) {
    queue.push({volumes[v].in_drive, cover.coverage(v), v});
  }
  while (!queue.empty()) {
    auto top = queue.top();
    queue.pop();
    const auto now = cover.coverage(top.volume);
    if (now == 0) {
      continue;
    }
    if (now == top.coverage) {
      cover.take(top.volume);
    } else {
      top.coverage = now;
      queue.push(top);
    }
  }
}

// The replicas of object `i` not on disk and not taken, best first:
// placed ones on volumes the plan reads (in the plan's order), then on
// volumes in a drive, then the other volumes by name, each by position;
// then those without a placement, in ring order.
std::vector<std::size_t>
alternates_of(const std::vector<CopyCandidate>& replicas,
              const std::vector<bool>& taken,
              const std::map<VolumeId, std::size_t>& plan_rank)
{
  using Key = std::tuple<int, std::size_t, VolumeId, std::uint64_t, std::size_t>;
  std::vector<Key> keys;
  for (std::size_t r = 0; r < replicas.size(); ++r) {
    if (taken[r] || is_on_disk(replicas[r])) {
      continue;
    }
    const auto& placement = replicas[r].placement;
    if (!placement) {
      keys.emplace_back(3, 0, VolumeId(), 0, r);
      continue;
    }
    VolumeId volume{placement->library, placement->volume};
    const auto it = plan_rank.find(volume);
    if (it != plan_rank.end()) {
      keys.emplace_back(0, it->second, VolumeId(), placement->position, r);
    } else {
      keys.emplace_back(placement->in_drive ? 1 : 2, 0, std::move(volume), placement->position, r);
    }
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::size_t> out;
  out.reserve(keys.size());
  for (const auto& key : keys) {
    out.push_back(std::get<4>(key));
  }
  return out;
}

} // namespace

CopiesPlan
choose_copies(std::span<const std::vector<CopyCandidate>> objects, std::size_t copies)
{
  Cover cover(objects, copies);
  run_cover(cover);
  auto& need = cover.need();
  auto& taken = cover.taken();
  // What placed replicas could not give: the first replicas without a
  // placement in ring order.
  for (std::size_t i = 0; i < objects.size(); ++i) {
    for (std::size_t r = 0; r < objects[i].size() && need[i] > 0; ++r) {
      if (!taken[i][r] && !is_on_disk(objects[i][r])) {
        taken[i][r] = true;
        --need[i];
      }
    }
  }

  CopiesPlan plan;
  std::map<VolumeId, std::size_t> plan_rank;
  for (const auto v : cover.order()) {
    plan_rank.emplace(cover.volumes()[v].name, plan.volumes.size());
    plan.volumes.push_back(cover.volumes()[v].name);
  }
  plan.objects.resize(objects.size());
  for (std::size_t i = 0; i < objects.size(); ++i) {
    auto& choice = plan.objects[i];
    choice.shortfall = cover.shortfall()[i];
    for (std::size_t r = 0; r < objects[i].size(); ++r) {
      if (taken[i][r]) {
        choice.recall.push_back(r);
      }
    }
    if (!choice.recall.empty()) {
      choice.alternates = alternates_of(objects[i], taken[i], plan_rank);
    }
  }
  return plan;
}

std::size_t
mounts_of(const CopiesPlan& plan, std::span<const std::vector<CopyCandidate>> objects)
{
  std::set<VolumeId> in_drive;
  for (const auto& replicas : objects) {
    for (const auto& replica : replicas) {
      if (replica.placement && replica.placement->in_drive) {
        in_drive.insert({replica.placement->library, replica.placement->volume});
      }
    }
  }
  return static_cast<std::size_t>(
    std::count_if(plan.volumes.begin(), plan.volumes.end(), [&](const VolumeId& volume) {
      return !in_drive.contains(volume);
    }));
}

} // namespace hlm::dispatch
