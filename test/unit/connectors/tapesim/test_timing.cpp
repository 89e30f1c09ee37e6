#include "small_timing.hpp"

#include <connectors/tapesim/timing.hpp>

#include <catch2/catch.hpp>

using namespace hlm::connector::tapesim;
using hlm::test::small_timing;

TEST_CASE("tapesim timing scales locate and rewind with distance", "[tapesim]")
{
  const Timing t = small_timing();
  CHECK(t.locate(0, 300) == Approx(9.0));    // 3 × 10 × 300/1000
  CHECK(t.locate(700, 100) == Approx(18.0)); // either direction
  CHECK(t.locate(42, 42) == 0.0);
  CHECK(t.rewind(500) == Approx(20.0)); // 2 × 20 × 500/1000
  CHECK(t.rewind(0) == 0.0);
  CHECK(t.transfer(250) == Approx(2.5));

  // LTO-9 defaults: a locate over a third of the tape is the average.
  const Timing lto9;
  CHECK(lto9.locate(0, lto9.tape_length / 3) == Approx(45.0).epsilon(1e-6));
  CHECK(lto9.rewind(lto9.tape_length / 2) == Approx(55.0).epsilon(1e-6));
  CHECK(lto9.transfer(400'000'000) == Approx(1.0));
}

TEST_CASE("tapesim drives charge mounts, reads and unloads", "[tapesim]")
{
  Drives drives(small_timing(), std::vector<DriveState>(1));

  // C1: robot 5 + load 7; locate 0→100 (3 s) and read 50 bytes (0.5 s);
  // locate 150→600 (13.5 s) and read 100 bytes (1 s).
  drives.mount(0, "C1");
  drives.access(0, 100, 50);
  drives.access(0, 600, 100);
  CHECK(drives.state(0).position == 700);
  CHECK(drives.busy(0) == Approx(12 + 3 + 0.5 + 13.5 + 1));

  // Mounting the cartridge already there costs nothing.
  const Cost again = drives.mount(0, "C1");
  CHECK(again.drive_seconds() == 0.0);
  CHECK(again.mounts == 0);

  // C2 replaces C1: rewind from 700 (28 s) and unload (11 s), then robot
  // and load; read 200 bytes at 0 (2 s).
  const Cost swap = drives.mount(0, "C2");
  CHECK(swap.rewind == Approx(28.0));
  CHECK(swap.unload == Approx(11.0));
  CHECK(swap.mounts == 1);
  drives.access(0, 0, 200);
  drives.dismount(0); // rewind from 200 (8 s), unload (11 s)
  CHECK_FALSE(drives.state(0).cartridge);

  const Cost& total = drives.total();
  CHECK(total.mounts == 2);
  CHECK(total.bytes == 350);
  CHECK(total.robot == Approx(10));
  CHECK(total.load == Approx(14));
  CHECK(total.locate == Approx(16.5));
  CHECK(total.transfer == Approx(3.5));
  CHECK(total.rewind == Approx(36));
  CHECK(total.unload == Approx(22));
  CHECK(total.drive_seconds() == Approx(102));
  CHECK(drives.makespan() == Approx(102));
}

TEST_CASE("tapesim picks an empty drive, then the idlest, then the least recently used",
          "[tapesim]")
{
  std::vector<DriveState> states(3);
  states[0].cartridge = "A";
  states[0].last_used = 50;
  states[2].cartridge = "B";
  states[2].last_used = 10;
  {
    Drives drives(small_timing(), states, 100);
    CHECK(drives.pick_drive_for_mount() == 1); // the empty one
    CHECK(drives.holding("B") == 2u);
    CHECK_FALSE(drives.holding("C"));
  }
  states[1].cartridge = "C";
  states[1].last_used = 70;
  Drives drives(small_timing(), states, 100);
  CHECK(drives.pick_drive_for_mount() == 2); // B's drive was used longest ago
  drives.access(2, 0, 100);                  // now it has work in this call
  CHECK(drives.pick_drive_for_mount() == 0);
  CHECK(drives.state(2).last_used == Approx(101)); // clock 100 + 1 s of transfer
}
