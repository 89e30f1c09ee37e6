#!/usr/bin/env bash
# SwiftHLM's status of one container of COUNT objects (default 100,000)
# through the proxy's HTTP interface (GET /hlm/v1/status/AUTH_test/bench,
# answered by hlm_swift.interface running `hlmctl status --swifthlm`),
# beside its floor, `swift list` of the same container (the interface has to
# list it too), and beside `hlmctl status --swifthlm` run directly; all on
# one cluster in the same run. Wall time of each, the peak RSS of each
# client (`/usr/bin/time -f %M`), and the proxy's VmHWM before and after the
# HTTP status: the body is several MB, so a VmHWM that stays flat shows the
# proxy streamed it instead of holding it.
#
# The container is filled without uploading (bench/fill.py): it is created
# through the proxy, then COUNT rows are merged into every replica of its
# database with Swift's own ContainerBroker, and each object's replicas are
# written as zero-byte .data files with Swift's metadata straight into the
# object servers' devices, where the ring puts them: 40 s to 3 minutes for
# 100,000 objects on a 2-CPU machine, as busy as its disk is, where an upload
# through the proxy takes far longer. The handlers then answer "resident" for every
# object, as for a container uploaded the usual way. Rows alone would
# measure another case: objects missing on disk, each "unknown" with an
# error from every replica.
#
#   bench/http_status.sh [BUILD_DIR] [COUNT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
count=${2:-100000}
python=/usr/bin/python3
port=${HLM_BENCH_PORT:-18100}
if ! command -v swift >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-swiftclient >/dev/null
fi
if [ ! -x /usr/bin/time ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends time >/dev/null
fi
work=$(mktemp -d "$build/bench-http-status.XXXXXX")
saio=$work/saio
trap '$python "$here/../test/saio/saio.py" stop --dir "$saio" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
$python "$here/../test/saio/saio.py" start --dir "$saio" --base-port "$port" \
  --hlmctl "$build/cmd/hlmctl" --hlm-handler "$build/cmd/hlm-handler" >/dev/null
# shellcheck disable=SC1091
source "$saio/env.sh"
proxy=http://127.0.0.1:$port
proxy_pid=$($python -c 'import json, sys
print(next(p["pid"] for p in json.load(open(sys.argv[1]))["processes"] if p["kind"] == "proxy"))' \
  "$saio/run/pids.json")
token=$(curl -sf -o /dev/null -D - -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" \
  "$proxy/auth/v1.0" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-auth-token" {print $2}')
[ -n "$token" ]
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "X-Auth-Token: $token" "$proxy/v1/AUTH_test/bench")
case $code in 201|202) ;; *) echo "container PUT answered $code" >&2; exit 1 ;; esac

# COUNT rows in every replica of the container's database, and each
# object's replicas on the object servers' devices.
fill_start=$(date +%s.%N)
$python "$here/fill.py" "$saio" AUTH_test bench "$count"
fill_end=$(date +%s.%N)

now() { date +%s.%N; }
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$proxy_pid/status"; }

# (a) the listing floor.
t0=$(now)
listed=$(/usr/bin/time -f %M -o "$work/list.rss" swift list bench | wc -l)
t1=$(now)
if [ "$listed" -ne "$count" ]; then
  echo "swift list bench: $listed objects, expected $count" >&2; exit 1
fi

# (b) the HTTP interface, with (d) the proxy's VmHWM around it; the VmHWM
# of the hlmctl the proxy runs is sampled meanwhile (it is the proxy's child).
hwm_before=$(hwm)
(
  peak=0
  while :; do
    children=()
    read -r -a children <"/proc/$proxy_pid/task/$proxy_pid/children" 2>/dev/null || true
    for child in "${children[@]}"; do
      kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$child/status" 2>/dev/null || true)
      if [ -n "$kib" ] && [ "$kib" -gt "$peak" ]; then peak=$kib; echo "$peak" >"$work/child.hwm"; fi
    done
    sleep 0.1
  done
) &
sampler=$!
t2=$(now)
code=$(/usr/bin/time -f %M -o "$work/curl.rss" curl -s --max-time 900 -o "$work/http.json" \
  -w '%{http_code}' -H "X-Auth-Token: $token" "$proxy/hlm/v1/status/AUTH_test/bench") || true
