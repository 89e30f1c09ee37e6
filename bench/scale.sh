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
#   disk syscall floor      bench_disk_floor over the same device's replicas:
#                           the handler's system calls per replica (open,
#                           getdents64 twice, close, getxattr of the metadata
#                           and of its checksum) with nothing else, the
#                           fastest of 3 rounds: the kernel's share, which
#                           the handler row is compared with
# and once per run, after every size's rows (so they see an empty queue):
#   hlmctl recall -f LIST   bulk submission of SUBMIT existing objects of one
#                           container, queued as list requests (hlm.conf's
#                           [hlmctl] list_min_objects, 100 by default): wall,
#                           targets/s, and the ratio to swift upload's
#                           objects/s; the run fails unless every object was
#                           queued in a list request. The requests are then
#                           worked by an untimed `hlm-dispatch --once`, which
#                           must complete them: the queue is left empty and
#                           the objects as the recall rows left them, for a
#                           later run on a kept cluster
#   swift upload            UPLOAD empty objects through the proxy: objects/s
#   ring lookups            per second, beside a bare MD5() of the same keys
#
#   bench/scale.sh [BUILD_DIR] [SIZES]      SIZES default: "10000 100000"
#
# Containers are filled in place by bench/fill.py (about 1,000 to 3,000
# objects/s here), not uploaded. HLM_SCALE_KEEP=DIR keeps the cluster
# running in DIR with its filled containers, and a later run with the same
# DIR reuses them (a million objects take 10 to 20 minutes to fill).
# HLM_SCALE_SUBMIT sets the bulk submission's size; its objects are the
# first SUBMIT names of the smallest container of SIZES that holds that
# many. Default: 100000 (the issue's figure) when a container of SIZES holds
# that many, else every object of the largest. HLM_SCALE_UPLOAD (default
# 2000) sets how many empty objects `swift upload` uploads: about 60/s
# here, so the baseline is a rate of a smaller count, compared per object.
# A kept cluster's queue is drained first (untimed), in case an earlier
# run was stopped with requests queued.
# HLM_SCALE_ONLY=handler measures only the hlm-handler row (and the listing
# floor), for quick reruns against a kept fill: a fill that no run has
# migrated and recalled yet is migrated and recalled once first (not timed),
# so the dummy connector's database holds its objects as in a full run.
# HLM_SCALE_HANDLER_RUNS=N (default 1) times the handler N times and keeps
# the fastest run (on a machine shared with other work one run is noisy);
# its note gives that run's user+sys CPU time too.
# HLM_SCALE_BASELINE=DIR runs every hlm measurement with DIR/cmd's hlmctl,
# hlm-dispatch and hlm-handler too (an earlier build), in the same run, and
# prints both side by side ("before" is DIR, "after" is BUILD_DIR).
# Peak RSS comes from /usr/bin/time -f %M. "machine cpu s" is the CPU time
# the whole machine spent while the row ran (/proc/stat: every process, the
# proxy, container and object servers and handlers included): on a
# machine with few cores, where one machine plays every node, a row's wall
# time cannot be below that divided by the cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
sizes=${2:-10000 100000}
largest=$(tr -s " " "\n" <<<"$sizes" | sort -n | tail -n 1)
submit=${HLM_SCALE_SUBMIT:-$((largest < 100000 ? largest : 100000))}
upload=${HLM_SCALE_UPLOAD:-2000}
# The bulk submission's container: the smallest of SIZES with SUBMIT objects.
submit_size=$(tr -s " " "\n" <<<"$sizes" | sort -n | awk -v n="$submit" '$1 >= n {print; exit}')
if [ -z "$submit_size" ]; then
  echo "scale.sh: HLM_SCALE_SUBMIT=$submit is more than the largest size ($largest)" >&2
  exit 2
fi
only=${HLM_SCALE_ONLY:-}
case $only in
  '' | handler) ;;
  *) echo "scale.sh: HLM_SCALE_ONLY must be empty or \"handler\"" >&2; exit 2 ;;
esac
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
  rm -f "$work"/filled-* "$work"/worked-*
  $python "$here/../test/saio/saio.py" start --dir "$saio" --base-port "$port" \
    --hlmctl "$build/cmd/hlmctl" --hlm-handler "$build/cmd/hlm-handler" >/dev/null
