"""One host fails while hlm-dispatch has a batch running on three
(test/multihost/rig.py): crashed (every process SIGKILLed), frozen
(SIGSTOP), blackholed (nftables drop), link down, or its hlm-handler
killed. Each batch takes ~10 s per host (tapesim paced at 1000 B/s);
connect_timeout is 5 s and io_timeout 15 s. For every case: the dispatcher
gives up on that host within the bound (measured from outside, when it
closes its connection to the host), the failed entry names the host and
what happened, the other hosts' replicas are on their tapes, hlm-dispatch
exits within the bound plus slack; then the host is restored. Prints a
table of the figures."""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "multihost"))
import mhsupport  # noqa: E402
from mhsupport import check, query, rig  # noqa: E402
from support import Swift, env, run_tool, tool_env  # noqa: E402

A = "AUTH_test"
CONNECT_TIMEOUT = 5
IO_TIMEOUT = 15
BATCH_SECONDS = 10      # per host: OBJECTS x OBJECT_BYTES at 1000 B/s
OBJECTS = 4
OBJECT_BYTES = 2500
SLACK = 5               # a loaded 2-core machine
# Settling the entry writes queue rows to every container server, the failed
# host's too. A frozen or cut-off one costs one request timeout
# (DirectContainerClient::k_request_timeout; not a connect timeout: the
# connection of the run's first listing is reused), once per run: it is then
# not asked again for a while. A crashed one refuses at once.
QUEUE_TIMEOUT = 15

