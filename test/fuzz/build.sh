#!/bin/sh
# Configures and builds the fuzz targets (test/fuzz/CMakeLists.txt) with
# clang into BUILD_DIR. Used by the ctest test fuzz_build and by run.sh.
#
#   build.sh BUILD_DIR
#
# CXX overrides the compiler (default clang++); ccache is used when present.
# Exits 125 (skip) when the compiler is missing, except under CI=true.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: build.sh BUILD_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build_dir=$1
cxx=${CXX:-clang++}

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "build.sh: \"$cxx\" not found: the fuzz targets need clang with libFuzzer" >&2
  if [ "${CI:-}" = true ]; then
    exit 1
  fi
  exit 125
fi

set -- -S "$here" -B "$build_dir" -DCMAKE_CXX_COMPILER="$cxx"
if command -v ccache >/dev/null 2>&1; then
  set -- "$@" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
CXX=$cxx cmake "$@"
cmake --build "$build_dir" -j"${HLM_FUZZ_BUILD_JOBS:-$(nproc)}"