t3=$(now)
hwm_after=$(hwm)
kill "$sampler"
wait "$sampler" 2>/dev/null || true
if [ "$code" != 200 ]; then
  echo "GET /hlm/v1/status/AUTH_test/bench answered ${code:-nothing} (000: nothing within 900 s)" >&2
  head -c 500 "$work/http.json" >&2 || true
  tail -n 5 "$saio/log/proxy-server.log" >&2
  exit 1
fi

# (c) hlmctl status, run directly with the proxy's hlm.conf.
t4=$(now)
HLM_CONF=$saio/etc/hlm.conf /usr/bin/time -f %M -o "$work/hlmctl.rss" \
  "$build/cmd/hlmctl" status --swifthlm AUTH_test/bench >"$work/direct.json" 2>"$work/direct.err" ||
  { echo "hlmctl status failed:" >&2; tail -n 5 "$work/direct.err" >&2; exit 1; }
t5=$(now)

$python - "$count" "$work" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$hwm_before" "$hwm_after" \
  "$fill_start" "$fill_end" <<'PY'
import collections, json, os, sys
n, work = int(sys.argv[1]), sys.argv[2]
t0, t1, t2, t3, t4, t5 = map(float, sys.argv[3:9])
hwm_before, hwm_after = map(int, sys.argv[9:11])
fill = float(sys.argv[12]) - float(sys.argv[11])


def kib(name):
    try:
        with open(os.path.join(work, name)) as f:
            return int(f.read().split()[-1])
    except (OSError, IndexError):
        return None


def states(name):
    with open(os.path.join(work, name + ".json")) as f:
        body = json.load(f)
    if len(body) != n:
        sys.exit("%s: %d objects in the body, expected %d" % (name, len(body), n))
    return collections.Counter(body.values())


http, direct = states("http"), states("direct")
if http != direct:
    sys.exit("the interface's states %s differ from hlmctl's %s" % (dict(http), dict(direct)))
size = os.path.getsize(os.path.join(work, "http.json"))
listing, interface, hlmctl = t1 - t0, t3 - t2, t5 - t4
mb = lambda k: "-" if k is None else "%.1f MB" % (k / 1024.0)
print("AUTH_test/bench: %d objects, zero-byte, written in place in %.0f s; HTTP body %.1f MB; "
      "states: %s" % (n, fill, size / 1e6, ", ".join("%s %d" % kv for kv in sorted(http.items()))))
print("peak RSS: the client's (/usr/bin/time -f %M); VmHWM for the proxy and its hlmctl")
print("%-46s %8s %10s %8s" % ("work", "wall s", "peak RSS", "ratio"))
print("%-46s %8.1f %10s %8s" % ("swift list bench | wc -l", listing, mb(kib("list.rss")), "1.0x"))
print("%-46s %8.1f %10s %7.1fx" % ("interface status: curl GET /hlm/v1/status", interface,
                                   mb(kib("curl.rss")), interface / listing))
print("%-46s %8s %10s" % ("  its hlmctl, run by the proxy (sampled)", "", mb(kib("child.hwm"))))
print("%-46s %8s %10s" % ("  proxy VmHWM before", "", mb(hwm_before)))
print("%-46s %8s %10s" % ("  proxy VmHWM after", "", mb(hwm_after)))
print("%-46s %8.1f %10s %7.1fx" % ("hlmctl status --swifthlm, direct", hlmctl,
                                   mb(kib("hlmctl.rss")), hlmctl / listing))
PY
