"""Estimates (issue 15 item 6) on the real test cluster, one tapesim
library shared by the object servers (release = punch, two drives, small
cartridges so that objects spread over several): hlmctl estimate and
hlm-dispatch --dry-run say what a migrate and a recall would cost, change
nothing (the queue, the library's calls and drives, the objects), and come
within 10% of the drive-seconds, mounts and bytes tapesim then records for
the real run. With the dummy connector (which cannot estimate) the estimate
says "unknown" and the run proceeds."""

import hashlib
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, env, hlmctl,  # noqa: E402
                     run_tool, tapesim_confs, tapesim_query, write_hlm_conf)

A = "AUTH_test"
C = "estimates"
OBJECTS = 24
SIZE = 200_000


def calls_since(library, since, operation):
    """(drive-seconds, mounts, bytes, items) of the library's calls of
    `operation` after call `since`, and the last call's id."""
    row = tapesim_query(library,
                        "SELECT total(drive_seconds), total(mounts), total(bytes), total(items)"
                        " FROM calls WHERE id > ? AND operation = ?", (since, operation))[0]
    top = tapesim_query(library, "SELECT coalesce(max(id), 0) FROM calls")[0][0]
    return (float(row[0]), int(row[1]), int(row[2]), int(row[3])), top


def library_state(library):
    if not os.path.exists(os.path.join(library, "index.sqlite")):
        return None  # not created before the first real call
    return (tapesim_query(library, "SELECT * FROM calls"),
            tapesim_query(library, "SELECT * FROM drives"),
            tapesim_query(library, "SELECT * FROM clock"),
            tapesim_query(library, "SELECT count(*) FROM objects"))


def dry_run(conf):
    _, out, err = run_tool([env("HLM_DISPATCH"), "--dry-run", "--json"], conf, status=0)
    return json.loads(out), err


def estimate(conf, *args):
    _, out, _ = hlmctl(conf, "estimate", "--json", *args)
    return json.loads(out)


def pending(conf):
    _, out, _ = hlmctl(conf, "requests", "--json", A + "/" + C)
    return json.loads(out)["pending"]


def within(estimated, actual, what):
    check(actual > 0 and abs(estimated - actual) <= 0.10 * actual,
          "%s: estimated %r, the run %r (more than 10%% apart)" % (what, estimated, actual))


def compare(total, actual, what):
    drive, mounts, nbytes, _ = actual
    print("    %s: estimated %.1f drive-seconds, %d mounts, %d bytes; the run %.1f, %d, %d"
          % (what, total["drive_seconds"], total["mounts"], total["bytes"], drive, mounts,
             nbytes))
    within(total["drive_seconds"], drive, what + " drive-seconds")
    within(total["mounts"], mounts, what + " mounts")
    within(total["bytes"], nbytes, what + " bytes")


