#pragma once

// What the fuzz targets share: a failed invariant aborts with a message,
// which libFuzzer reports as a crash and saves the input.

#include <cstdio>
#include <cstdlib>

#define HLM_FUZZ_CHECK(condition)                                                                  \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition);       \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)
