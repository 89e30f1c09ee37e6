#pragma once

// The choice of which replicas a `recall --copies N` reads from tape, made
// where every replica of an object is visible (the dispatcher; no single
// connector call sees them all). Pure: no I/O.

#include <hlm/connector/connector.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hlm::dispatch {

// One replica of an object as a status pass saw it. Only replicas that
// answered are given; a replica whose node failed is left out (it can be
// neither counted on disk nor recalled).
struct CopyCandidate
{
  std::string device;   // the replica's device (or node/device), for the caller
  bool on_disk = false; // its data is on disk (resident or premigrated)
  // Where the backend holds its copy; nullopt when the connector cannot
  // say (dummy, ltfsdm, exec) or holds none. `placement->on_disk` counts
  // as on disk too.
  std::optional<connector::Placement> placement;
};

// What to do for one object: `recall` are the replicas to read from tape
// (indexes into the object's candidates, ascending), `alternates` the other
// replicas not on disk, best first, to try in a later round when a chosen
// one fails (none when nothing is to be recalled).
struct CopyChoice
{
  std::vector<std::size_t> recall;
  std::vector<std::size_t> alternates;
  // Copies wanted that no replica can give: the object has fewer replicas
  // (that answered) than `copies`, counting those on disk.
  std::size_t shortfall = 0;

  bool operator==(const CopyChoice&) const = default;
};

// A volume, named within its library (Placement::library).
struct VolumeId
{
  std::string library;
  std::string volume;

  auto operator<=>(const VolumeId&) const = default;
};

struct CopiesPlan
{
  std::vector<CopyChoice> objects; // one per object, in the order given
  // The volumes the choice reads from, in the order it took them: those
  // already in a drive first. Their count, less those in a drive, is the
  // mounts the recall needs.
  std::vector<VolumeId> volumes;
};

// Chooses, per object (`objects[i]` its replicas in ring order), the
// replicas to recall so that `copies` of them have their data on disk:
// - an object with at least `copies` replicas on disk needs none;
// - else it needs k = copies - on disk more, each a different replica (so
//   on a different device), as many as it has replicas not on disk; what
//   is wanted beyond that is the choice's `shortfall`;
// - they are taken among the replicas with a placement by greedy weighted
//   set cover over volumes: volumes already in a drive first (no mount),
//   then, repeatedly, the volume holding a replica of the most objects that
//   still need a copy (one mount each); ties go to the volume whose
//   (library, name) sorts first, so the choice is deterministic; on a
//   volume, replicas in position order; a volume is one (library, volume)
//   pair, so equal names in two libraries are two volumes;
// - what placed replicas cannot cover comes from replicas without a
//   placement: the first in ring order not on disk (deterministic, and
//   spread over devices as the ring spreads them).
// `copies` 0 chooses nothing.
CopiesPlan choose_copies(std::span<const std::vector<CopyCandidate>> objects, std::size_t copies);

// The mounts a plan costs: its volumes not in a drive.
std::size_t mounts_of(const CopiesPlan& plan, std::span<const std::vector<CopyCandidate>> objects);

} // namespace hlm::dispatch
