#!/usr/bin/env bash
# Priority under a flood (issue 15, item 3): FLOOD single-object recalls
# queued at --priority low, then one more recall (the probe), on a real
# local Swift (3 replicas) whose object servers share one tapesim library
# (2 drives) running at TIME_SCALE of its simulated time. One hlm-dispatch
# --once works them all; on_complete notes when each request finishes.
# Printed side by side: the probe at --priority high, and at --priority low
# like the flood (no priorities): how long after the run started the
# probe's recall was done, and the run's wall time.
#
#   bench/priority_flood.sh [BUILD_DIR] [FLOOD] [TIME_SCALE]
#
# Defaults: 10000 requests, time scale 0.005.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
flood=${2:-10000}
scale=${3:-0.005}
python=/usr/bin/python3
work=$(mktemp -d "$build/bench-priority.XXXXXX")
trap '$python "$here/../test/saio/saio.py" stop --dir "$work/saio" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
$python "$here/../test/saio/saio.py" start --dir "$work/saio" --base-port "${HLM_BENCH_PORT:-16500}" >/dev/null

HLM_SAIO_DIR=$work/saio HLM_HANDLER=$build/cmd/hlm-handler HLMCTL=$build/cmd/hlmctl \
HLM_DISPATCH=$build/cmd/hlm-dispatch PYTHONPATH=$here/../test/integration \
  $python - "$work" "$flood" "$scale" <<'PY'
import concurrent.futures, glob, json, os, sys, time
from support import Swift, cluster, env, run_tool, tapesim_confs, write_hlm_conf

work, flood, scale = sys.argv[1], int(sys.argv[2]), sys.argv[3]
info = cluster()
conf_dir, _ = tapesim_confs(info, work, {"drives": "2", "time_scale": "0"}, shared_library=True)
hook_log = os.path.join(work, "done.log")
hook = os.path.join(work, "hook.sh")
with open(hook, "w") as f:
    f.write('#!/bin/sh\nline=$(cat)\necho "$(date +%%s.%%N) $line" >> "%s"\n' % hook_log)
os.chmod(hook, 0o755)
# Single-object requests, as a flood of users' recalls would be.
conf = write_hlm_conf(os.path.join(work, "hlm.conf"), object_server_conf=conf_dir,
                      dispatch="on_complete = %s\n" % hook,
                      extra="[hlmctl]\nlist_min_objects = 0\n")

def time_scale(value):
    for path in glob.glob(os.path.join(conf_dir, "*.conf")):
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write("\n".join("time_scale = %s" % value if line.startswith("time_scale")
                              else line for line in text.split("\n")))

def tool(*argv):
    return run_tool(list(argv), conf, status=0)

swift = Swift()
swift.put_container("flood")
names = ["o%05d" % i for i in range(flood)]
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda name: swift.put_object("flood", name, os.urandom(4096)), names + ["probe"]))
flood_list = os.path.join(work, "flood.txt")
with open(flood_list, "w") as f:
    f.write("".join("AUTH_test/flood/%s\n" % name for name in names))

rows = []
for variant, probe_priority in (("with priorities", "high"), ("without (all low)", "low")):
    time_scale("0")
    tool(env("HLMCTL"), "migrate", "AUTH_test/flood")
    tool(env("HLM_DISPATCH"), "--once", "-q")
    time_scale(scale)
    started = time.monotonic()
    tool(env("HLMCTL"), "recall", "--priority", "low", "-f", flood_list)
    queued = time.monotonic() - started
    _, out, _ = tool(env("HLMCTL"), "recall", "--json", "--priority", probe_priority,
                     "AUTH_test/flood/probe")
    probe = json.loads(out)["requests"][0]["id"]
    if os.path.exists(hook_log):
        os.remove(hook_log)
    t0 = time.time()
    _, out, _ = tool(env("HLM_DISPATCH"), "--once", "--json")
    wall = time.time() - t0
    report = json.loads(out.strip().splitlines()[-1])
    done = {}
    with open(hook_log) as f:
        for line in f:
            at, document = line.split(" ", 1)
            done[json.loads(document)["id"]] = float(at) - t0
    assert report["failed"] == 0 and probe in done, (report, len(done))
    later = sum(1 for t in done.values() if t > done[probe])
    rows.append((variant, probe_priority, done[probe], later, wall, queued, report["completed"]))

print("%d low-priority recalls (single-object requests) and one probe recall; tapesim at time "
      "scale %s, 2 drives, one library" % (flood, scale))
print("%-20s %-8s %14s %18s %10s %10s" % ("run", "probe", "probe done s", "finished after it",
                                         "run s", "queue s"))
for variant, priority, probe_s, later, wall, queued, completed in rows:
    print("%-20s %-8s %14.1f %18d %10.1f %10.1f" % (variant, priority, probe_s, later, wall, queued))
PY
