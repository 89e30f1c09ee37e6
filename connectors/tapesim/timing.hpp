#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hlm::connector::tapesim {

// How long a tape library takes, in simulated seconds. Defaults are LTO-9
// figures. Positions are byte offsets on a cartridge of `tape_length`
// bytes; locate and rewind times scale with the distance travelled, so a
// small simulated cartridge behaves like a full-length tape:
//
//   locate(from, to) = 3 × locate_average × |to − from| / tape_length
//   rewind(from)     = 2 × rewind_average × from / tape_length
//
// (the mean distance between two uniform random points is a third of the
// length, and from a random point to the start a half, so the averages come
// out as configured).
struct Timing
{
  double robot_exchange_seconds = 15; // slot → drive, old cartridge back to its slot
  double load_seconds = 17;           // load and thread; the head is then at 0
  double locate_average_seconds = 45;
  double rewind_average_seconds = 55;
  double unload_seconds = 30;
  double bytes_per_second = 400e6;
  std::uint64_t tape_length = 18'000'000'000'000; // bytes

  double locate(std::uint64_t from, std::uint64_t to) const;
  double rewind(std::uint64_t from) const;
  double transfer(std::uint64_t bytes) const;
};

// What some work cost: drive-seconds by activity, mounts and bytes moved.
struct Cost
{
  std::uint64_t mounts = 0;
  std::uint64_t bytes = 0;
  double robot = 0;
  double load = 0;
  double locate = 0;
  double transfer = 0;
  double rewind = 0;
  double unload = 0;

  double drive_seconds() const;
  Cost& operator+=(const Cost& other);
};

// One drive as the library remembers it between calls.
struct DriveState
{
  std::optional<std::string> cartridge; // loaded, or empty
  std::uint64_t position = 0;           // head position on the loaded cartridge
  double last_used = 0;                 // library clock when its last work ended
};

// The drives of a library during one call: what each holds, where its head
// is, and how many simulated seconds of work it has been given so far.
// Every operation returns what it cost and adds it to the drive's clock and
// to the total.
class Drives
{
public:
  // `now` is the library clock (simulated seconds) when the call starts.
  Drives(Timing timing, std::vector<DriveState> drives, double now = 0);

  std::size_t
  size() const
  {
    return m_drives.size();
  }
  const Timing&
  timing() const
  {
    return m_timing;
  }
  const DriveState&
  state(std::size_t drive) const
  {
    return m_drives[drive].state;
  }
  // Seconds of work given to `drive` in this call.
  double
  busy(std::size_t drive) const
  {
    return m_drives[drive].busy;
  }

  // The drive holding `cartridge`, if any.
  std::optional<std::size_t> holding(const std::string& cartridge) const;

  // Puts `cartridge` into `drive` (no cost when it is already there):
  // rewinds and unloads what the drive holds, then robot exchange and load.
  Cost mount(std::size_t drive, const std::string& cartridge);
  // Locates from the head to `position` and transfers `length` bytes; the
  // head ends after them. The drive must hold a cartridge.
  Cost access(std::size_t drive, std::uint64_t position, std::uint64_t length);
  // Rewinds and unloads the drive's cartridge, if any.
  Cost dismount(std::size_t drive);

  // The drive to mount a new cartridge in: an empty one first, else the one
  // with the least work in this call, else the one used least recently.
  std::size_t pick_drive_for_mount() const;

  const Cost&
  total() const
  {
    return m_total;
  }
  // The longest any drive worked: the call's elapsed simulated time.
  double makespan() const;

  std::vector<DriveState> states() const;

private:
  struct Drive
  {
    DriveState state;
    double busy = 0;
  };

  Cost charge(std::size_t drive, const Cost& cost);

  Timing m_timing;
  double m_now;
  std::vector<Drive> m_drives;
  Cost m_total;
};

} // namespace hlm::connector::tapesim
