#!/usr/bin/env bash
# Ring lookups per second: libhlm (C++) beside Swift's own Python
# Ring.get_nodes, same rings, same names, same run.
#
#   bench/ring_lookup.sh [BUILD_DIR] [LOOKUPS]
#
# Rings come from a throwaway test cluster (test/saio/saio.py), so the
# figures use a real Swift-built ring (part power 10, 4 devices).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
lookups=${2:-1000000}
python=/usr/bin/python3
work=$(mktemp -d "$build/bench-ring.XXXXXX")
trap '$python "$here/../test/saio/saio.py" stop --dir "$work/saio" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

$python "$here/../test/saio/saio.py" start --dir "$work/saio" --base-port "${HLM_BENCH_PORT:-16300}" >/dev/null
swift_dir=$work/saio/etc

$python - "$work/names.jsonl" <<'PY'
import json, random, sys
rng = random.Random(7)
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        obj = "photos/%d/img-%06d-\u00e9.jpg" % (rng.randrange(100), i)
        f.write(json.dumps(["AUTH_test", "cont%d" % (i % 50), obj]) + "\n")
PY

printf '%-10s %-28s %12s %14s %10s\n' ring implementation lookups lookups/s ratio
for ring in object object-1; do
  py=$($python "$here/../test/saio/python_ring.py" --swift-dir "$swift_dir" --ring "$ring" \
         --bench "$((lookups / 5))" < "$work/names.jsonl")
  cpp=$("$build/bench/bench_ring_lookup" "$swift_dir" "$ring" "$work/names.jsonl" "$lookups")
  $python - "$ring" "$py" "$cpp" <<'PY'
import json, sys
ring, py, cpp = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
fmt = "%-10s %-28s %12d %14.0f %10s"
print(fmt % (ring, "swift Ring.get_nodes (py)", py["lookups"], py["per_second"], "1.0x"))
print(fmt % (ring, "libhlm (C++)", cpp["lookups"], cpp["per_second"],
             "%.1fx" % (cpp["per_second"] / py["per_second"])))
PY
done
