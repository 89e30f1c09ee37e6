#!/usr/bin/env bash
# hlm at scale (issue 14): for containers of each SIZE, on one local Swift
# (test/saio/saio.py, 3 replicas, dummy connector), in one run:
#   swift list              the floor: a plain listing of the container
#   hlmctl status           wall, ratio to the listing, peak RSS
#   dispatch migrate        `hlmctl migrate CONTAINER`, then the timed
#                           `hlm-dispatch --once` that works it
#   dispatch recall         the same for a recall of the migrated container
#   hlm-handler status      one object server's handler run directly on the
#                           replicas of its device: wall, peak RSS, and the
#                           syscalls per replica (a second run under
#                           `strace -f -c`, which is not timed)
# and once per run, bulk submission: `hlmctl migrate -f LIST` of SUBMIT
# existing objects (targets/s) beside `swift upload` of SUBMIT empty
# objects (objects/s).
#
#   bench/scale.sh [BUILD_DIR] [SIZES]      SIZES default: "10000 100000"
#
# Containers are filled in place by bench/fill.py (about 1,000 to 3,000
# objects/s here), not uploaded. HLM_SCALE_KEEP=DIR keeps the cluster
# running in DIR with its filled containers, and a later run with the same
# DIR reuses them (a million objects take 10 to 20 minutes to fill).
# HLM_SCALE_SUBMIT (default 2000) sets the bulk submission's size.
# Peak RSS comes from /usr/bin/time -f %M.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
sizes=${2:-10000 100000}
submit=${HLM_SCALE_SUBMIT:-2000}
python=/usr/bin/python3
port=${HLM_BENCH_PORT:-16900}
need=()
command -v swift >/dev/null || need+=(python3-swiftclient)
[ -x /usr/bin/time ] || need+=(time)
command -v strace >/dev/null || need+=(strace)
if ((${#need[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -n "${HLM_SCALE_KEEP:-}" ]; then
  work=$HLM_SCALE_KEEP
  mkdir -p "$work"
  trap 'rm -rf "$work/run"' EXIT
else
  work=$(mktemp -d "$build/bench-scale.XXXXXX")
  trap '$python "$here/../test/saio/saio.py" stop --dir "$work/saio" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
fi
saio=$work/saio
if ! $python "$here/../test/saio/saio.py" status --dir "$saio" >/dev/null 2>&1; then
  rm -f "$work"/filled-*
  $python "$here/../test/saio/saio.py" start --dir "$saio" --base-port "$port" \
    --hlmctl "$build/cmd/hlmctl" --hlm-handler "$build/cmd/hlm-handler" >/dev/null
fi
# shellcheck disable=SC1091
source "$saio/env.sh"
run=$work/run
rm -rf "$run"
mkdir -p "$run"
conf=$run/hlm.conf
{
  cat "$saio/etc/hlm.conf"
  printf '[dispatch]\nlock_file = %s/hlm-dispatch.lock\n' "$run"
} >"$conf"
export HLM_CONF=$conf
hlmctl=$build/cmd/hlmctl
dispatch=$build/cmd/hlm-dispatch
handler=$build/cmd/hlm-handler
node_conf=$($python -c 'import json, sys
print(json.load(open(sys.argv[1]))["nodes"][0]["object_server_conf"])' "$saio/cluster.json")
device=$($python -c 'import json, sys
print(json.load(open(sys.argv[1]))["nodes"][0]["device"])' "$saio/cluster.json")

table=$run/table.tsv
# row WORK SIZE WALL RSS_KIB [NOTE]
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$table"; }
# timed NAME CMD...: runs CMD under /usr/bin/time; sets $wall and $rss.
timed() {
  local name=$1
  shift
  local t0 t1
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f %M -o "$run/$name.rss" "$@" >"$run/$name.out" 2>"$run/$name.err"; then
    if [ "$name" != handler ]; then
      echo "scale.sh: $name failed:" >&2
      tail -n 5 "$run/$name.err" >&2
      exit 1
    fi
  fi
  t1=$(date +%s.%N)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
  rss=$(tail -n 1 "$run/$name.rss" | awk '{print $NF}')
}
per() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a / b}'; }
dispatched() {
  # The run worked the one entry and left nothing pending or failed.
  $python - "$run/$1.out" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
if report["failed"] or report["retrying"] or report["deferred"] or not report["completed"]:
    sys.exit("hlm-dispatch did not complete the request: %s" % report)
PY
}

for size in $sizes; do
  container=scale-$size
  if [ ! -e "$work/filled-$size" ]; then
    swift post "$container"
    $python "$here/fill.py" "$saio" AUTH_test "$container" "$size" --lists "$work/lists-$size"
    touch "$work/filled-$size"
  fi

  timed list swift list "$container"
  listed=$(wc -l <"$run/list.out")
  [ "$listed" -eq "$size" ] || { echo "scale.sh: swift list: $listed of $size objects" >&2; exit 1; }
  row "swift list (floor)" "$size" "$wall" "$rss"

  timed status "$hlmctl" status "AUTH_test/$container"
  row "hlmctl status" "$size" "$wall" "$rss" "$(tail -n 1 "$run/status.out")"

  "$hlmctl" migrate "AUTH_test/$container" >/dev/null
  timed migrate "$dispatch" --once --json
  dispatched migrate
  row "hlm-dispatch --once (migrate)" "$size" "$wall" "$rss"

  "$hlmctl" recall "AUTH_test/$container" >/dev/null
  timed recall "$dispatch" --once --json
  dispatched recall
  row "hlm-dispatch --once (recall)" "$size" "$wall" "$rss"

  input=$work/lists-$size/$device.objects
  replicas=$(wc -l <"$input")
  timed handler "$handler" --object-server-conf "$node_conf" status <"$input"
  strace -f -c -o "$run/strace.txt" "$handler" --object-server-conf "$node_conf" status \
    <"$input" >/dev/null 2>&1 || true
  # strace -c: % time, seconds, usecs/call, calls, [errors,] syscall.
  calls=$(awk '$NF == "total" {print $4}' "$run/strace.txt")
  top=$(awk -v n="$replicas" 'NR > 2 && $1 !~ /^-/ && $NF != "total" {
          printf "%s %.1f\n", $NF, $4 / n }' "$run/strace.txt" |
        sort -k2 -rn | head -n 6 | awk '{printf "%s %s, ", $1, $2}')
  row "hlm-handler status, one device" "$size" "$wall" "$rss" \
    "$replicas replicas; $(per "$calls" "$replicas") syscalls/replica: ${top%, }"
done

# Bulk submission: SUBMIT existing objects of the first container, beside
# swift upload of as many empty objects.
first=${sizes%% *}
sed -n "1,${submit}p" "$work/lists-$first/$device.objects" | sed 's|^/||' >"$run/submit.list"
[ "$(wc -l <"$run/submit.list")" -eq "$submit" ] ||
  { echo "scale.sh: fewer than $submit objects to submit; pass a larger size" >&2; exit 1; }
timed submit "$hlmctl" migrate -f "$run/submit.list"
row "hlmctl migrate -f LIST" "$submit" "$wall" "$rss" \
  "$(per "$submit" "$wall") targets/s"
"$dispatch" --once -q >/dev/null # drain it (not timed)
mkdir -p "$run/upload"
(cd "$run/upload" && for i in $(seq -w 1 "$submit"); do : >"e$i"; done)
timed upload swift upload --object-name up "scale-upload-$$" "$run/upload"
row "swift upload (empty objects)" "$submit" "$wall" "$rss" \
  "$(per "$submit" "$wall") objects/s"

$python - "$table" <<'PY'
import sys
floor = {}
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
print("%-34s %9s %9s %8s %9s  %s" % ("work", "objects", "wall s", "x list", "peak RSS", "notes"))
for work, size, wall, rss, note in rows:
    wall = float(wall)
    if work.startswith("swift list"):
        floor[size] = wall
    ratio = "%.1fx" % (wall / floor[size]) if size in floor and not work.startswith("swift list") else ""
    print("%-34s %9s %9.1f %8s %6.0f MB  %s" % (work, size, wall, ratio, int(rss) / 1024.0, note))
PY
