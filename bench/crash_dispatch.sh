#!/usr/bin/env bash
# R1: does a dispatcher killed at a random moment lose or wedge requests?
#
#   bench/crash_dispatch.sh [BUILD_DIR] [TRIALS] [OBJECTS]
#
# On the multi-host rig (test/multihost/rig.py: 3 hosts in network
# namespaces, hlm-dispatch reaching them over ssh, the dummy backend),
# TRIALS times (default 20): the hosts' backends reset (every replica
# resident), OBJECTS (default 1000) single-object migrate requests queued
# with `hlmctl migrate -f`, `hlm-dispatch --once` started and SIGKILLed
# after a random delay within the length of an undisturbed run, then one
# clean `hlm-dispatch --once`. Counted after the rerun:
#   lost   requests whose object is not migrated and no pending or failed
#          request names it any more
#   stuck  requests still pending
#   failed requests in the failed queue
#   wrong  objects whose merged state (hlmctl status) is not `migrated`
# and a table is printed. Needs root and network namespaces. Uses a rig of
# its own (in BUILD_DIR/bench-crash-dispatch), proxy on 127.0.0.1 at
# ${HLM_BENCH_PORT:-16700}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
trials=${2:-20}
objects=${3:-1000}
python=/usr/bin/python3
rig_dir=$build/bench-crash-dispatch
rig="$python $here/../test/multihost/rig.py"

trap '$rig down --dir "$rig_dir" >/dev/null 2>&1 || true' EXIT
$rig up --dir "$rig_dir" --hosts 3 --base-port "${HLM_BENCH_PORT:-16700}"

HLM_MULTIHOST_DIR=$rig_dir HLM_HANDLER=$build/cmd/hlm-handler \
HLMCTL=$build/cmd/hlmctl HLM_DISPATCH=$build/cmd/hlm-dispatch \
PYTHONPATH=$here/../test/multihost:$here/../test/integration \
  $python - "$trials" "$objects" <<'PY'
import concurrent.futures
import json
import os
import random
import signal
import subprocess
import sys
import time

import mhsupport
from support import Swift, run_tool, tool_env

trials, count = int(sys.argv[1]), int(sys.argv[2])
names, info = mhsupport.load()
work = mhsupport.work_dir(info, "crash-bench")
handler = mhsupport.install_handler(info)
# Single-object requests, not one list request.
conf = mhsupport.write_conf(info, os.path.join(work, "hlm.conf"), handler,
                           extra="[hlmctl]\nlist_min_objects = 0\n")
cluster = json.load(open(info["cluster_json"]))
dbs = [n["hlm_db_path"] for n in cluster["nodes"]]
container = "crash-bench"
paths = ["AUTH_test/%s/o%05d" % (container, i) for i in range(count)]
targets = os.path.join(work, "targets")
with open(targets, "w") as f:
    f.write("\n".join(paths) + "\n")

swift = Swift()
swift.put_container(container)
t0 = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda p: swift.put_object(container, p.rsplit("/", 1)[1], b"x"), paths))
print("uploaded %d objects in %.1f s" % (count, time.monotonic() - t0), flush=True)


def tool(*argv, status=None):
    return run_tool(list(argv), conf, status=status)


def queue():
    _, out, _ = tool(os.environ["HLMCTL"], "requests", "--json", "AUTH_test/" + container,
                     status=0)
    doc = json.loads(out)
    return doc["pending"], doc["failed"]


def named(entries):
    """Object paths the queue entries are for."""
    found = set()
    for e in entries:
        target = e.get("target") or e.get("name") or ""
        found.add(target.lstrip("/"))
    return found


def reset():
    # The dummy backend's state is its database: gone, every replica is
    # resident again.
    for db in dbs:
        if os.path.exists(db):
            os.unlink(db)
    pending, failed = queue()
    for _ in range(3):
        if not pending and not failed:
            return
        # Leftovers of the previous trial: settle and forget them.
        tool(os.environ["HLM_DISPATCH"], "--once", "--quiet")
        pending, failed = queue()
    if pending:
        sys.exit("queue does not drain: %d pending" % len(pending))


def dispatch_run(kill_after=None):
    started = time.monotonic()
    proc = subprocess.Popen([os.environ["HLM_DISPATCH"], "--once", "--json", "--quiet"],
                            env=tool_env(conf), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    return proc.returncode, out, err, time.monotonic() - started


# An undisturbed run sets the range of kill moments.
reset()
tool(os.environ["HLMCTL"], "migrate", "-f", targets, status=0)
code, out, err, full = dispatch_run()
if code != 0:
    sys.exit("calibration run failed (%d): %s %s" % (code, out, err))
print("undisturbed run: %.1f s (%s)" % (full, out.strip()), flush=True)

rows = []
random.seed(int(os.environ.get("HLM_BENCH_SEED", "1")))
for trial in range(1, trials + 1):
    reset()
    tool(os.environ["HLMCTL"], "migrate", "-f", targets, status=0)
    kill_after = random.uniform(0, full)
    code, _, _, ran = dispatch_run(kill_after)
    killed = code == -signal.SIGKILL
    # Orphaned handlers on the hosts end once sshd drops their session.
    time.sleep(1)
    rerun_code, rerun_out, rerun_err, rerun = dispatch_run()
    pending, failed = queue()
    _, out, _ = tool(os.environ["HLMCTL"], "status", "--json", "AUTH_test/" + container)
    states = json.loads(out)["objects"]
    queued = named(pending) | named(failed)
    not_migrated = {p for p in paths if states.get("/" + p) != "migrated"}
    lost = {p for p in not_migrated if p not in queued and "/" + p not in queued}
    rows.append((trial, kill_after, "killed" if killed else "ended %d" % code, rerun, rerun_code,
                 len(lost), len(pending), len(failed), len(not_migrated)))
    print("trial %2d: kill at %5.1f s (%s), rerun %.1f s exit %d: lost %d stuck %d failed %d "
          "wrong %d" % rows[-1], flush=True)

print()
print("R1: hlm-dispatch --once SIGKILLed at a random moment, then rerun; %d single-object "
      "migrate requests over 3 hosts; undisturbed run %.1f s" % (count, full))
print("%5s %8s %8s %8s %5s %6s %6s %7s %6s" % ("trial", "kill at", "first", "rerun", "exit",
                                              "lost", "stuck", "failed", "wrong"))
for r in rows:
    print("%5d %7.1fs %8s %7.1fs %5d %6d %6d %7d %6d" % r)
totals = [sum(r[i] for r in rows) for i in (5, 6, 7, 8)]
print("%5s %8s %8s %8s %5s %6d %6d %7d %6d" % ("total", "", "", "", "", *totals))
PY