# (case, rig fault, victim host index, bound from the fault to the
# dispatcher giving up on the host, what the queue writes may add, words
# the reason must hold)
CASES = [
    ("crash", "crash", 1, 3, 0, ("lost",)),
    ("freeze", "freeze", 2, IO_TIMEOUT, QUEUE_TIMEOUT, ("no data to or from", "for 15 s")),
    ("blackhole", "blackhole", 3, IO_TIMEOUT, QUEUE_TIMEOUT,
     ("no data to or from", "for 15 s")),
    ("link down", "link-down", 1, IO_TIMEOUT, QUEUE_TIMEOUT,
     ("no data to or from", "for 15 s")),
    ("handler killed", "kill-handler", 2, 3, 0, ("hlm-handler failed", "137")),
]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            mhsupport.fail("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.02)


def run_case(names, info, conf, libraries, case, kind, victim_index, bound, queue_cost, words):
    victim = info["hosts"][victim_index - 1]
    others = [h for h in info["hosts"] if h is not victim]
    container = "mh-fault-%s-%s" % (kind, mhsupport.RUN)
    swift = Swift()
    swift.put_container(container)
    paths = []
    for i in range(OBJECTS):
        swift.put_object(container, "o%d" % i, (b"%d" % i) * OBJECT_BYTES)
        paths.append("/%s/%s/o%d" % (A, container, i))
    mhsupport.drain_queue(info, os.path.dirname(conf), run_tool, env("HLM_DISPATCH"))
    run_tool([env("HLMCTL"), "migrate", "%s/%s" % (A, container)], conf, status=0)

    started = time.monotonic()
    dispatch = subprocess.Popen([env("HLM_DISPATCH"), "--once", "--json"],
                                env=tool_env(conf), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    # Every host's handler is inside its connector call.
    wait_for(lambda: all(rig.processes(h, "hlm-handler") for h in info["hosts"]),
             20, "a handler on every host")
    time.sleep(1)
    check(dispatch.poll() is None, "hlm-dispatch ended before the fault")
    check((victim["ip"], 22) in (mhsupport.tcp_peers(dispatch.pid) or ()),
          "hlm-dispatch has no connection to %s" % victim["ip"])
    fault_at = time.monotonic()
    rig.fault(info, victim, kind)

    # The dispatcher gives up on the host when it closes its session.
    gave_up = None
    while dispatch.poll() is None:
        peers = mhsupport.tcp_peers(dispatch.pid)
        if gave_up is None and peers is not None and (victim["ip"], 22) not in peers:
            gave_up = time.monotonic()
        if time.monotonic() - fault_at > bound + 60:
            dispatch.kill()
            mhsupport.fail("%s: hlm-dispatch still running %.0f s after the fault"
                           % (case, time.monotonic() - fault_at))
        time.sleep(0.02)
    ended = time.monotonic()
    out, err = dispatch.communicate()
    gave_up = gave_up or ended
    figures = {"case": case, "host": victim["name"],
               "to_failure": gave_up - fault_at, "dispatch_end": ended - fault_at,
               "dispatch_total": ended - started, "bound": bound}

    _, requests, _ = run_tool([env("HLMCTL"), "requests", "--json", "%s/%s" % (A, container)],
                              conf, status=0)
    failed = json.loads(requests)["failed"]
    reason = failed[0]["reason"] if failed else ""
    figures["reason"] = reason
    done = {}
    for host in others:
        on_tape = {o for (o,) in query(os.path.join(libraries[host["name"]], "index.sqlite"),
                                       "SELECT object FROM objects WHERE state = 'migrated'")}
        done[host["name"]] = len(on_tape & set(paths))
    figures["others_done"] = done

    # Restore the host; see whether its orphaned handler ends by itself
    # (the heartbeat's write fails once sshd has closed the session).
    restore_started = time.monotonic()
    rig.start_host(names, info, victim)
    figures["restore"] = time.monotonic() - restore_started
    orphan_since = time.monotonic()
    while rig.processes(victim, "hlm-handler") and time.monotonic() < orphan_since + 5:
        time.sleep(0.05)
    leftovers = rig.processes(victim, "hlm-handler")
    figures["orphan"] = "still running after 5 s, killed" if leftovers else \
        "gone %.1f s after the restore" % (time.monotonic() - orphan_since)
    rig.signal_pids(leftovers, 9)

    print("  %-15s %s: gave up after %.2f s, hlm-dispatch ended after %.2f s (%s)\n"
          "      reason: %s\n      other hosts' replicas on tape: %s; restored in %.1f s; "
          "orphaned handler %s"
          % (case, victim["name"], figures["to_failure"], figures["dispatch_end"],
             out.strip(), reason[:300], done, figures["restore"], figures["orphan"]))

    check(dispatch.returncode == 3, "%s: hlm-dispatch exit %d\n%s\n%s"
          % (case, dispatch.returncode, out, err))
    report = json.loads(out.strip().splitlines()[-1])
    check(report["failed"] == 1, "%s: report %s" % (case, out))
    # Every object has a replica on every host (3 hosts, 3 replicas): the
    # container request leaves each of them failed, as a request of its own.
    check(len(failed) == OBJECTS and all(victim["ip"] in f["reason"] for f in failed),
          "%s: failed entries %r" % (case, failed))
    check(victim["ip"] in reason and all(w in reason for w in words),
          "%s: the reason names %s and says %s: %r" % (case, victim["ip"], words, reason))
    for host in others:
        check(host["ip"] not in reason, "%s: healthy %s blamed: %r" % (case, host["ip"], reason))
    check(all(n == OBJECTS for n in done.values()),
          "%s: the other hosts' replicas all migrated: %r" % (case, done))
    check(figures["to_failure"] <= bound + SLACK,
          "%s: gave up on the host %.1f s after the fault (bound %d s + %d s)"
          % (case, figures["to_failure"], bound, SLACK))
    end_bound = max(bound, BATCH_SECONDS) + queue_cost + SLACK
    check(figures["dispatch_end"] <= end_bound,
          "%s: hlm-dispatch ended %.1f s after the fault (bound %d s)"
          % (case, figures["dispatch_end"], end_bound))
    return figures


def main():
    names, info = mhsupport.load()
    work = mhsupport.work_dir(info, "faults")
    libraries = {}

    def settings(host):
        library = os.path.join(work, "tapesim-" + host["name"])
        os.makedirs(library)
        mhsupport.chown(library, info)
        libraries[host["name"]] = library
        # Only the transfer takes time: OBJECTS x OBJECT_BYTES at 1000 B/s.
        return {"library": library, "drives": "1", "time_scale": "1",
                "robot_exchange_seconds": "0", "load_seconds": "0",
                "locate_average_seconds": "0", "rewind_average_seconds": "0",
                "unload_seconds": "0", "drive_rate_mb": "0.001"}

    confs = mhsupport.backend_confs(info, work, "tapesim", settings)
    handler = mhsupport.install_handler(info)
    conf = mhsupport.write_conf(info, os.path.join(work, "hlm.conf"), handler, confs=confs,
                                connect_timeout=CONNECT_TIMEOUT, io_timeout=IO_TIMEOUT)
    rows = []
    only = os.environ.get("HLM_MULTIHOST_CASES")
    for case in CASES:
        if only and case[1] not in only.split(","):
            continue
        rows.append(run_case(names, info, conf, libraries, *case))

    print("\nR2: one host of %d fails during a %d s batch (connect_timeout %d s, "
          "io_timeout %d s)" % (len(info["hosts"]), BATCH_SECONDS, CONNECT_TIMEOUT, IO_TIMEOUT))
    print("%-15s %-6s %10s %10s %7s  %-14s %s" % ("case", "host", "gave up", "dispatch", "bound",
                                                "others done", "reason"))
    for r in rows:
        print("%-15s %-6s %9.2fs %9.2fs %6ds  %-14s %s" % (
            r["case"], r["host"], r["to_failure"], r["dispatch_end"], r["bound"],
            "/".join("%d" % n for n in r["others_done"].values()) + " of %d" % OBJECTS,
            r["reason"][r["reason"].find(": ") + 2:].replace(handler, "hlm-handler")[:100]))
    print("ok: every failure was confined to its host and reported within its bound")


if __name__ == "__main__":
    main()
