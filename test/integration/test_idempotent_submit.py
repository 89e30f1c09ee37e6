"""Idempotent submission on the real test cluster (issue 15, item 1): the
same migrate or recall queued twice gives the pending request's id back
and queues nothing, a recall already queued exits 4 (Glacier's 409
RestoreAlreadyInProgress) with "outcome": "already_queued", a recall of an
object already on disk queues nothing (Glacier's 200), the HTTP interface
says the same in X-HLM-Outcome, and recall --wait of a recall already
queued waits for that one."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, hlmctl,  # noqa: E402
                     queued_ids, write_hlm_conf)

A = "AUTH_test"
C = "idem"


def pending_ids(conf, target):
    return queued_ids(conf, target)[0]


def main():
    info = cluster()
    work = os.path.join(info["dir"], "idempotent-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"))
    swift = Swift()
    swift.put_container(C)
    for name in ("a", "b"):
        swift.put_object(C, name, b"idempotent " + name.encode())
    a, b = A + "/" + C + "/a", A + "/" + C + "/b"

    # A migrate twice: the second gives the first's id back, exit 0.
    _, out, _ = hlmctl(conf, "migrate", "--json", a)
    first = json.loads(out)["requests"][0]
    check(first["outcome"] == "queued", "first migrate: %r" % first)
    _, out, _ = hlmctl(conf, "migrate", a)
    check(out == "already queued migrate %s: %s\n" % (a, first["id"]), "second migrate: %r" % out)
    check(pending_ids(conf, a) == [first["id"]], "one pending migrate")
    report = dispatch_once(conf)
    check(report["completed"] >= 1 and report["failed"] == 0, "migrate: %r" % report)

    # A recall twice: the second exits 4, the same id, outcome
    # already_queued; a recall --copies 2 is another request.
    _, out, _ = hlmctl(conf, "recall", "--json", a, b)
    queued = {item["target"]: item for item in json.loads(out)["requests"]}
    check(queued[a]["outcome"] == "queued", "recall of a migrated object is queued: %r" % queued)
    check(queued[b]["outcome"] == "on_disk" and "id" not in queued[b],
          "recall of a resident object: nothing to do: %r" % queued)
    _, out, err = hlmctl(conf, "recall", "--json", a, status=4)
    again = json.loads(out)["requests"][0]
    check(again["outcome"] == "already_queued" and again["id"] == queued[a]["id"],
          "recall already queued: %r %r" % (again, err))
    _, out, _ = hlmctl(conf, "recall", "--copies", "2", a)
    check(out.startswith("queued recall %s: " % a), "another copies is another request: %r" % out)
    check(len(pending_ids(conf, a)) == 2, "two pending recalls of a")

    # The HTTP interface says the same.
    status, headers, body = swift.request_full("POST", "/hlm/v1/recall/%s" % a)
    check(status == 200 and headers.get("x-hlm-outcome") == "already_queued"
          and headers.get("x-hlm-request-id") == queued[a]["id"],
          "interface: recall already queued: %d %r %r" % (status, headers, body))
    status, headers, body = swift.request_full("POST", "/hlm/v1/recall/%s" % b)
    check(status == 200 and headers.get("x-hlm-outcome") == "on_disk"
          and "x-hlm-request-id" not in headers,
          "interface: recall on disk: %d %r %r" % (status, headers, body))

    # recall --wait of a recall already queued waits for it: exit as the
    # wait ends (a dispatcher run in between).
    report = dispatch_once(conf)
    check(report["failed"] == 0 and not pending_ids(conf, a), "recall: %r" % report)
    _, out, _ = hlmctl(conf, "recall", a)
    check(out == "on disk already, nothing to recall: %s\n" % a, "recalled: %r" % out)
    check(not pending_ids(conf, a), "nothing queued for an object on disk")
    # Priorities: stored with the request, recall high and migrate normal
    # by default; a bad one is a usage error.
    _, out, _ = hlmctl(conf, "migrate", "--json", "--priority", "low", b)
    low_id = json.loads(out)["requests"][0]["id"]
    _, out, _ = hlmctl(conf, "requests", "--json", b)
    check([(p["id"], p["priority"]) for p in json.loads(out)["pending"]] == [(low_id, 2)],
          "low priority shown: %s" % out)
    _, _, err = hlmctl(conf, "migrate", "--priority", "urgent", b, status=2)
    check("--priority must be low, normal, high or 0 to 9" in err, "bad priority: %r" % err)
    report = dispatch_once(conf)
    check(report["completed"] == 1, "low priority done: %r" % report)
    _, out, _ = hlmctl(conf, "recall", "--json", b)
    recall_id = json.loads(out)["requests"][0]["id"]
    _, out, _ = hlmctl(conf, "requests", "--json", b)
    check([(p["id"], p["priority"]) for p in json.loads(out)["pending"]] == [(recall_id, 8)],
          "a recall is high by default: %s" % out)
    dispatch_once(conf)

    # Through the HTTP interface: X-HLM-Priority, and a bad one is a 400.
    status, headers, body = swift.request_full("POST", "/hlm/v1/migrate/%s" % b, None,
                                               {"X-HLM-Priority": "1"})
    check(status == 200 and headers.get("x-hlm-outcome") == "queued",
          "interface migrate with a priority: %d %r" % (status, body))
    _, out, _ = hlmctl(conf, "requests", "--json", b)
    check([p["priority"] for p in json.loads(out)["pending"]] == [1],
          "the interface's priority stored: %s" % out)
    status, _, body = swift.request_full("POST", "/hlm/v1/recall/%s" % b, None,
                                         {"X-HLM-Priority": "urgent"})
    check(status == 400 and b"--priority" in body, "a bad priority: %d %r" % (status, body))
    dispatch_once(conf)
    print("ok: same request once, recall on disk answered at once, exit 4 when in progress, "
          "priorities")


if __name__ == "__main__":
    main()
