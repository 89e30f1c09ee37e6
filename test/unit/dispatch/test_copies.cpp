// The choice of replicas for `recall --copies N` (dispatch/copies.hpp), on
// synthetic placements.

#include <hlm/dispatch/copies.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::dispatch;
using connector::Placement;

namespace {

using Objects = std::vector<std::vector<CopyCandidate>>;

// A replica on tape only, on `volume` at `position`.
CopyCandidate
on_tape(std::string device, std::string volume, std::uint64_t position, bool in_drive = false)
{
  return {std::move(device), false, Placement{std::move(volume), position, 100, in_drive, false}};
}

// A replica whose data is on disk (premigrated: also on tape).
CopyCandidate
on_disk(std::string device, std::string volume = "V", std::uint64_t position = 0)
{
  return {std::move(device), true, Placement{std::move(volume), position, 100, false, true}};
}

// A replica of a connector that cannot place it.
CopyCandidate
unplaced(std::string device, bool disk = false)
{
  return {std::move(device), disk, std::nullopt};
}

// The plan's volumes by name (all in one library).
std::vector<std::string>
names(const std::vector<VolumeId>& volumes)
{
  std::vector<std::string> out;
  for (const auto& volume : volumes) {
    out.push_back(volume.volume);
  }
  return out;
}

// A replica on tape only, on `volume` of `library`.
CopyCandidate
in_library(std::string device, std::string library, std::string volume, std::uint64_t position)
{
  return {std::move(device),
          false,
          Placement{std::move(volume), position, 100, false, false, std::move(library)}};
}

// The volumes the chosen replicas are on.
std::set<std::string>
volumes_read(const CopiesPlan& plan, const Objects& objects)
{
  std::set<std::string> volumes;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    for (const auto r : plan.objects[i].recall) {
      volumes.insert(objects[i][r].placement->volume);
    }
  }
  return volumes;
}

} // namespace

TEST_CASE("copies: one shared volume instead of each object's first replica", "[copies]")
{
  // Each object's first replica (in ring order) is on a volume of its own;
  // every object also has a replica on X. Reading the first replicas would
  // mount 4 volumes; X alone serves all.
  const Objects objects = {
    {on_tape("sdb1", "A", 0), on_tape("sdb2", "X", 400), on_tape("sdb3", "E", 0)},
    {on_tape("sdb2", "B", 0), on_tape("sdb3", "X", 100), on_tape("sdb1", "F", 0)},
    {on_tape("sdb3", "C", 0), on_tape("sdb1", "X", 300), on_tape("sdb4", "G", 0)},
    {on_tape("sdb4", "D", 0), on_tape("sdb1", "X", 200), on_tape("sdb2", "H", 0)},
  };
  const auto plan = choose_copies(objects, 1);
  CHECK(names(plan.volumes) == std::vector<std::string>{"X"});
  CHECK(mounts_of(plan, objects) == 1);
  REQUIRE(plan.objects.size() == 4);
  for (const auto& choice : plan.objects) {
    CHECK(choice.recall == std::vector<std::size_t>{1});
    // The others, by volume name (none is read by the plan or in a drive).
    CHECK(choice.alternates == std::vector<std::size_t>{0, 2});
  }
}

TEST_CASE("copies: greedy cover takes the volume covering most objects first", "[copies]")
{
  // Y covers objects 0-2 and Z objects 1-3 (a tie, Y sorts first); then
  // W and Z cover object 3 (a tie, W sorts first): 2 mounts.
  const Objects objects = {
    {on_tape("a", "W", 0), on_tape("b", "Y", 0)},
    {on_tape("a", "Z", 0), on_tape("b", "Y", 10)},
    {on_tape("a", "Z", 10), on_tape("b", "Y", 20)},
    {on_tape("a", "W", 10), on_tape("b", "Z", 20)},
  };
  const auto plan = choose_copies(objects, 1);
  CHECK(names(plan.volumes) == std::vector<std::string>{"Y", "W"});
  CHECK(mounts_of(plan, objects) == 2);
  CHECK(plan.objects[0].recall == std::vector<std::size_t>{1});
  CHECK(plan.objects[1].recall == std::vector<std::size_t>{1});
  CHECK(plan.objects[2].recall == std::vector<std::size_t>{1});
  // Object 3: W and Z both cover one; W sorts first.
  CHECK(plan.objects[3].recall == std::vector<std::size_t>{0});
  // Its alternate on Z; object 2's alternate on Z too.
  CHECK(plan.objects[3].alternates == std::vector<std::size_t>{1});
  CHECK(plan.objects[2].alternates == std::vector<std::size_t>{0});
}

