#!/usr/bin/env bash
# R4: nothing is lost on the way to tape and back. N objects (default
# 10,000) of random sizes are uploaded through a local Swift's proxy,
# migrated as one container request to tapesim libraries (one per object
# server) with release = punch, so the disk copies really become holes,
# then recalled and downloaded through the proxy; every body is compared
# with what was uploaded (MD5) and with the ETag Swift returns. Prints the
# time of each phase, the bytes on the object servers' disks after each
# step, and the mismatches (the goal is 0).
#
#   bench/tapesim_roundtrip.sh [BUILD_DIR] [OBJECTS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
objects=${2:-10000}
python=/usr/bin/python3
work=$(mktemp -d "$build/bench-roundtrip.XXXXXX")
trap '$python "$here/../test/saio/saio.py" stop --dir "$work/saio" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
$python "$here/../test/saio/saio.py" start --dir "$work/saio" --base-port "${HLM_BENCH_PORT:-16400}" >/dev/null

HLM_SAIO_DIR=$work/saio HLM_HANDLER=$build/cmd/hlm-handler HLMCTL=$build/cmd/hlmctl \
HLM_DISPATCH=$build/cmd/hlm-dispatch PYTHONPATH=$here/../test/integration \
  $python - "$work" "$objects" <<'PY'
import concurrent.futures, hashlib, json, os, random, sys, time
from support import Swift, cluster, env, run_tool, tapesim_confs, write_hlm_conf

work, n = sys.argv[1], int(sys.argv[2])
info = cluster()
conf_dir, libraries = tapesim_confs(info, work, {"release": "punch",
                                                 "cartridge_capacity": str(2 * 10**9)})
conf = write_hlm_conf(os.path.join(work, "hlm.conf"), object_server_conf=conf_dir)
swift = Swift()
swift.put_container("roundtrip")

rng = random.Random(20261122)
# Mostly small objects, some up to 1 MiB, a few empty ones: sizes that
# cross tapesim's and Swift's buffer boundaries.
sizes = [0 if i % 997 == 0 else rng.choice((rng.randrange(1, 4096), rng.randrange(4096, 65536),
                                            rng.randrange(65536, 1 << 20)))
         if i % 10 == 0 else rng.randrange(1, 16384) for i in range(n)]
names = ["obj-%05d %s" % (i, "é" if i % 2 else "x") for i in range(n)]
digests = {}


def upload(i):
    body = os.urandom(sizes[i])
    digests[names[i]] = hashlib.md5(body).hexdigest()
    swift.put_object("roundtrip", names[i], body)


def disk_bytes():
    total = 0
    for node in info["nodes"]:
        for root, _, files in os.walk(node["devices"]):
            for name in files:
                if name.endswith(".data"):
                    total += os.stat(os.path.join(root, name)).st_blocks * 512
    return total


def tool(*argv):
    start = time.monotonic()
    _, out, _ = run_tool(list(argv), conf, status=0)
    return out, time.monotonic() - start


def states():
    out, seconds = tool(env("HLMCTL"), "status", "--json", "AUTH_test/roundtrip")
    counts = json.loads(out)["summary"]["states"]
    return {state: k for state, k in counts.items() if k}, seconds


phases = []
start = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(upload, range(n)))
phases.append(("upload (8 threads)", time.monotonic() - start, disk_bytes(), ""))

tool(env("HLMCTL"), "migrate", "AUTH_test/roundtrip")
out, seconds = tool(env("HLM_DISPATCH"), "--once", "-q", "--json")
report = json.loads(out)
assert report["completed"] == 1 and report["failed"] == 0, report
counts, _ = states()
phases.append(("migrate (hlm-dispatch)", seconds, disk_bytes(), json.dumps(counts)))
assert counts == {"migrated": n}, counts

tool(env("HLMCTL"), "recall", "AUTH_test/roundtrip")
out, seconds = tool(env("HLM_DISPATCH"), "--once", "-q", "--json")
report = json.loads(out)
assert report["completed"] == 1 and report["failed"] == 0, report
counts, _ = states()
phases.append(("recall (hlm-dispatch)", seconds, disk_bytes(), json.dumps(counts)))

mismatches = []


def check(name):
    status, body = swift.request("GET", "roundtrip/" + name)
    if status != 200 or hashlib.md5(body).hexdigest() != digests[name]:
        mismatches.append((name, status, len(body)))


start = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(check, names))
phases.append(("download + compare", time.monotonic() - start, disk_bytes(), ""))

print("%d objects, %d bytes, 3 replicas, tapesim release = punch, one library per object server"
      % (n, sum(sizes)))
print("%-24s %10s %16s  %s" % ("phase", "seconds", "bytes on disk", "hlmctl status"))
for name, seconds, on_disk, note in phases:
    print("%-24s %10.1f %16d  %s" % (name, seconds, on_disk, note))
print("downloads compared: %d, mismatches: %d" % (n, len(mismatches)))
for m in mismatches[:10]:
    print("  mismatch: %r status %d, %d bytes" % m)
sys.exit(1 if mismatches else 0)
PY
