#!/bin/sh
# Runs one fuzz target.
#
#   run.sh TARGET [SECONDS]          a long run (default 600 s)
#   run.sh --smoke TARGET [SECONDS]  what ctest runs (default 15 s)
#
# TARGET is queue_entry, ring, handler_request, handler_result, pickle,
# exec_protocol or list_manifest.
#
# A long run builds the targets first (build.sh) into $HLM_FUZZ_BUILD_DIR
# (default build/fuzz under the repository), runs $HLM_FUZZ_JOBS processes
# (default: the number of CPUs) for SECONDS each, and keeps the corpus it
# grows in <build dir>/corpus/TARGET, so the next run starts from there.
# Crash inputs go to <build dir>/artifacts/TARGET/ and each process logs to
# <build dir>/logs/TARGET/fuzz-<n>.log.
#
# A smoke run uses the targets as built, one process, a fixed seed and a
# fresh scratch corpus (<build dir>/scratch/TARGET), and prints how many
# inputs it executed. Both fail on any crash, leak or timeout (more than 10
# s for one input). Neither writes into the source tree: the seed corpora
# in test/fuzz/corpus/ are only read.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

smoke=false
if [ "${1:-}" = --smoke ]; then
  smoke=true
  shift
fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: run.sh [--smoke] TARGET [SECONDS]" >&2
  exit 2
fi
target=$1
case $target in
queue_entry | ring | handler_request | handler_result | pickle | exec_protocol | list_manifest) ;;
*)
  echo "run.sh: unknown target \"$target\" (queue_entry, ring, handler_request," \
    "handler_result, pickle, exec_protocol or list_manifest)" >&2
  exit 2
  ;;
esac
if $smoke; then
  seconds=${2:-15}
else
  seconds=${2:-600}
fi
build_dir=${HLM_FUZZ_BUILD_DIR:-$root/build/fuzz}

seeds="$here/corpus/$target"
if [ "$target" = pickle ]; then
  # The unit tests' pickles: what Swift writes, protocols 1 to 4, Python 2.
  seeds="$seeds $root/test/unit/data/diskfile"
fi
# Ring partition tables and Swift's big metadata need a few KiB; nothing
# here needs more.
set -- -dict="$here/dict/$target.dict" -max_len=8192 -rss_limit_mb=2048 \
  -timeout=10 -max_total_time="$seconds" -print_final_stats=1

if $smoke; then
  binary=$build_dir/fuzz_$target
  if [ ! -x "$binary" ]; then
    echo "run.sh: $binary is missing: the test fuzz_build builds it" >&2
    exit 1
  fi
  corpus=$build_dir/scratch/$target
  artifacts=$build_dir/scratch/$target-artifacts
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  log=$build_dir/scratch/$target.log
  status=0
  # shellcheck disable=SC2086 # $seeds is a list of directories
  "$binary" "$@" -seed=1 -artifact_prefix="$artifacts/" "$corpus" $seeds \
    >"$log" 2>&1 || status=$?
  if [ $status -ne 0 ]; then
    cat "$log"
    echo "fuzz_$target: FAILED (exit $status); input saved in $artifacts/" >&2
    exit 1
  fi
  tail -n 20 "$log"
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz_$target: $executions executions in ${seconds} s, no crash"
  exit 0
fi

"$here/build.sh" "$build_dir"
jobs=${HLM_FUZZ_JOBS:-$(nproc)}
corpus=$build_dir/corpus/$target
artifacts=$build_dir/artifacts/$target
logs=$build_dir/logs/$target
mkdir -p "$corpus" "$artifacts" "$logs"
rm -f "$logs"/fuzz-*.log
start_marker=$logs/.start
touch "$start_marker"
cd "$logs" # -jobs writes fuzz-<n>.log into the working directory
status=0
# shellcheck disable=SC2086
"$build_dir/fuzz_$target" "$@" -jobs="$jobs" -workers="$jobs" \
  -artifact_prefix="$artifacts/" "$corpus" $seeds || status=$?
total=0
for log in "$logs"/fuzz-*.log; do
  [ -e "$log" ] || continue
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  total=$((total + ${n:-0}))
done
echo "fuzz_$target: $total executions by $jobs process(es) in ${seconds} s;" \
  "corpus $(ls "$corpus" | wc -l) inputs in $corpus"
if [ $status -ne 0 ] || [ -n "$(find "$artifacts" -type f -newer "$start_marker")" ]; then
  echo "fuzz_$target: crashes found, inputs in $artifacts/ (logs in $logs/)" >&2
  exit 1
fi