TEST_CASE("copies: a volume already in a drive is read first", "[copies]")
{
  // X covers all three, but M is in a drive and covers object 0: no mount
  // for that one, and X for the rest: one mount, as with X alone.
  const Objects objects = {
    {on_tape("a", "X", 0), on_tape("b", "M", 50, true)},
    {on_tape("a", "X", 10), on_tape("b", "Y", 0)},
    {on_tape("a", "X", 20), on_tape("b", "Y", 10)},
  };
  const auto plan = choose_copies(objects, 1);
  CHECK(names(plan.volumes) == std::vector<std::string>{"M", "X"});
  CHECK(mounts_of(plan, objects) == 1);
  CHECK(plan.objects[0].recall == std::vector<std::size_t>{1});
  CHECK(plan.objects[1].recall == std::vector<std::size_t>{0});
  CHECK(plan.objects[2].recall == std::vector<std::size_t>{0});
  // Object 0's alternate is on X, which the plan reads anyway.
  CHECK(plan.objects[0].alternates == std::vector<std::size_t>{0});
}

TEST_CASE("copies: ties are broken the same way whatever the replica order", "[copies]")
{
  // Two volumes that each cover both objects: the one named first wins,
  // in whichever order the replicas come.
  const Objects forward = {
    {on_tape("a", "P", 0), on_tape("b", "Q", 0)},
    {on_tape("a", "P", 10), on_tape("b", "Q", 10)},
  };
  const Objects backward = {
    {on_tape("b", "Q", 0), on_tape("a", "P", 0)},
    {on_tape("b", "Q", 10), on_tape("a", "P", 10)},
  };
  const auto plan = choose_copies(forward, 1);
  CHECK(names(plan.volumes) == std::vector<std::string>{"P"});
  CHECK(plan.objects[0].recall == std::vector<std::size_t>{0});
  const auto reversed = choose_copies(backward, 1);
  CHECK(names(reversed.volumes) == std::vector<std::string>{"P"});
  CHECK(reversed.objects[0].recall == std::vector<std::size_t>{1});
  CHECK(reversed.objects[1].recall == std::vector<std::size_t>{1});
  // And the same answer every time.
  for (int i = 0; i < 5; ++i) {
    const auto again = choose_copies(forward, 1);
    CHECK(again.volumes == plan.volumes);
    CHECK(again.objects == plan.objects);
  }
}

TEST_CASE("copies: N = 2 takes distinct replicas on distinct devices", "[copies]")
{
  // Two replicas of object 0 on the same volume (a shared library): both
  // may come from it, since they are different replicas (devices).
  const Objects objects = {
    {on_tape("sdb1", "X", 0), on_tape("sdb2", "X", 500), on_tape("sdb3", "Y", 0)},
    {on_tape("sdb1", "X", 100), on_tape("sdb2", "Y", 100), on_tape("sdb3", "Z", 0)},
  };
  const auto plan = choose_copies(objects, 2);
  REQUIRE(plan.objects.size() == 2);
  for (std::size_t i = 0; i < objects.size(); ++i) {
    INFO("object " << i);
    const auto& recall = plan.objects[i].recall;
    REQUIRE(recall.size() == 2);
    std::set<std::string> devices;
    for (const auto r : recall) {
      devices.insert(objects[i][r].device);
    }
    CHECK(devices.size() == 2);
    CHECK(plan.objects[i].alternates.size() == 1);
  }
  // X and Y give both objects two copies: Z is never mounted.
  CHECK(volumes_read(plan, objects) == std::set<std::string>{"X", "Y"});
  CHECK(mounts_of(plan, objects) == 2);
  // Object 0: both copies from X (covering 2), in position order.
  CHECK(plan.objects[0].recall == std::vector<std::size_t>{0, 1});
  CHECK(plan.objects[1].recall == std::vector<std::size_t>{0, 1});

  // More copies than replicas: every replica not on disk, once.
  const auto all = choose_copies(objects, 5);
  CHECK(all.objects[0].recall == std::vector<std::size_t>{0, 1, 2});
  CHECK(all.objects[0].alternates.empty());
}

TEST_CASE("copies: replicas already on disk count", "[copies]")
{
  const Objects objects = {
    // Premigrated on one replica: N = 1 needs nothing.
    {on_tape("sdb1", "X", 0), on_disk("sdb2"), on_tape("sdb3", "Y", 0)},
    // Resident (never migrated, no placement): nothing either.
    {unplaced("sdb1", true), unplaced("sdb2", true), unplaced("sdb3", true)},
    // Nothing on disk.
    {on_tape("sdb1", "Y", 10), on_tape("sdb2", "X", 10), on_tape("sdb3", "Z", 0)},
  };
  const auto one = choose_copies(objects, 1);
  CHECK(one.objects[0] == CopyChoice{}); // no recall, so no alternates
  CHECK(one.objects[1] == CopyChoice{});
  CHECK(one.objects[2].recall == std::vector<std::size_t>{1}); // X, by name
  CHECK(names(one.volumes) == std::vector<std::string>{"X"});

  // N = 2: object 0 needs one more, on X or Y; X covers both objects.
  const auto two = choose_copies(objects, 2);
  CHECK(two.objects[0].recall == std::vector<std::size_t>{0});
  CHECK(two.objects[1] == CopyChoice{});
  CHECK(two.objects[2].recall == std::vector<std::size_t>{0, 1});
  CHECK(names(two.volumes) == std::vector<std::string>{"X", "Y"});

  // N = 0: nothing at all.
  const auto none = choose_copies(objects, 0);
  CHECK(none.volumes.empty());
  CHECK(none.objects[2].recall.empty());
}