fi
# shellcheck disable=SC1091
source "$saio/env.sh"
run=$work/run
rm -rf "$run"
mkdir -p "$run"
variants=(after)
declare -A tools=([after]=$build/cmd)
if [ -n "${HLM_SCALE_BASELINE:-}" ]; then
  variants=(before after)
  tools[before]=$(cd "$HLM_SCALE_BASELINE/cmd" && pwd)
fi
# Each variant's hlm.conf names its own hlm-handler.
for variant in "${variants[@]}"; do
  {
    sed "s|^handler = .*|handler = ${tools[$variant]}/hlm-handler|" "$saio/etc/hlm.conf"
    printf '[dispatch]\nlock_file = %s/hlm-dispatch.lock\n' "$run"
  } >"$run/hlm-$variant.conf"
done
node_conf=$($python -c 'import json, sys
print(json.load(open(sys.argv[1]))["nodes"][0]["object_server_conf"])' "$saio/cluster.json")
device=$($python -c 'import json, sys
print(json.load(open(sys.argv[1]))["nodes"][0]["device"])' "$saio/cluster.json")

table=$run/table.tsv
# row VARIANT WORK SIZE WALL RSS_KIB [NOTE [MACHINE_CPU]]
row() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" "${7:-}" >>"$table"
}
# The machine's busy CPU time so far, in clock ticks (/proc/stat's cpu line:
# user, nice, system, irq, softirq, steal).
busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
ticks=$(getconf CLK_TCK)
# timed NAME CMD...: runs CMD under /usr/bin/time; sets $wall, $rss, $cpu
# (its user + system seconds, its waited-for children's included) and
# $machine (the whole machine's busy CPU seconds meanwhile).
timed() {
  local name=$1
  shift
  local t0 t1 b0 b1
  b0=$(busy_ticks)
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f '%U %S %M' -o "$run/$name.rss" "$@" >"$run/$name.out" 2>"$run/$name.err"; then
    if [ "$name" != handler ]; then
      echo "scale.sh: $name failed:" >&2
      tail -n 5 "$run/$name.err" >&2
      exit 1
    fi
  fi
  t1=$(date +%s.%N)
  b1=$(busy_ticks)
  machine=$(awk -v a="$b0" -v b="$b1" -v t="$ticks" 'BEGIN {printf "%.1f", (b - a) / t}')
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
  rss=$(tail -n 1 "$run/$name.rss" | awk '{print $NF}')
  cpu=$(tail -n 1 "$run/$name.rss" | awk '{printf "%.2f", $1 + $2}')
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

# measure VARIANT SIZE: status, dispatch and the handler with VARIANT's tools.
measure() {
  local variant=$1 size=$2
  local tool=${tools[$variant]} container=scale-$2
  export HLM_CONF=$run/hlm-$variant.conf
  if [ "$only" = handler ]; then
    if [ ! -e "$work/worked-$size" ]; then # migrate and recall once, untimed
      "$tool/hlmctl" migrate "AUTH_test/$container" >/dev/null
      "$tool/hlm-dispatch" --once -q >/dev/null
      "$tool/hlmctl" recall "AUTH_test/$container" >/dev/null
      "$tool/hlm-dispatch" --once -q >/dev/null
      touch "$work/worked-$size"
    fi
    measure_handler "$variant" "$size"
    return
  fi
  timed status "$tool/hlmctl" status "AUTH_test/$container"
  row "$variant" "hlmctl status" "$size" "$wall" "$rss" "$(tail -n 1 "$run/status.out")" "$machine"

  "$tool/hlmctl" migrate "AUTH_test/$container" >/dev/null
  timed migrate "$tool/hlm-dispatch" --once --json
  dispatched migrate
  row "$variant" "hlm-dispatch --once (migrate)" "$size" "$wall" "$rss" "" "$machine"

  "$tool/hlmctl" recall "AUTH_test/$container" >/dev/null
  timed recall "$tool/hlm-dispatch" --once --json
  dispatched recall
  row "$variant" "hlm-dispatch --once (recall)" "$size" "$wall" "$rss" "" "$machine"
  touch "$work/worked-$size"
  measure_handler "$variant" "$size"
}

# measure_handler VARIANT SIZE: hlm-handler status of one device's replicas.
measure_handler() {
  local variant=$1 size=$2
  local tool=${tools[$variant]}
  local input=$work/lists-$size/$device.objects replicas calls top
  local runs=${HLM_SCALE_HANDLER_RUNS:-1} best='' best_rss='' best_cpu='' best_machine=''
  replicas=$(wc -l <"$input")
  for ((i = 0; i < runs; i++)); do
    timed handler "$tool/hlm-handler" --object-server-conf "$node_conf" status <"$input"
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN {exit !(a < b)}'; then
      best=$wall best_rss=$rss best_cpu=$cpu best_machine=$machine
    fi
  done
  strace -f -c -o "$run/strace.txt" "$tool/hlm-handler" --object-server-conf "$node_conf" \
    status <"$input" >"$run/handler-$variant.out" 2>/dev/null || true
  # strace -c: % time, seconds, usecs/call, calls, [errors,] syscall.
  calls=$(awk '$NF == "total" {print $4}' "$run/strace.txt")
  top=$(awk -v n="$replicas" 'NR > 2 && $1 !~ /^-/ && $NF != "total" {
          printf "%s %.1f\n", $NF, $4 / n }' "$run/strace.txt" |
        sort -k2 -rn | head -n 6 | awk '{printf "%s %s, ", $1, $2}')
  row "$variant" "hlm-handler status, one device" "$size" "$best" "$best_rss" \
    "$replicas replicas; cpu ${best_cpu} s; $(per "$calls" "$replicas") syscalls/replica: ${top%, }" \
    "$best_machine"
  # Once per size: the same replicas' system calls alone, in the handler's
  # order (the .data files its answer named).
  if [ "$variant" = after ] && [ -x "$build/bench/bench_disk_floor" ]; then
    local files floor_replicas floor_wall floor_cpu
    files=$run/floor-$size.files
    grep -o '"file":"[^"]*"' "$run/handler-$variant.out" | cut -d '"' -f 4 >"$files"
    read -r floor_replicas floor_wall floor_cpu < <("$build/bench/bench_disk_floor" "$files" 3 |
      $python -c 'import json, sys
r = json.load(sys.stdin); print(r["replicas"], "%.2f" % r["seconds"], "%.2f" % r["cpu_seconds"])')
    row floor "disk syscall floor, one device" "$size" "$floor_wall" "" \
      "$floor_replicas replicas; cpu $floor_cpu s; 6.0 syscalls/replica, nothing else; handler $(per "$best" "$floor_wall")x"
  fi
}

# bulk_and_ring: the bulk submission, upload and ring lookup rows, once per
# run.
bulk_and_ring() {
  mkdir -p "$run/upload"
  (cd "$run/upload" && for i in $(seq -w 1 "$upload"); do : >"e$i"; done)
  timed upload swift upload --object-name up "scale-upload-$$" "$run/upload"
  local upload_rate
  upload_rate=$(per "$upload" "$wall")
  row floor "swift upload (empty objects)" "$upload" "$wall" "$rss" "$upload_rate objects/s" \
    "$machine"

  # Bulk submission: SUBMIT existing objects of one container, by name as
  # the listing gave them.
  head -n "$submit" "$run/list-$submit_size.out" | sed "s|^|AUTH_test/scale-$submit_size/|" \
    >"$run/submit.list"
  for variant in "${variants[@]}"; do
    export HLM_CONF=$run/hlm-$variant.conf
    timed submit "${tools[$variant]}/hlmctl" recall --json -f "$run/submit.list"
    # Every object queued, and in list requests only (not a row each).
    $python - "$run/submit.out" "$submit" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
requests = report["requests"]
listed = sum(r["objects"] for r in requests if "list" in r)
if listed != int(sys.argv[2]) or len(requests) > listed // 100 + 1:
    sys.exit("hlmctl recall -f did not queue %s objects as list requests: %d in %d requests"
             % (sys.argv[2], listed, len(requests)))
PY
    local lists rate
    lists=$($python -c 'import json, sys
print(len(json.load(open(sys.argv[1]))["requests"]))' "$run/submit.out")
    rate=$(per "$submit" "$wall")
    row "$variant" "hlmctl recall -f LIST" "$submit" "$wall" "$rss" \
      "$rate targets/s = $(per "$rate" "$upload_rate")x swift upload per object; $lists list request(s)" \
      "$machine"
    # Worked (not timed), so that nothing stays queued.
    "${tools[$variant]}/hlm-dispatch" --once --json >"$run/drain.out" 2>"$run/drain.err"
    dispatched drain
  done

  # Ring lookups of the first container's names beside a bare MD5() of the
  # same key bytes (bench/ring_lookup.sh has the full comparison).
  if [ -x "$build/bench/bench_ring_lookup" ]; then
    head -n 10000 "$work/lists-${sizes%% *}/$device.objects" |
      $python -c 'import json, sys
for line in sys.stdin:
    print(json.dumps(line.rstrip("\n").lstrip("/").split("/", 2)))' >"$run/names.jsonl"
    "$build"/bench/bench_ring_lookup "$saio/etc" object "$run/names.jsonl" 2000000 >"$run/ring.json"
    read -r lookups md5 < <($python -c 'import json, sys
r = json.load(open(sys.argv[1])); print("%.0f %.0f" % (r["per_second"], r["md5_per_second"]))' \
      "$run/ring.json")
    row after "ring lookups (per second)" 2000000 0 0 \
      "$lookups lookups/s = $(per "$lookups" "$md5") of a bare MD5() of the same keys ($md5/s)"
  fi
}

# What a stopped run on a kept cluster left queued (not timed).
HLM_CONF=$run/hlm-after.conf "$build/cmd/hlm-dispatch" --once -q >/dev/null

for size in $sizes; do
  container=scale-$size
  if [ ! -e "$work/filled-$size" ]; then
    # fill.py appends to the lists: a list left by an earlier cluster in
    # DIR would double every replica of the handler row.
    rm -rf "$work/lists-$size"
    swift post "$container"
    $python "$here/fill.py" "$saio" AUTH_test "$container" "$size" --lists "$work/lists-$size"
    touch "$work/filled-$size"
  fi
  # A first listing, and a status of every replica by the first variant's
  # handler (not timed), warm the page cache for every variant alike: the
  # first measured would otherwise read from disk what a larger container
  # filled since (or another bench) evicted. A container larger than the
  # page cache stays cold for all.
  swift list "$container" >/dev/null
  sort -u "$work/lists-$size"/*.objects |
    "${tools[${variants[0]}]}/hlm-handler" --object-server-conf "$(dirname "$node_conf")" \
      status >/dev/null 2>&1 || true
  timed list swift list "$container"
  listed=$(wc -l <"$run/list.out")
  [ "$listed" -eq "$size" ] || { echo "scale.sh: swift list: $listed of $size objects" >&2; exit 1; }
  row floor "swift list (floor)" "$size" "$wall" "$rss" "" "$machine"
  [ "$size" != "$submit_size" ] || cp "$run/list.out" "$run/list-$size.out"
  for variant in "${variants[@]}"; do
    measure "$variant" "$size"
  done
done

if [ "$only" != handler ]; then
  bulk_and_ring
fi

$python - "$table" "$(nproc)" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
floor = {r[2]: float(r[3]) for r in rows if r[1].startswith("swift list")}
print("machine: %s CPUs; machine cpu s: the whole machine's CPU time while the row ran" % sys.argv[2])
head = "%-32s %8s %-7s %8s %7s %9s %8s  %s"
print(head % ("work", "objects", "build", "wall s", "x list", "peak RSS", "mach cpu", "notes"))
# Each measurement's builds next to each other, in the order first measured.
keys = list(dict.fromkeys((r[2], r[1]) for r in rows))
rank = {"floor": 0, "before": 1, "after": 2}
rows.sort(key=lambda r: (keys.index((r[2], r[1])), rank[r[0]]))
for variant, work, size, wall, rss, note, machine in rows:
    wall = float(wall)
    ratio = "%.1fx" % (wall / floor[size]) if variant != "floor" and size in floor else ""
    build = "" if variant == "floor" else variant
    if not wall:  # a rate, not a timed run
        print(head % (work, size, build, "", "", "", "", note))
        continue
    rss = "%6.0f MB" % (int(rss) / 1024.0) if rss else ""
    print("%-32s %8s %-7s %8.1f %7s %9s %8s  %s" % (work, size, build, wall, ratio, rss, machine,
                                                    note))
PY
