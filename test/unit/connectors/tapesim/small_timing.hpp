#pragma once

#include <connectors/tapesim/timing.hpp>

namespace hlm::test {

// A timing model with round numbers, so every figure in a test can be
// checked by hand: robot 5 s, load 7 s, full-length locate 30 s and rewind
// 40 s on a 1,000-byte tape, unload 11 s, 100 bytes/s.
inline connector::tapesim::Timing
small_timing()
{
  connector::tapesim::Timing t;
  t.robot_exchange_seconds = 5;
  t.load_seconds = 7;
  t.locate_average_seconds = 10;
  t.rewind_average_seconds = 20;
  t.unload_seconds = 11;
  t.bytes_per_second = 100;
  t.tape_length = 1000;
  return t;
}

} // namespace hlm::test
