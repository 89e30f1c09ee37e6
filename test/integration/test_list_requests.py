"""List requests on the real cluster (issue 14, goal 3): hlmctl migrate -f
LIST of at least list_min_objects objects of one container is queued as one
list request (a manifest object and one row in .swifthlm/pending-hlm-lists),
not one row per object; hlm-dispatch works it with per-object outcomes.

The list holds existing objects, duplicates, objects that do not exist,
objects of another account's container and bad lines: one summary, each
problem with its file and line, nothing queued for the bad ones, the good
ones in one list. `hlmctl requests` shows it with "0 of N objects done".
Objects deleted after the submission fail; hlm-dispatch then leaves
exactly those in the failed queue, each with its reason, as per-object rows
sharing the list's id up to the object; the list row and its manifest are
gone, and `hlmctl wait` on the list's id reports the failures. A recall -f of the rest
as a list, waited for, brings every object back to disk (premigrated)."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, hlmctl,  # noqa: E402
                     object_states, write_hlm_conf)

A = "AUTH_test"
CONTAINER = "list-requests"
KEPT = 130
GONE = 20


def requests_of(conf, target):
    _, out, _ = hlmctl(conf, "requests", "--json", target)
    return json.loads(out)


def main():
    info = cluster()
    work = os.path.join(info["dir"], "list-requests-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"), dispatch="max_attempts = 1\n",
                          extra="[hlmctl]\nlist_min_objects = 100\n")
    swift = Swift()
    swift.put_container(CONTAINER)
    kept = ["kept%03d" % i for i in range(KEPT)]
    gone = ["gone%02d" % i for i in range(GONE)]
    for name in kept + gone:
        swift.put_object(CONTAINER, name, b"list " + name.encode())

    # The list: every object (reversed), 5 duplicates, 10 that do not
    # exist, 3 of another account's container, 4 bad lines.
    listing = os.path.join(work, "targets.txt")
    lines = ["%s/%s/%s" % (A, CONTAINER, n) for n in reversed(kept + gone)]
    lines += lines[:5]
    missing_at = {}
    for i in range(10):
        lines.append("%s/%s/missing%02d" % (A, CONTAINER, i))
        missing_at["missing%02d" % i] = len(lines)
    lines += ["AUTH_test2/private/o%d" % i for i in range(3)]
    lines += ["bad//%d" % i for i in range(4)]
    with open(listing, "w") as f:
        f.write("\n".join(lines) + "\n")
    code, out, err = hlmctl(conf, "migrate", "--json", "-f", listing, status=None)
    doc = json.loads(out)
    lists = [r for r in doc["requests"] if "list" in r]
    check(code == 3 and len(lists) == 1 and lists[0]["objects"] == KEPT + GONE
          and lists[0]["target"] == "%s/%s" % (A, CONTAINER),
          "one list of %d objects, exit 3: exit %d, %r\n%s" % (KEPT + GONE, code, doc, err))
    check(not [r for r in doc["requests"] if "id" in r and "list" not in r],
          "per-object rows queued beside the list: %r" % doc["requests"])
    for name, line in missing_at.items():
        check("%s line %d: " % (listing, line) in err and name in err
              and "does not exist" in err, "%s (line %d) not reported: %s" % (name, line, err))
    check(err.count("AUTH_test2/private") >= 3 and doc["bad_lines"] == 4
          and doc["duplicates"] == 5,
          "the other account's objects, bad lines and duplicates reported: %s\n%r"
          % (err, {k: doc.get(k) for k in ("bad_lines", "duplicates")}))
    list_id = lists[0]["id"]
    print("    queued %s: list of %d objects" % (list_id, lists[0]["objects"]))

    before = requests_of(conf, "%s/%s" % (A, CONTAINER))
    check(len(before["pending"]) == 1 and before["pending"][0]["id"] == list_id
          and before["pending"][0]["objects"] == KEPT + GONE
          and before["pending"][0]["objects_done"] == 0,
          "requests shows the list, 0 of %d done: %r" % (KEPT + GONE, before))

    # Objects deleted after the submission fail; the others migrate.
    for name in gone:
        status, _ = swift.request("DELETE", CONTAINER + "/" + name)
        check(status == 204, "DELETE %s: %d" % (name, status))
    # Exit 3: some requests failed (the list, with objects in the failed
    # queue). The queue is the cluster's: other tests' requests may be in
    # the run too.
    report = dispatch_once(conf, status=3)
    check(report["failed"] >= 1 and report["objects"] >= KEPT + GONE,
          "dispatch report: %r" % report)
    after = requests_of(conf, "%s/%s" % (A, CONTAINER))
    check(not after["pending"], "still pending after the dispatch: %r" % after["pending"])
    failed = sorted(r["target"] for r in after["failed"])
    check(failed == ["%s/%s/%s" % (A, CONTAINER, n) for n in gone],
          "exactly the deleted objects failed: %r" % failed)
    prefix = list_id.rsplit("/", 1)[0] + "/"
    for row in after["failed"]:
        check(row["id"].startswith(prefix) and row["reason"],
              "failed row %r: shares the list's prefix %r and has a reason" % (row, prefix))
    states = object_states(hlmctl(conf, "status", "--json", "%s/%s" % (A, CONTAINER))[1])
    check(sorted(states) == ["/%s/%s/%s" % (A, CONTAINER, n) for n in kept]
          and set(states.values()) == {"migrated"},
          "every kept object migrated: %r" % sorted(set(states.values())))
    code, out, err = hlmctl(conf, "wait", "--json", list_id, status=None)
    waited = json.loads(out)
    check(code == 3 and not waited["pending"] and len(waited["failed"]) == 1
          and "20 objects of the list failed" in waited["failed"][0]["reason"],
          "wait on the list: exit %d, %r, %s" % (code, waited, err))
    print("    %d deleted objects failed, each with its reason; %d migrated"
          % (len(failed), len(states)))

    # A recall of the kept objects as a list, waited for.
    recall = os.path.join(work, "recall.txt")
    with open(recall, "w") as f:
        f.write("".join("%s/%s/%s\n" % (A, CONTAINER, n) for n in kept))
    _, out, err = hlmctl(conf, "recall", "--json", "-f", recall)
    lists = [r for r in json.loads(out)["requests"] if "list" in r]
    check(len(lists) == 1 and lists[0]["objects"] == KEPT, "recall list: %r" % out)
    dispatch_once(conf)
    code, out, err = hlmctl(conf, "wait", lists[0]["id"], status=None)
    check(code == 0, "wait on the recall list: exit %d, %s %s" % (code, out, err))
    states = object_states(hlmctl(conf, "status", "--json", "%s/%s" % (A, CONTAINER))[1])
    check(set(states.values()) == {"premigrated"}, "recalled: %r" % sorted(set(states.values())))
    print("hlmctl list requests: OK")


if __name__ == "__main__":
    main()
