"""hlmctl recall --copies N on the real test cluster: one tapesim library
shared by the object servers, guarded reads (python/hlm_swift in every
object server's pipeline), release = punch.

30 objects are migrated, then recalled with --copies 1: exactly one replica
of each is on disk, status says premigrated and readable, every GET through
the proxy is byte-identical, and the library read 30 extents, not 90.
--copies 2 then gives a second replica on another device. Swift's auditor
and replicator run once over the result, and every GET is byte-identical
again. Object servers without the guard make --copies 1 recall every
replica, with a warning."""

import hashlib
import json
import os
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, env, hlmctl,  # noqa: E402
                     run_tool, tapesim_confs, write_hlm_conf)
from stubs import no_quarantined, replica_files, snapshot  # noqa: E402
from test_daemon_stubs import RsyncDaemon, on_every_node  # noqa: E402

A = "AUTH_test"
CONTAINER = "copies"
OBJECTS = 30
SIZE = 70_000


def dispatch(conf):
    report = dispatch_once(conf)
    check(report["failed"] == 0, "dispatch: %r" % report)
    return report


def recalled_extents(library, since):
    """Items of the recall calls the library recorded after call `since`,
    and the last call's id."""
    db = sqlite3.connect(os.path.join(library, "index.sqlite"))
    items = db.execute("SELECT total(items) FROM calls WHERE id > ? AND operation = 'recall'",
                       (since,)).fetchone()[0]
    top = db.execute("SELECT coalesce(max(id), 0) FROM calls").fetchone()[0]
    db.close()
    return int(items), top


def on_disk_replicas(info, path):
    """The devices whose replica of `path` has its data on disk."""
    snap = snapshot(replica_files(info, path))
    return sorted(p.split(os.sep + "objects")[0].rsplit(os.sep, 1)[1]
                  for p, s in snap.items() if s and s["on_disk"])


def replicas_report(conf):
    _, out, _ = hlmctl(conf, "status", "--json", "--replicas", A + "/" + CONTAINER)
    return json.loads(out)["objects"]


def expect_copies(info, conf, names, copies):
    """Each object has exactly `copies` replicas on disk, on distinct
    devices, and status says premigrated and readable with as many
    premigrated replicas."""
    report = replicas_report(conf)
    for name in names:
        path = "/%s/%s/%s" % (A, CONTAINER, name)
        devices = on_disk_replicas(info, path)
        check(len(devices) == copies and len(set(devices)) == copies,
              "%s: replicas on disk %r, expected %d" % (name, devices, copies))
        obj = report[path]
        states = sorted(r["state"] for r in obj["replicas"])
        check(obj["state"] == "premigrated" and obj["readable"] is True
              and states.count("premigrated") == copies
              and states.count("migrated") == 3 - copies,
              "%s: status %r" % (name, obj))


def expect_gets(swift, bodies):
    for name, body in bodies.items():
        for _ in range(3):  # the proxy tries replicas in random order
            status, _, data = swift.request_full("GET", CONTAINER + "/" + name)
            check(status == 200 and data == body,
                  "GET %s: %d, %d bytes, %s" % (name, status, len(data),
                                                "identical" if data == body else "different"))


def main():
    info = cluster()
    work = os.path.join(info["dir"], "copies-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf_dir, (library,) = tapesim_confs(info, work, {"release": "punch",
                                                      "cartridge_capacity": "4M",
                                                      "drives": "2"},
                                         shared_library=True)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"), object_server_conf=conf_dir,
                          dispatch="max_attempts = 1\n")

    swift = Swift()
    swift.put_container(CONTAINER)
    bodies = {}
    for i in range(OBJECTS):
        name = "obj%03d" % i
        bodies[name] = (hashlib.sha256(name.encode()).digest() * (SIZE // 32 + 1))[:SIZE]
        swift.put_object(CONTAINER, name, bodies[name])
    hlmctl(conf, "migrate", A + "/" + CONTAINER)
    dispatch(conf)
    for name in bodies:
        check(on_disk_replicas(info, "/%s/%s/%s" % (A, CONTAINER, name)) == [],
              "%s: a replica kept its data after the migrate" % name)

    # --copies 1: one replica per object comes back; 30 extents read.
    _, last = recalled_extents(library, 0)
    hlmctl(conf, "recall", "--copies", "1", A + "/" + CONTAINER)
    dispatch(conf)
    read, last = recalled_extents(library, last)
    check(read == OBJECTS, "the library read %d extents for --copies 1, expected %d"
          % (read, OBJECTS))
    print("    recall --copies 1: %d extents read for %d objects" % (read, OBJECTS))
    expect_copies(info, conf, bodies, 1)
    expect_gets(swift, bodies)

    # --copies 2: a second replica, on another device; 30 more extents.
    hlmctl(conf, "recall", "--copies", "2", A + "/" + CONTAINER)
    dispatch(conf)
    read, last = recalled_extents(library, last)
    check(read == OBJECTS, "the library read %d extents for --copies 2, expected %d"
          % (read, OBJECTS))
    expect_copies(info, conf, bodies, 2)
    print("    recall --copies 2: %d more extents, two replicas on distinct devices" % read)

    # A bad value is a usage error; nothing is queued.
    for bad in ("0", "-1", "two", "1.5", ""):
        code, _, err = hlmctl(conf, "recall", "--copies", bad, A + "/" + CONTAINER, status=None)
        check(code == 2 and "--copies" in err, "--copies %r: exit %d, %s" % (bad, code, err))

    # Swift's daemons over stubs beside recalled replicas.
    rsync = RsyncDaemon(info, work)
    try:
        on_every_node(info, "auditor")
        on_every_node(info, "auditor", "--zero-byte-fps", "1000")
        on_every_node(info, "replicator", "--rsync-module", rsync.module)
    finally:
        rsync.stop()
    no_quarantined(info)
    expect_gets(swift, bodies)
    expect_copies(info, conf, bodies, 2)
    print("    after the auditor and replicator: every GET byte-identical")

    # Object servers without the guard: a stub could be served, so the
    # dispatcher recalls every replica, and says why.
    unguarded = os.path.join(work, "unguarded")
    conf_dir, _ = tapesim_confs(info, unguarded, {"release": "punch"}, shared_library=True)
    for name in os.listdir(conf_dir):
        path = os.path.join(conf_dir, name)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("pipeline = healthcheck hlm_guard object-server",
                                 "pipeline = healthcheck object-server"))
    conf = write_hlm_conf(os.path.join(unguarded, "hlm.conf"), object_server_conf=conf_dir)
    swift.put_object(CONTAINER, "unguarded", bodies["obj000"])
    path = "/%s/%s/unguarded" % (A, CONTAINER)
    hlmctl(conf, "migrate", path[1:])
    dispatch(conf)
    hlmctl(conf, "recall", "--copies", "1", path[1:])
    _, out, err = run_tool([env("HLM_DISPATCH"), "--once", "--json"], conf, status=0)
    check(json.loads(out.strip().splitlines()[-1])["failed"] == 0, "dispatch: %s" % out)
    check("guarded reads are not configured" in err and "every replica" in err,
          "no warning about the fallback to every replica: %s" % err)
    check(len(on_disk_replicas(info, path)) == 3,
          "unguarded --copies 1: replicas on disk %r, expected all 3"
          % on_disk_replicas(info, path))
    print("    unguarded object servers: every replica recalled, with a warning")


if __name__ == "__main__":
    main()
