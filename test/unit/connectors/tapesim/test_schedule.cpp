#include "small_timing.hpp"

#include <connectors/tapesim/schedule.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace hlm::connector::tapesim;
using hlm::test::small_timing;

namespace {

// Carries out `plan` the way the connector does and returns the cost,
// with every drive unloaded at the end.
double
run(const std::vector<CartridgeRun>& plan,
    const std::vector<Extent>& extents,
    Drives& drives,
    std::vector<std::size_t>* order = nullptr)
{
  for (const auto& r : plan) {
    const auto drive = drives.holding(r.cartridge).value_or(r.drive);
    drives.mount(drive, r.cartridge);
    for (const auto i : r.extents) {
      drives.access(drive, extents[i].position, extents[i].length);
      if (order) {
        order->push_back(i);
      }
    }
  }
  for (std::size_t d = 0; d < drives.size(); ++d) {
    drives.dismount(d);
  }
  return drives.total().drive_seconds();
}

} // namespace

TEST_CASE("plan_reads groups by cartridge and reads each in position order", "[tapesim]")
{
  // Arrival order interleaves two cartridges and goes backwards on tape.
  const std::vector<Extent> extents = {{"C1", 600, 100},
                                       {"C2", 0, 200},
                                       {"C1", 100, 50},
                                       {"C2", 300, 10},
                                       {"C1", 400, 10}};
  Drives drives(small_timing(), std::vector<DriveState>(1));
  const auto plan = plan_reads(extents, drives);
  REQUIRE(plan.size() == 2);        // each cartridge once
  CHECK(plan[0].cartridge == "C1"); // the longer work first
  CHECK(plan[0].extents == std::vector<std::size_t>{2, 4, 0});
  CHECK(plan[1].cartridge == "C2");
  CHECK(plan[1].extents == std::vector<std::size_t>{1, 3});

  std::vector<std::size_t> order;
  const double planned = run(plan, extents, drives, &order);
  CHECK(order == std::vector<std::size_t>{2, 4, 0, 1, 3});
  // From empty drives to empty drives, the plan is the lower bound.
  CHECK(planned == Approx(lower_bound_seconds(extents, small_timing())));

  // Arrival order, one at a time, costs more: C1, C2, C1, C2, C1.
  Drives fifo(small_timing(), std::vector<DriveState>(1));
  std::vector<CartridgeRun> one_by_one;
  for (std::size_t i = 0; i < extents.size(); ++i) {
    one_by_one.push_back({0, extents[i].cartridge, {i}});
  }
  const double arrival = run(one_by_one, extents, fifo);
  CHECK(fifo.total().mounts == 5);
  CHECK(arrival > 2 * planned);
}

TEST_CASE("plan_reads hand-computed lower bound", "[tapesim]")
{
  // C1: robot 5 + load 7 + locate 3 + 0.5 + locate 13.5 + 1 + rewind 28 +
  // unload 11 = 69; C2: 12 + 2 + rewind 8 + unload 11 = 33.
  const std::vector<Extent> extents = {{"C1", 100, 50}, {"C1", 600, 100}, {"C2", 0, 200}};
  CHECK(lower_bound_seconds(extents, small_timing()) == Approx(102));
  // A duplicate extent (two items, one copy) is read once.
  const std::vector<Extent> doubled = {{"C1", 100, 50},
                                       {"C1", 100, 50},
                                       {"C1", 600, 100},
                                       {"C2", 0, 200}};
  CHECK(lower_bound_seconds(doubled, small_timing()) == Approx(102));
}

TEST_CASE("plan_reads reads a cartridge already in a drive there, first", "[tapesim]")
{
  std::vector<DriveState> states(2);
  states[1].cartridge = "C3";
  states[1].position = 500;
  Drives drives(small_timing(), states);
  const std::vector<Extent> extents = {{"C1", 0, 10}, {"C3", 100, 10}, {"C2", 0, 10}};
  const auto plan = plan_reads(extents, drives);
  REQUIRE(plan.size() == 3);
  bool c3_first_on_drive_1 = false;
  for (const auto& r : plan) {
    if (r.drive == 1) {
      c3_first_on_drive_1 = r.cartridge == "C3";
      break;
    }
  }
  CHECK(c3_first_on_drive_1);
  run(plan, extents, drives);
  CHECK(drives.total().mounts == 2); // C3 was not mounted again
}

TEST_CASE("plan_reads spreads cartridges over the drives", "[tapesim]")
{
  std::mt19937 random(7);
  std::vector<Extent> extents;
  for (int c = 0; c < 8; ++c) {
    for (int k = 0; k < 10; ++k) {
      // Ten non-overlapping extents per cartridge.
      extents.push_back(
        {"C" + std::to_string(c), static_cast<std::uint64_t>(k * 90 + random() % 80), 10});
    }
  }
  std::shuffle(extents.begin(), extents.end(), random);
  Drives drives(small_timing(), std::vector<DriveState>(2));
  const auto plan = plan_reads(extents, drives);
  CHECK(plan.size() == 8);
  std::size_t on_drive_0 = 0;
  for (const auto& r : plan) {
    on_drive_0 += r.drive == 0 ? 1 : 0;
    for (std::size_t k = 1; k < r.extents.size(); ++k) {
      CHECK(extents[r.extents[k - 1]].position <= extents[r.extents[k]].position);
    }
  }
  CHECK(on_drive_0 >= 3); // about half each
  CHECK(on_drive_0 <= 5);
  const double seconds = run(plan, extents, drives);
  CHECK(seconds == Approx(lower_bound_seconds(extents, small_timing())));
  // Two drives share the work: the makespan is about half of it.
  CHECK(drives.makespan() < 0.6 * seconds);
}
