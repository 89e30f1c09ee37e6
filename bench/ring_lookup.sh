#!/usr/bin/env bash
# Ring lookups per second: libhlm (C++) beside Swift's own Python
# Ring.get_nodes, same rings, same names, same run, and beside the MD5
# floor measured in the same run: an in-process one-shot MD5() of the same
# key bytes (bench_ring_lookup alternates the two loops and reports each
# one's best round) and `openssl speed -bytes 64 md5`. A lookup cannot beat
# the MD5 of its key; "of MD5" is libhlm lookups/s over the in-process MD5/s
# (goal: at least 0.80).
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

# "md5  117271.11k": thousands of bytes per second in 64-byte digests.
openssl_md5=$(openssl speed -bytes 64 -seconds 3 md5 2>/dev/null \
                | awk '$1 == "md5" { sub(/k$/, "", $2); printf "%.0f", $2 * 1000 / 64 }')

printf '%-10s %-28s %12s %14s %8s %8s %8s\n' \
  ring implementation lookups lookups/s "vs py" "of MD5" "of ossl"
for ring in object object-1; do
  py=$($python "$here/../test/saio/python_ring.py" --swift-dir "$swift_dir" --ring "$ring" \
         --bench "$((lookups / 5))" < "$work/names.jsonl")
  cpp=$("$build/bench/bench_ring_lookup" "$swift_dir" "$ring" "$work/names.jsonl" "$lookups")
  $python - "$ring" "$py" "$cpp" "${openssl_md5:-0}" <<'PY'
import json, sys
ring, py, cpp = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
ossl = float(sys.argv[4])
fmt = "%-10s %-28s %12d %14.0f %8s %8s %8s"
of_ossl = lambda rate: "%.2f" % (rate / ossl) if ossl else "?"
print(fmt % (ring, "swift Ring.get_nodes (py)", py["lookups"], py["per_second"], "1.0x", "", ""))
print(fmt % (ring, "bare MD5() of the same keys", cpp["lookups"], cpp["md5_per_second"],
             "", "1.00", of_ossl(cpp["md5_per_second"])))
print(fmt % (ring, "libhlm (C++)", cpp["lookups"], cpp["per_second"],
             "%.1fx" % (cpp["per_second"] / py["per_second"]),
             "%.2f" % (cpp["per_second"] / cpp["md5_per_second"]), of_ossl(cpp["per_second"])))
PY
done
echo "of MD5: over the bare MD5() row; of ossl: over \`openssl speed -bytes 64 -seconds 3 md5\`," \
     "${openssl_md5:-?} digests/s"
