"""The tapesim connector on the real test cluster: objects of several sizes
migrated with release = punch (the disk copies' blocks freed), status on
every replica, recall, download through the Swift proxy and byte compare; a
cartridge corrupted on purpose fails the recall with a checksum error and
leaves the object migrated; and a queue of single-object recall requests
reaches each node's connector as one list with --schedule batched, one by
one with --schedule fifo."""

import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, hlmctl,  # noqa: E402
                     tapesim_confs, tapesim_query, write_hlm_conf)
from support import object_states  # noqa: E402

A = "AUTH_test"


def states(conf, target):
    _, out, _ = hlmctl(conf, "status", "--json", target, status=None)
    return object_states(out)


def recall_calls(libraries, after):
    """(items, drive_seconds) of every recall call after call id `after`."""
    calls = []
    for library in libraries:
        calls += tapesim_query(library, "SELECT items, drive_seconds FROM calls"
                                " WHERE operation = 'recall' AND id > ?", (after[library],))
    return calls


def last_call_ids(libraries):
    return {lib: tapesim_query(lib, "SELECT coalesce(max(id), 0) FROM calls")[0][0] for lib in libraries}


def main():
    info = cluster()
    work = os.path.join(info["dir"], "tapesim-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf_dir, libraries = tapesim_confs(info, work, {"cartridge_capacity": "4M", "drives": "2",
                                                     "release": "punch"})
    # One attempt: the corrupt cartridge's failure reaches the failed queue at once.
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"), object_server_conf=conf_dir,
                          dispatch="max_attempts = 1\n")

    swift = Swift()
    container = "tapesim-sizes"
    swift.put_container(container)
    sizes = {"empty": 0, "one": 1, "small": 1000, "page": 65536, "medium": 300_000,
             "large": 3_000_000, "spaced name é": 4096}
    bodies = {}
    for name, size in sizes.items():
        bodies[name] = hashlib.sha256(name.encode()).digest() * (size // 32 + 1)
        bodies[name] = bodies[name][:size]
        swift.put_object(container, name, bodies[name])
    objects = {"/%s/%s/%s" % (A, container, n): n for n in sizes}

    # Migrate: every replica goes to tape and its disk copy is freed.
    hlmctl(conf, "migrate", A + "/" + container)
    report = dispatch_once(conf)
    check(report["completed"] == 1 and report["failed"] == 0, "migrate: %r" % report)
    st = states(conf, A + "/" + container)
    check(st == {o: "migrated" for o in objects}, "status after migrate: %r" % st)
    rows = sum(tapesim_query(lib, "SELECT count(*) FROM objects WHERE state = 'migrated'"
                          " AND released = 1")[0][0] for lib in libraries)
    check(rows == 3 * len(objects), "replicas on tape: %d, expected %d" % (rows, 3 * len(objects)))
    for lib in libraries:
        for cartridge, position, length, md5 in tapesim_query(
                lib, "SELECT cartridge, position, length, md5 FROM objects"):
            with open(os.path.join(lib, "cartridges", cartridge), "rb") as f:
                f.seek(position)
                check(hashlib.md5(f.read(length)).hexdigest() == md5,
                      "tape copy in %s %s@%d" % (lib, cartridge, position))

    # Corrupt every tape copy of one object: its recall must fail loudly.
    victim = "/%s/%s/medium" % (A, container)
    saved = []
    for lib in libraries:
        for cartridge, position in tapesim_query(
                lib, "SELECT cartridge, position FROM objects WHERE object = ?", (victim,)):
            path = os.path.join(lib, "cartridges", cartridge)
            with open(path, "r+b") as f:
                f.seek(position + 100)
                byte = f.read(1)
                f.seek(position + 100)
                f.write(bytes([byte[0] ^ 0xFF]))
            saved.append((path, position + 100, byte))
    check(len(saved) == 3, "victim copies found: %d" % len(saved))

    hlmctl(conf, "recall", "--copies", "all", A + "/" + container)
    report = dispatch_once(conf, status=3)
    check(report["failed"] == 1, "recall with a corrupt cartridge: %r" % report)
    _, out, _ = hlmctl(conf, "requests", "--json", A + "/" + container)
    failed = json.loads(out)["failed"]
    check(len(failed) == 1 and "checksum mismatch" in failed[0]["reason"]
          and "medium" in failed[0]["reason"], "failed entry: %r" % failed)
    print("    failed entry reason: " + failed[0]["reason"][:300])
    st = states(conf, A + "/" + container)
    expected = {o: "premigrated" for o in objects}
    expected[victim] = "migrated"
    check(st == expected, "status after the failed recall: %r" % st)

    # Every other object downloads through the proxy, byte for byte.
    for path, name in objects.items():
        if path == victim:
            continue
        code, body = swift.request("GET", container + "/" + name)
        check(code == 200 and body == bodies[name],
              "GET %s: %d, %d bytes, expected %d" % (name, code, len(body), len(bodies[name])))

    # Repaired tape: the victim recalls and reads back too.
    for path, offset, byte in saved:
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(byte)
    hlmctl(conf, "recall", "--copies", "all", A + "/" + container + "/medium")
    report = dispatch_once(conf)
    check(report["failed"] == 0, "recall after repair: %r" % report)
    code, body = swift.request("GET", container + "/medium")
    check(code == 200 and body == bodies["medium"], "GET medium after repair: %d" % code)

    # Scheduling: 40 single-object recall requests, FIFO then batched.
    many = "tapesim-many"
    swift.put_container(many)
    names = ["obj%03d" % i for i in range(40)]
    for name in names:
        swift.put_object(many, name, name.encode() * 2000)
    targets = os.path.join(work, "targets")
    with open(targets, "w") as f:
        f.write("".join("%s/%s/%s\n" % (A, many, n) for n in reversed(names)))
    seconds = {}
    for schedule in ("fifo", "batched"):
        hlmctl(conf, "migrate", A + "/" + many)
        dispatch_once(conf)
        before = last_call_ids(libraries)
        hlmctl(conf, "recall", "--copies", "all", "-f", targets)
        report = dispatch_once(conf, "--schedule", schedule)
        check(report["completed"] == 40 and report["failed"] == 0,
              "%s recall: %r" % (schedule, report))
        calls = recall_calls(libraries, before)
        replicas = sum(items for items, _ in calls)
        check(replicas == 3 * 40, "%s: %d replicas recalled" % (schedule, replicas))
        if schedule == "fifo":
            check(all(items == 1 for items, _ in calls),
                  "fifo: calls with more than one object: %r" % calls)
        else:
            check(len(calls) <= len(libraries),
                  "batched: %d connector calls for %d libraries" % (len(calls), len(libraries)))
        seconds[schedule] = sum(s for _, s in calls)
        print("    %s: %d connector calls, %.0f simulated drive-seconds"
              % (schedule, len(calls), seconds[schedule]))
    check(seconds["batched"] < seconds["fifo"], "batched cost more than fifo: %r" % seconds)
    print("tapesim on the real cluster: OK")


if __name__ == "__main__":
    main()
