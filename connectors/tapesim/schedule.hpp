#pragma once

#include <connectors/tapesim/timing.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hlm::connector::tapesim {

// Where one object's copy lies on tape.
struct Extent
{
  std::string cartridge;
  std::uint64_t position = 0;
  std::uint64_t length = 0;
};

// The work of one drive on one cartridge: the extents to read, in the
// order to read them.
struct CartridgeRun
{
  std::size_t drive = 0;
  std::string cartridge;
  std::vector<std::size_t> extents; // indexes into the planned span
};

// Orders reads the way a tape library wants them: grouped by cartridge
// (each cartridge mounted once per call), each cartridge read in position
// order (one
// forward pass), cartridges spread over the drives. A cartridge already in a
// drive is read there first; the others, longest work first, go to the
// drive whose queue ends earliest (among equals: an empty drive, then the
// one used least recently). Runs are returned in the order the drives start
// them; `drives` is not changed.
std::vector<CartridgeRun> plan_reads(std::span<const Extent> extents, const Drives& drives);

// The physical lower bound, in drive-seconds, for reading `extents` from
// empty drives and leaving them empty: every needed cartridge mounted once
// (robot exchange and load), read in one forward pass (locates from the
// start over the gaps, transfers), rewound from where the pass ended and
// unloaded. Duplicate extents are read once.
double lower_bound_seconds(std::span<const Extent> extents, const Timing& timing);

} // namespace hlm::connector::tapesim
