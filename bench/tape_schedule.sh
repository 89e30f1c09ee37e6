#!/usr/bin/env bash
# Simulated drive-seconds to recall N objects queued as N single-object
# requests from a tapesim library: FIFO (the seed's, one request at a time)
# beside batched (hlm-dispatch's default: one list, ordered by cartridge and
# position) beside the physical lower bound, for N = 100, 1,000, 10,000;
# 20 cartridges, 2 drives. Real bytes move (about 1 GB of scratch space for
# N = 10,000); time is simulated.
#
#   bench/tape_schedule.sh [BUILD_DIR] [bench_tape_schedule options...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shift || true
work=$(mktemp -d "$build/bench-tape.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/bench/bench_tape_schedule" --dir "$work/run" "$@"