def main():
    info = cluster()
    work = os.path.join(info["dir"], "estimates-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf_dir, (library,) = tapesim_confs(info, work, {"release": "punch",
                                                      "cartridge_capacity": "2M",
                                                      "drives": "2"},
                                         shared_library=True)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"), object_server_conf=conf_dir)
    swift = Swift()
    swift.put_container(C)
    bodies = {}
    for i in range(OBJECTS):
        name = "obj%03d" % i
        bodies[name] = (hashlib.sha256(name.encode()).digest() * (SIZE // 32 + 1))[:SIZE]
        swift.put_object(C, name, bodies[name])

    # A migrate: estimated by hlmctl (nothing queued) and by a dry run of
    # the queued request; neither changes the library (which a first status
    # creates).
    hlmctl(conf, "status", A + "/" + C)
    before = library_state(library)
    check(before is not None, "the library exists")
    ahead = estimate(conf, "migrate", A + "/" + C)
    check(pending(conf) == [], "hlmctl estimate queued nothing")
    check(ahead["requests"] == 1 and ahead["objects"] == OBJECTS, "estimate: %r" % ahead)
    hlmctl(conf, "migrate", A + "/" + C)
    planned, _ = dry_run(conf)
    check(library_state(library) == before, "the estimates changed the library")
    check(len(pending(conf)) == 1, "the dry run left the request pending")
    check(planned["total"] is not None and ahead["total"] is not None,
          "tapesim estimates: %r %r" % (planned, ahead))
    check(planned["total"] == ahead["total"], "hlmctl estimate %r, dry run %r"
          % (ahead["total"], planned["total"]))
    _, last = calls_since(library, 0, "migrate")
    report = dispatch_once(conf)
    check(report["completed"] == 1, "migrated: %r" % report)
    actual, last = calls_since(library, 0, "migrate")
    check(planned["total"]["items"] == actual[3], "items: %r vs %r" % (planned["total"], actual))
    compare(planned["total"], actual, "migrate")

    # A recall of one copy each (recall_copies 1), estimated and run; hlmctl
    # wait reports the same estimate of the time the work takes.
    _, out, _ = hlmctl(conf, "recall", "--json", A + "/" + C)
    recall_id = json.loads(out)["requests"][0]["id"]
    before = library_state(library)
    planned, err = dry_run(conf)
    _, out, _ = hlmctl(conf, "wait", "--json", "--timeout", "0.5", recall_id, status=1)
    waited = json.loads(out)
    check(waited["timed_out"] and waited["estimated_seconds"] == planned["total"]["wall_seconds"],
          "wait's estimate %r, the dry run's %r" % (waited, planned["total"]))
    check(library_state(library) == before, "the recall estimate changed the library")
    check(planned["requests"] == 1 and planned["objects"] == OBJECTS,
          "dry run: %r %s" % (planned, err))
    report = dispatch_once(conf)
    check(report["completed"] == 1, "recalled: %r" % report)
    actual, last = calls_since(library, last, "recall")
    check(planned["total"]["items"] == actual[3] == OBJECTS,
          "one copy each: %r vs %r" % (planned["total"], actual))
    compare(planned["total"], actual, "recall --copies 1")
    for name, body in bodies.items():
        status, _, data = swift.request_full("GET", C + "/" + name)
        check(status == 200 and data == body, "GET %s after the recall: %d" % (name, status))

    # Recalled already: nothing to move.
    nothing = estimate(conf, "recall", A + "/" + C)
    check(nothing["total"]["items"] == 0 and nothing["total"]["drive_seconds"] == 0,
          "a recall of what is on disk costs nothing: %r" % nothing)

    # The dummy connector cannot estimate: "unknown"; the run proceeds.
    dummy = write_hlm_conf(os.path.join(work, "dummy.conf"))
    swift.put_container(C + "-dummy")
    swift.put_object(C + "-dummy", "o", b"dummy")
    _, text, _ = hlmctl(dummy, "estimate", "migrate", A + "/" + C + "-dummy")
    check("total: unknown (a backend cannot estimate)" in text, "dummy: %r" % text)
    check(estimate(dummy, "migrate", A + "/" + C + "-dummy")["total"] is None, "dummy json")
    hlmctl(dummy, "migrate", A + "/" + C + "-dummy")
    planned, _ = dry_run(dummy)
    check(planned["total"] is None and planned["objects"] >= 1, "dummy dry run: %r" % planned)
    _, out, _ = hlmctl(dummy, "wait", "--json", "--timeout", "0.5", A + "/" + C + "-dummy",
                       status=1)
    check(json.loads(out)["estimated_seconds"] is None, "dummy wait: %s" % out)
    check(dispatch_once(dummy)["completed"] >= 1, "the run proceeds")

    # Bad input: no such container, an operation that is not one.
    code, _, err = hlmctl(conf, "estimate", "recall", A + "/nope", status=None)
    check(code == 1 and "does not exist" in err, "no container: %d %s" % (code, err))
    code, _, err = hlmctl(conf, "estimate", "status", A + "/" + C, status=None)
    check(code == 2, "estimate status: %d %s" % (code, err))
    code, _, err = hlmctl(conf, "estimate", "migrate", "--days", "3", A + "/" + C, status=None)
    check(code == 2 and "recall only" in err, "migrate --days: %d %s" % (code, err))
    print("ok: estimates within 10% of the run, nothing changed, unknown without a model")


if __name__ == "__main__":
    main()
