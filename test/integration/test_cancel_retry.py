"""hlmctl cancel, retry and forget on the real test cluster (issue 15,
item 2): a cancelled request is never dispatched (and hlmctl says no run
started on it); a container request cancelled while hlm-dispatch works it
(hlmctl says a run may be working it) stops at a round boundary and
writes nothing back; a failed request retried is queued anew and done,
its failed row gone; forget clears a failed request; another user cannot
touch requests of a container they cannot read."""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, env, hlmctl,  # noqa: E402
                     object_states, queued_ids, tapesim_confs, tool_env, write_hlm_conf)

A = "AUTH_test"
C = "lifecycle"


def main():
    info = cluster()
    work = os.path.join(info["dir"], "cancel-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"))
    swift = Swift()
    swift.put_container(C)
    for name in ("a", "b"):
        swift.put_object(C, name, b"lifecycle " + name.encode())
    a, b = "%s/%s/a" % (A, C), "%s/%s/b" % (A, C)

    # Cancelled before a run: never dispatched.
    _, out, _ = hlmctl(conf, "migrate", "--json", a)
    id_a = json.loads(out)["requests"][0]["id"]
    _, out, _ = hlmctl(conf, "cancel", id_a)
    check(out == "cancelled %s (%s): no dispatcher run has started on it\n" % (id_a, a),
          "cancel: %r" % out)
    check(queued_ids(conf, a) == ([], []), "nothing pending after cancel")
    report = dispatch_once(conf)
    _, out, _ = hlmctl(conf, "status", "--json", a)
    check(object_states(out) == {"/" + a: "resident"}, "never migrated: %r" % out)

    # Cancel of something not pending, and of another user's container.
    code, _, err = hlmctl(conf, "cancel", id_a, status=1)
    check("no pending request %s" % id_a in err, "cancel twice: %r" % err)
    _, out, _ = hlmctl(conf, "migrate", "--json", b)
    id_b = json.loads(out)["requests"][0]["id"]
    tester2 = next(u for u in info["users"] if u["user"] == "test2:tester2")
    other = {"ST_USER": tester2["user"], "ST_KEY": tester2["key"]}
    code, out, err = hlmctl(conf, "cancel", "--json", id_b, status=1, env_overrides=other)
    doc = json.loads(out)["requests"][0]
    check(doc["http_status"] in (403, 404) and "error" in doc, "another user's: %r" % doc)
    check(queued_ids(conf, b)[0] == [id_b], "still pending: %r" % (queued_ids(conf, b),))
    hlmctl(conf, "cancel", b)

    # A failed request: retry queues it anew (done by the next run, its
    # failed row gone), forget clears one.
    broken = write_hlm_conf(os.path.join(work, "broken.conf"),
                            dispatch="max_attempts = 1\n")
    with open(broken) as f:
        text = f.read()
    with open(broken, "w") as f:  # a handler that does not exist: every node fails
        f.write(text.replace("handler = ", "handler = /nonexistent/"))
    hlmctl(conf, "migrate", a)
    hlmctl(conf, "migrate", b)
    report = dispatch_once(broken, status=3)
    check(report["failed"] == 2, "both failed: %r" % report)
    failed_a = queued_ids(conf, a)[1]
    check(len(failed_a) == 1, "a failed: %r" % failed_a)
    _, out, _ = hlmctl(conf, "retry", "--json", failed_a[0])
    item = json.loads(out)["requests"][0]
    check(item["done"] == "retried" and item["requeued"]["outcome"] == "queued",
          "retry: %r" % item)
    pending, failed = queued_ids(conf, a)
    check(pending == [item["requeued"]["id"]] and failed == [], "a requeued: %r" % ((pending, failed),))
    report = dispatch_once(conf)
    _, out, _ = hlmctl(conf, "status", "--json", a)
    check(object_states(out) == {"/" + a: "migrated"}, "retried and done: %r" % out)
    _, out, _ = hlmctl(conf, "forget", b)
    check(out.startswith("forgotten ") and queued_ids(conf, b) == ([], []), "forget: %r" % out)

    # The HTTP interface: DELETE on a request cancels it, POST retry and
    # forget; an id of another container than the path is refused.
    _, out, _ = hlmctl(conf, "migrate", "--json", b)
    id_b = json.loads(out)["requests"][0]["id"]
    status, _, body = swift.request_full("DELETE", "/hlm/v1/requests/%s/%s" % (A, C + "-other"),
                                         None, {"X-HLM-Request-Id": id_b})
    check(status in (400, 404), "an id of another container: %d %r" % (status, body))
    status, _, body = swift.request_full("DELETE", "/hlm/v1/requests/%s" % b, None,
                                         {"Accept": "application/json"})
    doc = json.loads(body)["requests"]
    check(status == 200 and [r.get("done") for r in doc] == ["cancelled"] and doc[0]["id"] == id_b,
          "interface cancel: %d %r" % (status, body))
    check(queued_ids(conf, b) == ([], []), "cancelled through the interface")
    hlmctl(conf, "migrate", b)
    dispatch_once(broken, status=3)
    failed_b = queued_ids(conf, b)[1]
    status, _, body = swift.request_full("POST", "/hlm/v1/forget/%s/%s" % (A, C), None,
                                         {"X-HLM-Request-Id": failed_b[0]})
    doc = json.loads(body)["requests"]
    check(status == 200 and doc[0]["done"] == "forgotten", "interface forget: %r" % body)
    check(queued_ids(conf, b) == ([], []), "forgotten through the interface")
    # hlmctl over the interface (--via interface) says the same.
    hlmctl(conf, "migrate", b)
    _, out, _ = hlmctl(conf, "cancel", "--via", "interface", b)
    check(out.startswith("cancelled ") and queued_ids(conf, b) == ([], []),
          "hlmctl cancel through the interface: %r" % out)

    # A container request cancelled while the run works it: the listing
    # stops at a round boundary, nothing is written back. tapesim moves
    # 1,000 bytes a second here: 200 bytes an object and replica.
    swift.put_container(C + "-big")
    for i in range(40):
        swift.put_object(C + "-big", "o%02d" % i, b"x" * 200)
    confs, _ = tapesim_confs(info, os.path.join(work, "slow"), {
        "drives": "4", "time_scale": "1", "robot_exchange_seconds": "0", "load_seconds": "0",
        "locate_average_seconds": "0", "rewind_average_seconds": "0", "unload_seconds": "0",
        "drive_rate_mb": "0.001"})
    slow = write_hlm_conf(os.path.join(work, "slow.conf"), object_server_conf=confs)
    with open(slow) as f:
        text = f.read()
    with open(slow, "w") as f:  # the listing waits for the nodes every two objects
        f.write(text.replace("batch_size = 1000", "batch_size = 2\nwindow = 2"))
    _, out, _ = hlmctl(conf, "migrate", "--json", "%s/%s-big" % (A, C))
    id_big = json.loads(out)["requests"][0]["id"]
    run = subprocess.Popen([env("HLM_DISPATCH"), "--once", "--json"], env=tool_env(slow),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    code, out, err = hlmctl(conf, "cancel", id_big, status=None)
    out_run, err_run = run.communicate(timeout=300)
    report = json.loads(out_run.decode().strip().splitlines()[-1])
    print("    hlm-dispatch --once (cancel after 1.5 s: exit %d): %s" % (code, out_run.decode().strip()))
    check(run.returncode == 0 and report["failed"] == 0, "run: %r %s" % (report, err_run.decode()))
    if code == 0:
        check(report["cancelled"] == 1 and report["objects"] < 40,
              "cancelled while worked, stopped at a round boundary: %r" % report)
        check("was cancelled while this run worked it" in err_run.decode(), "said: %s" % err_run)
        check("may be working it; it stops at its next round boundary" in out,
              "cancel tells a run may be working it: %r" % out)
    else:
        # The run was done before the cancel (a very fast machine).
        check(report["completed"] == 1 and "no pending request" in err, "%r %r" % (report, err))
    check(queued_ids(conf, "%s/%s-big" % (A, C)) == ([], []), "nothing written back")
    print("ok: cancel, retry, forget")


if __name__ == "__main__":
    main()
