#!/usr/bin/env bash
# R3: overlapping dispatchers never handle an object twice. N single-object
# migrate requests (default 1,000) on a local Swift with the dummy
# connector, then four hlm-dispatch --once started at the same moment:
#   same-lock   four runs of one host (cron firing again while a run is
#               still going): they share the lock file
#   split       four hosts (own lock files) splitting the queue with
#               --processes 4 --process 0..3
#   no-split    four hosts with own lock files and no split: the
#               misconfiguration, measured as the baseline
# For each, counts from the dummy backends' own record of operations how
# many replica files were migrated, how many more than once, and whether
# the queue drained.
#
#   bench/overlap_dispatch.sh [BUILD_DIR] [REQUESTS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
requests=${2:-1000}
python=/usr/bin/python3
work=$(mktemp -d "$build/bench-overlap.XXXXXX")
trap '$python "$here/../test/saio/saio.py" stop --dir "$work/saio" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
$python "$here/../test/saio/saio.py" start --dir "$work/saio" --base-port "${HLM_BENCH_PORT:-16600}" >/dev/null

HLM_SAIO_DIR=$work/saio HLM_HANDLER=$build/cmd/hlm-handler HLMCTL=$build/cmd/hlmctl \
HLM_DISPATCH=$build/cmd/hlm-dispatch PYTHONPATH=$here/../test/integration \
  $python - "$work" "$requests" <<'PY'
import concurrent.futures, json, os, subprocess, sys, time
from support import Swift, cluster, env, migrations, run_tool, tool_env, write_hlm_conf

work, n = sys.argv[1], int(sys.argv[2])
info = cluster()
swift = Swift()


def confs(separate_locks):
    paths = []
    for i in range(4):
        path = os.path.join(work, "hlm-%s-%d.conf" % ("own" if separate_locks else "shared", i))
        write_hlm_conf(path, extra="[hlmctl]\nlist_min_objects = 0\n")  # 1,000 requests
        if separate_locks:
            with open(path) as f:
                text = f.read().replace("hlm-dispatch.lock", "hlm-dispatch-%d.lock" % i)
            with open(path, "w") as f:
                f.write(text)
        paths.append(path)
    return paths


rows = []
for case, separate, split in (("same-lock", False, False), ("split", True, True),
                              ("no-split", True, False)):
    container = "overlap-" + case
    swift.put_container(container)
    names = ["o%05d" % i for i in range(n)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: swift.put_object(container, name, b"x"), names))
    paths = confs(separate)
    targets = "".join("AUTH_test/%s/%s\n" % (container, name) for name in names)
    run_tool([env("HLMCTL"), "migrate", "-f", "-"], paths[0], stdin=targets.encode(), status=0)
    start = time.monotonic()
    procs = [subprocess.Popen([env("HLM_DISPATCH"), "--once", "--json", "-q"]
                              + (["--processes", "4", "--process", str(i)] if split else []),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tool_env(path))
             for i, path in enumerate(paths)]
    outputs = [p.communicate(timeout=900) for p in procs]
    wall = time.monotonic() - start
    worked = sum(1 for p, (out, _) in zip(procs, outputs)
                 if p.returncode == 0 and out.strip() and json.loads(out)["entries"] > 0)
    counts = migrations(info, container)
    _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", "AUTH_test/" + container],
                         paths[0], status=0)
    queue = json.loads(out)
    rows.append((case, worked, len({o for o, _ in counts}), len(counts),
                 sum(1 for k in counts.values() if k > 1), sum(counts.values()) - len(counts),
                 len(queue["pending"]), len(queue["failed"]), wall))

print("%d single-object migrate requests (3 replicas each), 4 hlm-dispatch --once started together"
      % n)
print("%-10s %7s %8s %9s %13s %11s %8s %7s %8s" % ("case", "worked", "objects", "replicas",
                                                  "replicas >1x", "extra ops", "pending",
                                                  "failed", "wall s"))
for row in rows:
    print("%-10s %7d %8d %9d %13d %11d %8d %7d %8.1f" % row)
PY
