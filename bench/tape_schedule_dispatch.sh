#!/usr/bin/env bash
# The scheduling benchmark end to end: 1,000 objects on a real local Swift
# (3 replicas each), migrated to one tapesim library (20 cartridges, 2
# drives) shared by the host's object servers, then recalled as 1,000
# single-object requests in random order through hlmctl and hlm-dispatch,
# once with --schedule fifo and once batched (every replica: --copies all),
# then batched with --copies 1 (one replica per object, chosen by
# placement; the cluster's object servers have guarded reads), and every
# object downloaded through the proxy and compared.
# Prints the simulated
# drive-seconds the library recorded for each beside the lower bound for
# the placement, and the wall time of each dispatch.
#
#   bench/tape_schedule_dispatch.sh [BUILD_DIR] [OBJECTS]
#
# HLM_BENCH_KEEP_INDEX=FILE keeps a copy of the library's index (its
# `calls`, `objects` and `cartridges` tables) for a closer look.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
objects=${2:-1000}
python=/usr/bin/python3
work=$(mktemp -d "$build/bench-dispatch.XXXXXX")
trap '$python "$here/../test/saio/saio.py" stop --dir "$work/saio" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
$python "$here/../test/saio/saio.py" start --dir "$work/saio" --base-port "${HLM_BENCH_PORT:-16400}" >/dev/null

HLM_SAIO_DIR=$work/saio HLM_HANDLER=$build/cmd/hlm-handler HLMCTL=$build/cmd/hlmctl \
HLM_DISPATCH=$build/cmd/hlm-dispatch BENCH=$build/bench/bench_tape_schedule \
PYTHONPATH=$here/../test/integration \
  $python - "$work" "$objects" <<'PY'
import concurrent.futures, json, os, random, sqlite3, subprocess, sys, time
from support import Swift, cluster, env, run_tool, tapesim_confs, write_hlm_conf

work, n = sys.argv[1], int(sys.argv[2])
replicas, size, cartridges = 3, 4096, 20
# Each copy carries its tape record header (a few hundred bytes): 1 KiB of room.
capacity = -(-n * replicas // cartridges) * (size + 1024)
info = cluster()
conf_dir, (library,) = tapesim_confs(info, work, {"cartridge_capacity": str(capacity),
                                                  "drives": "2"}, shared_library=True)
# 1,000 single-object requests, as the issue measured: no list requests.
conf = write_hlm_conf(os.path.join(work, "hlm.conf"), object_server_conf=conf_dir,
                      extra="[hlmctl]\nlist_min_objects = 0\n")
swift = Swift()
swift.put_container("bench")
names = ["o%05d" % i for i in range(n)]
bodies = {name: os.urandom(size) for name in names}
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda name: swift.put_object("bench", name, bodies[name]), names))

def tool(*argv):
    return run_tool(list(argv), conf, status=0)

def calls_since(last):
    db = sqlite3.connect(os.path.join(library, "index.sqlite"))
    row = db.execute("SELECT count(*), total(mounts), total(drive_seconds) FROM calls"
                     " WHERE id > ? AND operation != 'migrate'", (last,)).fetchone()
    top = db.execute("SELECT coalesce(max(id), 0) FROM calls").fetchone()[0]
    db.close()
    return row, top

def unload():
    subprocess.run([env("BENCH"), "library", "--library", library, "--capacity", str(capacity),
                    "--unload"], check=True)

tool(env("HLMCTL"), "migrate", "AUTH_test/bench")
tool(env("HLM_DISPATCH"), "--once", "-q")
targets = os.path.join(work, "targets")
order = names[:]
random.Random(42).shuffle(order)
with open(targets, "w") as f:
    f.write("".join("AUTH_test/bench/%s\n" % name for name in order))

results = {}
runs = (("fifo", "all"), ("batched", "all"), ("batched", "1"))
for schedule, copies in runs:
    tool(env("HLMCTL"), "migrate", "AUTH_test/bench")  # back to migrated: no bytes move
    tool(env("HLM_DISPATCH"), "--once", "-q")
    unload()
    _, last = calls_since(0)
    tool(env("HLMCTL"), "recall", "--copies", copies, "-f", targets)
    start = time.monotonic()
    _, out, _ = tool(env("HLM_DISPATCH"), "--once", "-q", "--json", "--schedule", schedule)
    wall = time.monotonic() - start
    report = json.loads(out)
    assert report["completed"] == n and report["failed"] == 0, report
    unload()
    (calls, mounts, seconds), _ = calls_since(last)
    results[(schedule, copies)] = (calls - 1, mounts, seconds, wall)  # minus the unload's row

# After the last run (--copies 1) every object downloads byte-identical
# through the proxy: guarded reads skip the replicas still on tape.
def downloads_intact(name):
    status, data = swift.request("GET", "bench/" + name)
    return status == 200 and data == bodies[name]

with concurrent.futures.ThreadPoolExecutor(8) as pool:
    intact = sum(pool.map(downloads_intact, names))
assert intact == n, "%d of %d objects download byte-identical" % (intact, n)

if os.environ.get("HLM_BENCH_KEEP_INDEX"):
    db = sqlite3.connect(os.path.join(library, "index.sqlite"))
    db.execute("VACUUM INTO ?", (os.environ["HLM_BENCH_KEEP_INDEX"],))
    db.close()

def library_bound(*flags):
    return json.loads(subprocess.run([env("BENCH"), "library", "--library", library,
                                      "--capacity", str(capacity), *flags],
                                     check=True, capture_output=True).stdout)

bound = library_bound()
# The last run was --copies 1: the copies on disk now are the ones it chose.
chosen = library_bound("--on-disk")
print("%d objects (%d replicas) recalled as %d single-object requests through hlm-dispatch;"
      % (n, n * replicas, n))
print("one tapesim library, %d cartridges used, 2 drives, LTO-9 timing, simulated drive-seconds"
      % bound["cartridges"])
print("%-22s %16s %8s %14s %10s %12s" % ("", "connector calls", "mounts", "drive-seconds",
                                         "vs bound", "wall (s)"))
for schedule, copies in runs:
    calls, mounts, seconds, wall = results[(schedule, copies)]
    label = "%s --copies %s" % (schedule, copies)
    print("%-22s %16d %8d %14.0f %9.2fx %12.1f" % (label, calls, mounts, seconds,
                                                  seconds / bound["lower_bound_seconds"], wall))
print("%-22s %16s %8d %14.0f %9.2fx" % ("lower bound", "", bound["cartridges"],
                                         bound["lower_bound_seconds"], 1.0))
print("%-22s %16s %8d %14.0f %9.2fx" % ("bound, chosen copies", "", chosen["cartridges"],
                                         chosen["lower_bound_seconds"],
                                         chosen["lower_bound_seconds"]
                                         / bound["lower_bound_seconds"]))
print("FIFO / batched: %.1fx" % (results[("fifo", "all")][2] / results[("batched", "all")][2]))
print("batched --copies 1 / batched --copies all: %.2fx"
      % (results[("batched", "1")][2] / results[("batched", "all")][2]))
print("after batched --copies 1: %d of %d objects download byte-identical" % (intact, n))
print("batched --copies 1 / 3,440 (issue 14's batched baseline): %.2fx"
      % (results[("batched", "1")][2] / 3440))
PY
