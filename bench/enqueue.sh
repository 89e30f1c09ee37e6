#!/usr/bin/env bash
# Enqueueing 10,000 single-object requests with `hlmctl migrate -f list`,
# beside the time python-swiftclient (`swift upload`) takes to create 10,000
# zero-byte objects on the same cluster in the same run: the queue write is
# a zero-byte row on the container servers, so an upload of empty objects
# is its natural yardstick.
#
#   bench/enqueue.sh [BUILD_DIR] [COUNT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
count=${2:-10000}
python=/usr/bin/python3
if ! command -v swift >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-swiftclient >/dev/null
fi
work=$(mktemp -d "$build/bench-enqueue.XXXXXX")
saio=$work/saio
trap '$python "$here/../test/saio/saio.py" stop --dir "$saio" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
$python "$here/../test/saio/saio.py" start --dir "$saio" --base-port "${HLM_BENCH_PORT:-16300}" >/dev/null
# shellcheck disable=SC1091
source "$saio/env.sh"

mkdir -p "$work/files"
(cd "$work/files" && seq -f "obj%06g" 1 "$count" | xargs touch)
now() { date +%s.%N; }

t0=$(now)
(cd "$work/files" && swift upload --object-threads 8 bench . >/dev/null)
t1=$(now)

seq -f "AUTH_test/bench/obj%06g" 1 "$count" > "$work/targets"
cat > "$work/hlm.conf" <<CONF
[hlm]
swift_dir = $saio/etc
# single-object requests, one row each (bench/scale.sh measures list requests)
[hlmctl]
list_min_objects = 0
CONF
t2=$(now)
HLM_CONF=$work/hlm.conf "$build/cmd/hlmctl" migrate -f "$work/targets" >/dev/null
t3=$(now)

$python - "$count" "$t0" "$t1" "$t2" "$t3" <<'PY'
import sys
n = int(sys.argv[1])
t0, t1, t2, t3 = map(float, sys.argv[2:])
up, enq = t1 - t0, t3 - t2
print("%-52s %10s %10s %8s" % ("", "seconds", "per second", "ratio"))
print("%-52s %10.1f %10.0f %8s" % ("swift upload: %d zero-byte objects (8 threads)" % n, up, n / up, "1.0x"))
print("%-52s %10.1f %10.0f %7.1fx" % ("hlmctl migrate -f: %d single-object requests" % n, enq, n / enq, up / enq))
PY
