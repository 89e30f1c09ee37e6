"""hlm on several real hosts (test/multihost/rig.py: network namespaces, an
sshd and Swift storage servers each): objects uploaded through the proxy
are migrated by hlm-dispatch over ssh to the three hosts; hlmctl status
sees them migrated; each host's dummy backend was asked for exactly the
replicas on that host's disk; the handler really ran inside each host's
namespace (its HLM_HOST and network namespace); a run of several rounds
starts one handler per host. Then the handler's
heartbeat: a 5 s tapesim batch under a 3 s io_timeout completes with
`--heartbeat 1` and fails with the idle timeout under `--heartbeat 0`."""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "multihost"))
import mhsupport  # noqa: E402
from mhsupport import check, query  # noqa: E402
from support import Swift, env, run_tool  # noqa: E402
from support import object_states  # noqa: E402

A = "AUTH_test"


def main():
    names, info = mhsupport.load()
    work = mhsupport.work_dir(info, "smoke")
    log = os.path.join(work, "handler-hosts.log")
    with open(log, "w"):
        pass
    mhsupport.chown(log, info)
    os.chmod(log, 0o666)
    handler = mhsupport.install_handler(info, name="hlm-handler-logged", log=log)
    conf = mhsupport.write_conf(info, os.path.join(work, "hlm.conf"), handler)

    mhsupport.drain_queue(info, work, run_tool, env("HLM_DISPATCH"))
    swift = Swift()
    objects = {}
    for container, policy in (("mh-smoke-" + mhsupport.RUN, None),
                              ("mh-smoke-silver-" + mhsupport.RUN, "silver")):
        swift.put_container(container, policy)
        for i in range(6):
            swift.put_object(container, "o%d" % i, b"multihost %d" % i)
            objects.setdefault(container, []).append("/%s/%s/o%d" % (A, container, i))
        run_tool([env("HLMCTL"), "migrate", "%s/%s" % (A, container)], conf, status=0)

    started = time.monotonic()
    _, out, err = run_tool([env("HLM_DISPATCH"), "--once", "--json"], conf, status=0)
    report = json.loads(out)
    print("hlm-dispatch --once over ssh to %d hosts: %s (%.2f s)"
          % (len(info["hosts"]), out.strip(), time.monotonic() - started))
    check(report["completed"] == 2 and report["failed"] == 0, "dispatch: %s\n%s" % (out, err))

    for container in objects:
        _, out, _ = run_tool([env("HLMCTL"), "status", "--json", "%s/%s" % (A, container)],
                             conf, status=0)
        states = object_states(out)
        check(len(states) == 6 and set(states.values()) == {"migrated"},
              "hlmctl status %s: %r" % (container, states))

    # Each host's backend got exactly the replicas on its own disk: all of
    # the 3-replica container, two thirds of the 2-replica one.
    silver_total = 0
    for host in info["hosts"]:
        node = next(n for n in json.load(open(info["cluster_json"]))["nodes"]
                    if n["index"] == host["node"])
        migrated = {o for (o,) in query(node["hlm_db_path"],
                                        "SELECT object FROM operations WHERE operation = 'migrate'")}
        for container, paths in objects.items():
            on_disk = mhsupport.replicas_on(info, host, container)
            done = {o for o in migrated if o in paths}
            check(on_disk and done == on_disk,
                  "%s: backend migrated %s, disk holds %s" % (host["name"], sorted(done),
                                                              sorted(on_disk)))
            if container.startswith("mh-smoke-silver-"):
                silver_total += len(on_disk)
            else:
                check(on_disk == set(paths), "%s holds every gold replica" % host["name"])
        print("  %s (%s): %d replicas migrated by its dummy backend"
              % (host["name"], host["ip"], len(migrated)))
    check(silver_total == 12, "2 replicas of each silver object: %d" % silver_total)

    # The handler ran in each host's namespace, with that sshd's HLM_HOST.
    with open(log) as f:
        runs = [line.split() for line in f if line.strip()]
    for host in info["hosts"]:
        inode = os.stat(os.path.join("/run/netns", host["namespace"])).st_ino
        mine = [r for r in runs if r[0] == host["name"]]
        check(mine, "no handler run logged HLM_HOST=%s: %r" % (host["name"], runs))
        check(all(r[1] == "net:[%d]" % inode for r in mine),
              "%s's handler ran outside namespace %s (inode %d): %r"
              % (host["name"], host["namespace"], inode, mine))
    check({r[0] for r in runs} == {h["name"] for h in info["hosts"]}, "hosts: %r" % runs)
    print("  handler runs: %d, each in its host's namespace" % len(runs))

    one_handler_per_host(info, work, log, handler)

    version = subprocess.run([env("HLM_HANDLER"), "--version"], capture_output=True,
                             text=True).stdout
    if "tapesim" in version:
        heartbeat(info, work)
    else:
        print("  NOT CHECKED: the heartbeat over ssh (needs the tapesim connector): %r"
              % version)
    print("ok: migrate over ssh on %d hosts" % len(info["hosts"]))