TEST_CASE("copies: without placements, the first replicas in ring order not on disk", "[copies]")
{
  const Objects objects = {
    {unplaced("sdb3"), unplaced("sdb1"), unplaced("sdb2")},
    {unplaced("sdb2", true), unplaced("sdb4"), unplaced("sdb1")},
    {unplaced("sdb1", true), unplaced("sdb2"), unplaced("sdb3")},
  };
  const auto one = choose_copies(objects, 1);
  CHECK(one.volumes.empty());
  CHECK(one.objects[0] == CopyChoice{{0}, {1, 2}});
  CHECK(one.objects[1] == CopyChoice{});
  CHECK(one.objects[2] == CopyChoice{});
  const auto two = choose_copies(objects, 2);
  CHECK(two.objects[0] == CopyChoice{{0, 1}, {2}});
  CHECK(two.objects[1] == CopyChoice{{1}, {2}});
  CHECK(two.objects[2] == CopyChoice{{1}, {2}});
  CHECK(mounts_of(two, objects) == 0);
}

TEST_CASE("copies: placed replicas first, then unplaced ones for what is left", "[copies]")
{
  // Servers with different connectors: one replica placed, two not.
  const Objects objects = {
    {unplaced("sdb1"), on_tape("sdb2", "X", 0), unplaced("sdb3")},
  };
  const auto one = choose_copies(objects, 1);
  CHECK(one.objects[0] == CopyChoice{{1}, {0, 2}});
  const auto two = choose_copies(objects, 2);
  CHECK(two.objects[0] == CopyChoice{{0, 1}, {2}});
}

TEST_CASE("copies: no objects", "[copies]")
{
  const auto plan = choose_copies({}, 1);
  CHECK(plan.objects.empty());
  CHECK(plan.volumes.empty());
}

TEST_CASE("copies: equal volume names in two libraries are two volumes", "[copies]")
{
  // Nodes a and b have libraries of their own, each with a T1; c's library
  // is shared with b. Counted by name alone, T1 would hold a replica of
  // both objects; it is two cartridges, each with one.
  const Objects objects = {
    {in_library("a", "libA", "T1", 0), in_library("b", "libB", "T2", 0)},
    {in_library("b", "libB", "T1", 0), in_library("c", "libB", "T2", 100)},
  };
  const auto plan = choose_copies(objects, 1);
  // libB's T2 holds a replica of both objects: one mount serves them.
  REQUIRE(plan.volumes.size() == 1);
  CHECK(plan.volumes[0] == VolumeId{"libB", "T2"});
  CHECK(plan.objects[0].recall == std::vector<std::size_t>{1});
  CHECK(plan.objects[1].recall == std::vector<std::size_t>{1});
  CHECK(mounts_of(plan, objects) == 1);

  // The same layout with one library for all: T1 and T2 each cover both;
  // T1 sorts first.
  const Objects shared = {
    {in_library("a", "lib", "T1", 0), in_library("b", "lib", "T2", 0)},
    {in_library("b", "lib", "T1", 100), in_library("c", "lib", "T2", 100)},
  };
  const auto one = choose_copies(shared, 1);
  REQUIRE(one.volumes.size() == 1);
  CHECK(one.volumes[0] == VolumeId{"lib", "T1"});
}

TEST_CASE("copies: a shortfall counts the copies no replica can give", "[copies]")
{
  const Objects objects = {
    {on_tape("a", "X", 0), on_tape("b", "Y", 0)}, // two replicas answered
    {on_disk("a"), on_tape("b", "X", 100)},       // one on disk, one on tape
    {on_disk("a"), on_disk("b")},                 // both on disk
    {},                                           // no replica answered
  };
  const auto plan = choose_copies(objects, 3);
  CHECK(plan.objects[0].recall == std::vector<std::size_t>{0, 1});
  CHECK(plan.objects[0].shortfall == 1);
  CHECK(plan.objects[1].recall == std::vector<std::size_t>{1});
  CHECK(plan.objects[1].shortfall == 1);
  CHECK(plan.objects[2].recall.empty());
  CHECK(plan.objects[2].shortfall == 1);
  CHECK(plan.objects[3].shortfall == 3);

  const auto enough = choose_copies(objects, 2);
  CHECK(enough.objects[0].shortfall == 0);
  CHECK(enough.objects[1].shortfall == 0);
  CHECK(enough.objects[2].shortfall == 0);
  CHECK(enough.objects[3].shortfall == 2);
}
