"""hlmctl migrate -f LIST on the real cluster: blank lines, '#' comments and
CRLF line ends are skipped; a line that is not a target is reported with
the list's name and line number (the first 20, then a count) and nothing is
queued for it, while the good lines are queued, sorted and once each; the
exit status says some lines were bad; an unreadable list says why and
queues nothing. With list_min_objects objects of one container, they are
one list request (hlm-dispatch works it; this test leaves it pending)."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, hlmctl,  # noqa: E402
                     write_hlm_conf)

A = "AUTH_test"


def pending(conf, target):
    _, out, _ = hlmctl(conf, "requests", "--json", target)
    return json.loads(out)["pending"]


def main():
    info = cluster()
    work = os.path.join(info["dir"], "lists-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"))
    swift = Swift()
    swift.put_container("lists")
    for name in ("a", "b"):
        swift.put_object("lists", name, b"x")

    good = os.path.join(work, "good.txt")
    with open(good, "w", newline="") as f:
        f.write("# objects to migrate\r\n\r\n%s/lists/a\r\n   \n  # indented comment\n"
                "%s/lists/b\n" % (A, A))
    _, out, _ = hlmctl(conf, "migrate", "--json", "-f", good)
    queued = [r["target"] for r in json.loads(out)["requests"]]
    check(queued == ["%s/lists/a" % A, "%s/lists/b" % A], "queued from the list: %r" % queued)

    bad = os.path.join(work, "bad.txt")
    with open(bad, "w") as f:
        f.write("# fine so far\n%s/lists/b\nnot-a-target//\n%s/lists/a\n%s/lists/b\n"
                % (A, A, A))
        for i in range(25):
            f.write("bad%d//\n" % i)
    code, out, err = hlmctl(conf, "migrate", "--json", "-f", bad, status=None)
    doc = json.loads(out)
    queued = [r["target"] for r in doc["requests"]]
    check(code == 3 and "%s line 3: " % bad in err and "not-a-target" in err,
          "a bad line: exit %d, %r" % (code, err))
    check(queued == ["%s/lists/a" % A, "%s/lists/b" % A],
          "the good lines queued, sorted, once each: %r" % queued)
    # The good list's requests are still pending: the same ones come back.
    check(all(r["outcome"] == "already_queued" for r in doc["requests"]),
          "already queued by the good list: %r" % doc["requests"])
    check("26 bad lines in %s, not queued; first 20 shown" % bad in err
          and "%s line 24: " % bad in err and "%s line 25: " % bad not in err
          and "1 duplicate target skipped" in err,
          "the bad lines summed up: %r" % err)
    check(doc["bad_lines"] == 26 and len(doc["bad_lines_shown"]) == 20
          and doc["duplicates"] == 1, "the document: %r" % {k: doc[k] for k in (
              "bad_lines", "duplicates")})
    only_bad = os.path.join(work, "only-bad.txt")
    with open(only_bad, "w") as f:
        f.write("x//\n")
    code, out, err = hlmctl(conf, "migrate", "-f", only_bad, status=None)
    check(code == 2 and not out and "1 bad line in %s, not queued" % only_bad in err,
          "only bad lines: exit %d, %r" % (code, err))
    missing = os.path.join(work, "missing.txt")
    code, _, err = hlmctl(conf, "migrate", "-f", missing, status=None)
    check(code != 0 and missing in err and "No such file or directory" in err,
          "a missing list: exit %d, %r" % (code, err))
    code, _, err = hlmctl(conf, "migrate", "-f", work, status=None)
    check(code != 0 and "it is a directory" in err, "a directory as list: exit %d, %r" % (code, err))
    print("    " + err.strip())

    # Existence by a merge with the container's listing: the objects that
    # do not exist are reported with their line and not queued.
    swift.put_container("lists-merge")
    present = ["o%03d" % i for i in range(0, 40, 2)]
    for name in present:
        swift.put_object("lists-merge", name, b"x")
    merge = os.path.join(work, "merge.txt")
    with open(merge, "w") as f:
        for i in reversed(range(40)):
            f.write("%s/lists-merge/o%03d\n" % (A, i))
    code, out, err = hlmctl(conf, "migrate", "--json", "-f", merge, status=None)
    queued = [r["target"] for r in json.loads(out)["requests"] if "id" in r]
    check(code == 3 and queued == ["%s/lists-merge/%s" % (A, n) for n in present],
          "the existing objects queued: exit %d, %r" % (code, queued))
    for i in range(1, 40, 2):
        check("%s line %d: %s/lists-merge/o%03d: object %s/lists-merge/o%03d does not exist\n"
              % (merge, 40 - i, A, i, A, i) in err, "o%03d reported missing: %r" % (i, err))
    queued = sorted(p["target"] for p in pending(conf, A + "/lists-merge"))
    check(queued == ["%s/lists-merge/%s" % (A, n) for n in present],
          "nothing queued for the missing objects: %r" % queued)

    # The good list's two requests (the bad list's were the same); drain them.
    check(len(pending(conf, A + "/lists")) == 2, "pending: %r" % pending(conf, A + "/lists"))
    report = dispatch_once(conf)
    check(report["failed"] == 0 and not pending(conf, A + "/lists"), "drained: %r" % report)

    # list_min_objects or more existing objects of a container: one list
    # request (a manifest on the object servers, a row in
    # pending-hlm-lists), not a row each; fewer stay rows.
    bulk_conf = write_hlm_conf(os.path.join(work, "bulk.conf"),
                               extra="[hlmctl]\nlist_min_objects = 5\n")
    swift.put_container("lists-bulk")
    names = ["b%d" % i for i in range(6)]
    for name in names:
        swift.put_object("lists-bulk", name, b"x")
    bulk = os.path.join(work, "bulk.txt")
    with open(bulk, "w") as f:
        f.write("".join("%s/lists-bulk/%s\n" % (A, n) for n in names + ["gone"]))
        f.write("%s/lists/a\n" % A)
    code, out, err = hlmctl(bulk_conf, "migrate", "--json", "-f", bulk, status=None)
    doc = json.loads(out)
    lists = [r for r in doc["requests"] if "list" in r]
    rows = [r["target"] for r in doc["requests"] if "id" in r and "list" not in r]
    check(code == 3 and "%s line 7: %s/lists-bulk/gone: object" % (bulk, A) in err,
          "the missing object reported: exit %d, %r" % (code, err))
    check(len(lists) == 1 and lists[0]["objects"] == 6
          and lists[0]["target"] == "%s/lists-bulk" % A and lists[0]["id"].endswith(
              "/" + lists[0]["list"]), "one list request: %r" % doc["requests"])
    check(rows == ["%s/lists/a" % A], "a lone object stays a row: %r" % rows)
    shown = [p for p in pending(conf, A + "/lists-bulk") if p.get("list")]
    check(len(shown) == 1 and shown[0]["id"] == lists[0]["id"] and shown[0]["objects"] == 6
          and shown[0]["objects_done"] == 0, "requests shows the list: %r" % shown)
    code, out, _ = hlmctl(conf, "wait", "--timeout", "0.1", lists[0]["id"], status=None)
    check(code == 1 and "1 still pending" in out, "wait: the list pending: %d, %r" % (code, out))
    print("hlmctl target lists: OK")


if __name__ == "__main__":
    main()
