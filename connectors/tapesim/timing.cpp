#include <connectors/tapesim/timing.hpp>

#include <algorithm>
#include <cassert>
#include <tuple>

namespace hlm::connector::tapesim {

double
Timing::locate(std::uint64_t from, std::uint64_t to) const
{
  const auto distance = from > to ? from - to : to - from;
  return 3 * locate_average_seconds * static_cast<double>(distance)
         / static_cast<double>(tape_length);
}

double
Timing::rewind(std::uint64_t from) const
{
  return 2 * rewind_average_seconds * static_cast<double>(from) / static_cast<double>(tape_length);
}

double
Timing::transfer(std::uint64_t bytes) const
{
  return static_cast<double>(bytes) / bytes_per_second;
}

double
Cost::drive_seconds() const
{
  return robot + load + locate + transfer + rewind + unload;
}

Cost&
Cost::operator+=(const Cost& other)
{
  mounts += other.mounts;
  bytes += other.bytes;
  robot += other.robot;
  load += other.load;
  locate += other.locate;
  transfer += other.transfer;
  rewind += other.rewind;
  unload += other.unload;
  return *this;
}

Drives::Drives(Timing timing, std::vector<DriveState> drives, double now)
  : m_timing(timing),
    m_now(now)
{
  m_drives.reserve(drives.size());
  for (auto& state : drives) {
    m_drives.push_back({std::move(state), 0});
  }
}

std::optional<std::size_t>
Drives::holding(const std::string& cartridge) const
{
  for (std::size_t i = 0; i < m_drives.size(); ++i) {
    if (m_drives[i].state.cartridge == cartridge) {
      return i;
    }
  }
  return std::nullopt;
}

Cost
Drives::mount(std::size_t drive, const std::string& cartridge)
{
  if (m_drives[drive].state.cartridge == cartridge) {
    return {};
  }
  assert(!holding(cartridge)); // a cartridge is in one drive at a time
  Cost cost = dismount(drive);
  Cost load;
  load.mounts = 1;
  load.robot = m_timing.robot_exchange_seconds;
  load.load = m_timing.load_seconds;
  m_drives[drive].state.cartridge = cartridge;
  m_drives[drive].state.position = 0;
  cost += charge(drive, load);
  return cost;
}

Cost
Drives::access(std::size_t drive, std::uint64_t position, std::uint64_t length)
{
  auto& state = m_drives[drive].state;
  assert(state.cartridge);
  Cost cost;
  cost.locate = m_timing.locate(state.position, position);
  cost.transfer = m_timing.transfer(length);
  cost.bytes = length;
  state.position = position + length;
  return charge(drive, cost);
}

Cost
Drives::dismount(std::size_t drive)
{
  auto& state = m_drives[drive].state;
  if (!state.cartridge) {
    return {};
  }
  Cost cost;
  cost.rewind = m_timing.rewind(state.position);
  cost.unload = m_timing.unload_seconds;
  state.cartridge.reset();
  state.position = 0;
  return charge(drive, cost);
}

std::size_t
Drives::pick_drive_for_mount() const
{
  const auto key = [&](std::size_t i) {
    return std::make_tuple(m_drives[i].state.cartridge.has_value(),
                           m_drives[i].busy,
                           m_drives[i].state.last_used);
  };
  std::size_t best = 0;
  for (std::size_t i = 1; i < m_drives.size(); ++i) {
    if (key(i) < key(best)) {
      best = i;
    }
  }
  return best;
}

double
Drives::makespan() const
{
  double longest = 0;
  for (const auto& drive : m_drives) {
    longest = std::max(longest, drive.busy);
  }
  return longest;
}

std::vector<DriveState>
Drives::states() const
{
  std::vector<DriveState> out;
  out.reserve(m_drives.size());
  for (const auto& drive : m_drives) {
    out.push_back(drive.state);
  }
  return out;
}

Cost
Drives::charge(std::size_t drive, const Cost& cost)
{
  m_drives[drive].busy += cost.drive_seconds();
  m_drives[drive].state.last_used = m_now + m_drives[drive].busy;
  m_total += cost;
  return cost;
}

} // namespace hlm::connector::tapesim
