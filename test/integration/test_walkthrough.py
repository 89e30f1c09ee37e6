"""The seed README's section 7 walk-through, with hlmctl and hlm-dispatch
instead of curl, on the real test cluster with the dummy connector; then
the failure path (a node's backend broken: failed entry with a reason,
status unknown; fixed and resubmitted: the failed entry is cleared), access
checks, and an undecodable queue entry."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, env, hlmctl, run_tool,  # noqa: E402
                     write_hlm_conf)
from support import object_states  # noqa: E402

A = "AUTH_test"


def dispatch(conf, status=0):
    code, out, err = run_tool([env("HLM_DISPATCH"), "--once", "--json"], conf, status=status)
    print("    hlm-dispatch --once: " + out.strip())
    return json.loads(out.strip().splitlines()[-1]), err


def status_of(conf, target, status=0):
    _, out, _ = hlmctl(conf, "status", "--json", target, status=status)
    return json.loads(out)


def requests_of(conf, target):
    _, out, _ = hlmctl(conf, "requests", "--json", target)
    return json.loads(out)


def show(title, text):
    print("$ " + title)
    for line in text.strip().splitlines():
        print("    " + line)


def main():
    info = cluster()
    # One attempt: the failure path below expects the failed queue at once.
    conf = write_hlm_conf(os.path.join(info["dir"], "walkthrough-hlm.conf"),
                          dispatch="max_attempts = 1\n")
    swift = Swift()
    swift.put_container("cont3")
    for name in ("obj00", "obj01", "obj02"):
        swift.put_object("cont3", name, b"payload of " + name.encode())
    objects = ["/%s/cont3/obj0%d" % (A, i) for i in range(3)]

    st = status_of(conf, A + "/cont3")
    show("hlmctl status AUTH_test/cont3", json.dumps(object_states(st), indent=1))
    check(object_states(st) == {o: "resident" for o in objects}, "initial status: %r" % st)

    _, out, _ = hlmctl(conf, "migrate", A + "/cont3/obj00")
    show("hlmctl migrate AUTH_test/cont3/obj00", out)
    req = requests_of(conf, A + "/cont3/obj00")
    show("hlmctl requests AUTH_test/cont3/obj00", json.dumps(req, indent=1))
    check(len(req["pending"]) == 1 and req["pending"][0]["target"] == A + "/cont3/obj00"
          and req["pending"][0]["operation"] == "migrate" and not req["failed"],
          "pending after migrate: %r" % req)

    report, _ = dispatch(conf)
    check(report["completed"] == 1 and report["failed"] == 0, "dispatch: %r" % report)
    _, out, _ = hlmctl(conf, "requests", A + "/cont3/obj00")
    show("hlmctl requests AUTH_test/cont3/obj00", out)
    check("There are no pending or failed requests" in out, "requests after dispatch: %r" % out)
    st = status_of(conf, A + "/cont3")
    check(object_states(st) == {objects[0]: "migrated", objects[1]: "resident", objects[2]: "resident"},
          "status after one migrate: %r" % object_states(st))
    _, out, _ = hlmctl(conf, "status", A + "/cont3")
    show("hlmctl status AUTH_test/cont3", out)

    hlmctl(conf, "migrate", A + "/cont3")
    dispatch(conf)
    st = status_of(conf, A + "/cont3")
    check(object_states(st) == {o: "migrated" for o in objects}, "after container migrate: %r" % st)
    check(st["summary"]["states"]["migrated"] == 3, "summary: %r" % st["summary"])

    hlmctl(conf, "recall", A + "/cont3")
    dispatch(conf)
    st = status_of(conf, A + "/cont3")
    show("hlmctl status --json AUTH_test/cont3 (after recall)", json.dumps(object_states(st), indent=1))
    check(object_states(st) == {o: "premigrated" for o in objects}, "after recall: %r" % st)

    # --- failure path: node 2's backend database is unusable ---
    node2_db = info["nodes"][1]["hlm_db_path"]
    shutil.move(node2_db, node2_db + ".aside")
    os.makedirs(node2_db)  # sqlite cannot open a directory
    try:
        _, out, _ = hlmctl(conf, "migrate", A + "/cont3")
        report, _ = dispatch(conf, status=3)
        check(report["failed"] == 1, "dispatch with a broken node: %r" % report)
        req = requests_of(conf, A + "/cont3")
        show("hlmctl requests --json AUTH_test/cont3 (backend broken on node 2)", json.dumps(req, indent=1))
        check(req["failed"] and not req["pending"], "failed entries: %r" % req)
        for item in req["failed"]:
            reason = item["reason"]
            check("127.0.0.1" in reason and "sdb2" in reason and "dummy connector" in reason,
                  "the reason names node, device and backend error: %r" % reason)
        st = status_of(conf, A + "/cont3", status=None)
        show("hlmctl status AUTH_test/cont3 (backend broken on node 2)", json.dumps(object_states(st), indent=1))
        unknown = [o for o, s in object_states(st).items() if s == "unknown"]
        check(unknown, "objects with a replica on sdb2 are unknown: %r" % st)
        # The container request keeps exactly its failed objects, each a
        # request of its own: those with a replica on sdb2.
        failed_objects = sorted("/" + item["target"] for item in req["failed"])
        check(failed_objects == sorted(unknown),
              "failed requests %r are the unknown objects %r" % (failed_objects, unknown))
    finally:
        os.rmdir(node2_db)
        shutil.move(node2_db + ".aside", node2_db)

    _, out, _ = hlmctl(conf, "migrate", A + "/cont3")
    report, _ = dispatch(conf)
    check(report["completed"] == 1, "resubmitted migrate: %r" % report)
    req = requests_of(conf, A + "/cont3")
    check(not req["pending"] and not req["failed"], "success clears the failed entry: %r" % req)
    st = status_of(conf, A + "/cont3")
    check(object_states(st) == {o: "migrated" for o in objects}, "after the fix: %r" % st)
    show("hlmctl status AUTH_test/cont3 (fixed, resubmitted)", json.dumps(object_states(st), indent=1))

    # --- who may queue what ---
    tester2 = next(u for u in info["users"] if u["user"] == "test2:tester2")
    _, _, err = hlmctl(conf, "migrate", A + "/cont3", status=1,
                       env_overrides={"ST_USER": tester2["user"], "ST_KEY": tester2["key"]})
    check("403" in err or "forbidden" in err.lower(), "another user's container: %r" % err)
    _, _, err = hlmctl(conf, "migrate", A + "/no-such-container", status=1)
    check("does not exist" in err, "missing container: %r" % err)
    _, _, err = hlmctl(conf, "migrate", A + "/cont3/no-such-object", status=1)
    check("does not exist" in err, "missing object: %r" % err)
    _, out, err = hlmctl(conf, "migrate", A + "/cont3/obj01", A + "/no-such", status=3)
    check("queued migrate" in out and "no-such" in err, "partial submit: %r %r" % (out, err))
    # A bare name is a container of the caller's own account, as in `swift`.
    _, out, _ = hlmctl(conf, "migrate", "cont3")
    check("queued migrate AUTH_test/cont3:" in out, "own account: %r" % out)
    _, _, err = hlmctl(conf, "migrate", "AUTH_test", status=1)
    check("/AUTH_test/AUTH_test does not exist" in err or "AUTH_test/AUTH_test" in err,
          "a bare account name is a container name: %r" % err)
    dispatch(conf)

    # --- an undecodable entry is parked, not fatal ---
    sys.path.insert(0, env("HLM_SAIO_TOOLS"))
    import saio  # noqa: E402
    saio.use_swift_conf(info["swift_dir"])
    from swift.common.direct_client import direct_put_container_object  # noqa: E402
    from swift.common.ring import Ring  # noqa: E402
    from swift.common.utils import Timestamp  # noqa: E402
    import time  # noqa: E402
    ring = Ring(info["swift_dir"], ring_name="container")
    part, nodes = ring.get_nodes(".swifthlm", "pending-hlm-requests")
    bad = "/20261122000000.000/delete/AUTH_test/cont3/0/x"
    for node in nodes:
        direct_put_container_object(node, part, ".swifthlm", "pending-hlm-requests", bad,
                                    headers={"X-Timestamp": Timestamp(time.time()).internal,
                                             "X-Size": "0", "X-Etag": "x",
                                             "X-Content-Type": "application/swifthlm-task"})
    hlmctl(conf, "migrate", A + "/cont3/obj02")
    report, _ = dispatch(conf, status=3)
    check(report["undecodable"] == 1 and report["completed"] == 1,
          "undecodable entry parked, the good one done: %r" % report)

    # --- batched dispatch keeps the order of conflicting requests ---
    # recall, migrate, recall of one object queued before one run: grouping
    # the two recalls would end in "migrated"; arrival order ends in
    # "premigrated".
    hlmctl(conf, "migrate", A + "/cont3/obj01")
    dispatch(conf)
    for op in ("recall", "migrate", "recall"):
        hlmctl(conf, op, A + "/cont3/obj01")
    report, _ = dispatch(conf)
    check(report["completed"] == 3, "three conflicting requests: %r" % report)
    st = status_of(conf, A + "/cont3/obj01")
    check(object_states(st) == {objects[1]: "premigrated"},
          "the last request wins: %r" % object_states(st))
    print("ok: walk-through, failure path, access checks, undecodable entry, request order")


if __name__ == "__main__":
    main()