def one_handler_per_host(info, work, log, handler):
    """Rounds of 5 objects over 20: hlm-dispatch --once and hlmctl status
    each start one hlm-handler per host (a protocol version 2 session) for
    all four rounds, not one per round."""
    conf = mhsupport.write_conf(info, os.path.join(work, "hlm-rounds.conf"), handler)
    with open(conf) as f:
        text = f.read()
    check("batch_size = 1000" in text, "write_conf's batch_size: %r" % text)
    with open(conf, "w") as f:
        f.write(text.replace("batch_size = 1000", "batch_size = 5"))
    mhsupport.drain_queue(info, work, run_tool, env("HLM_DISPATCH"))
    container = "mh-rounds-" + mhsupport.RUN
    swift = Swift()
    swift.put_container(container)
    for i in range(20):
        swift.put_object(container, "o%02d" % i, b"round %d" % i)
    run_tool([env("HLMCTL"), "migrate", "%s/%s" % (A, container)], conf, status=0)
    hosts = sorted(h["name"] for h in info["hosts"])
    for what, argv in (("hlm-dispatch --once", [env("HLM_DISPATCH"), "--once", "--json"]),
                       ("hlmctl status", [env("HLMCTL"), "status", "--json",
                                          "%s/%s" % (A, container)])):
        with open(log, "w"):
            pass
        _, out, err = run_tool(argv, conf, status=0)
        if what == "hlmctl status":
            states = json.loads(out)["objects"]
            check(len(states) == 20 and set(states.values()) == {"migrated"},
                  "hlmctl status over 4 rounds: %r" % states)
        else:
            check(json.loads(out)["completed"] == 1, "dispatch: %s\n%s" % (out, err))
        with open(log) as f:
            started = sorted(line.split()[0] for line in f if line.strip())
        check(started == hosts, "%s, 4 rounds of 5 objects: handlers started %r, want one "
              "per host %r" % (what, started, hosts))
        print("  %s, 4 rounds of 5 objects: one hlm-handler per host (%s)"
              % (what, ", ".join(started)))


def heartbeat(info, work):
    """A batch longer than io_timeout: carried by the heartbeat, and failed
    by the idle timer without it."""
    def settings(host):
        library = os.path.join(work, "tapesim-" + host["name"])
        os.makedirs(library)
        mhsupport.chown(library, info)
        # Nothing but the transfer takes time: 5000 bytes at 1000 B/s.
        return {"library": library, "drives": "1", "time_scale": "1",
                "robot_exchange_seconds": "0", "load_seconds": "0",
                "locate_average_seconds": "0", "rewind_average_seconds": "0",
                "unload_seconds": "0", "drive_rate_mb": "0.001"}
    confs = mhsupport.backend_confs(info, work, "tapesim", settings)
    swift = Swift()
    for case, beat, status in (("beat", "1", 0), ("silent", "0", 3)):
        container = "mh-heartbeat-%s-%s" % (case, mhsupport.RUN)
        swift.put_container(container)
        for i in range(2):
            swift.put_object(container, "o%d" % i, b"h" * 2500)
        handler = mhsupport.install_handler(info, ["--heartbeat", beat],
                                            name="hlm-handler-beat-" + beat)
        conf = mhsupport.write_conf(info, os.path.join(work, "hlm-%s.conf" % case), handler,
                                    confs=confs, io_timeout=3)
        mhsupport.drain_queue(info, work, run_tool, env("HLM_DISPATCH"))
        run_tool([env("HLMCTL"), "migrate", "%s/%s" % (A, container)], conf, status=0)
        started = time.monotonic()
        _, out, err = run_tool([env("HLM_DISPATCH"), "--once", "--json"], conf, status=status)
        seconds = time.monotonic() - started
        _, requests, _ = run_tool([env("HLMCTL"), "requests", "--json", "%s/%s" % (A, container)],
                                  conf, status=0)
        failed = json.loads(requests)["failed"]
        print("  5 s batch, io_timeout 3 s, --heartbeat %s: %s in %.1f s %s"
              % (beat, out.strip(), seconds, failed[0]["reason"][:200] if failed else ""))
        if status == 0:
            check(json.loads(out)["completed"] == 1 and seconds > 4.5,
                  "the heartbeat kept a %.1f s batch alive: %s %s" % (seconds, out, err))
        else:
            # Both objects failed, each a request of its own.
            check(len(failed) == 2 and all("no data to or from" in f["reason"]
                                           and "for 3 s" in f["reason"] for f in failed),
                  "without a heartbeat the idle timer fires: %r" % failed)


if __name__ == "__main__":
    main()
