"""Batching thresholds on the real test cluster (issue 15, item 4): with
recall_min_objects = 3, two recalls are held ("held recall ...", counted
deferred, still pending), a third makes the batch and all three are done;
a --priority high recall is never held. With recall_min_bytes = 20, two
recalls of 7-byte objects are held, a third makes the batch."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, env, hlmctl, run_tool,  # noqa: E402
                     write_hlm_conf)

A = "AUTH_test"
C = "batched"


def main():
    info = cluster()
    work = os.path.join(info["dir"], "batch-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"),
                          dispatch="recall_min_objects = 3\nrecall_max_wait = 3600\n")
    swift = Swift()
    swift.put_container(C)
    names = ["a", "b", "c", "d"]
    for name in names:
        swift.put_object(C, name, b"batch " + name.encode())
    hlmctl(conf, "migrate", "%s/%s" % (A, C))

    def dispatch(config=conf):
        _, out, err = run_tool([env("HLM_DISPATCH"), "--once", "--json"], config, status=0)
        report = json.loads(out.strip().splitlines()[-1])
        print("    hlm-dispatch --once: %s" % out.strip())
        return report, err

    report, _ = dispatch()
    check(report["completed"] == 1, "migrated: %r" % report)

    for name in ("a", "b"):
        hlmctl(conf, "recall", "%s/%s/%s" % (A, C, name))
    report, err = dispatch()
    check(report["deferred"] == 2 and report["completed"] == 0, "held: %r" % report)
    check("held recall (policy 0): 2 objects below recall_min_objects 3" in err,
          "said why: %r" % err)
    hlmctl(conf, "recall", "%s/%s/c" % (A, C))
    report, _ = dispatch()
    check(report["completed"] == 3 and report["deferred"] == 0, "the batch: %r" % report)

    hlmctl(conf, "recall", "--priority", "high", "%s/%s/d" % (A, C))
    report, _ = dispatch()
    check(report["completed"] == 1, "high priority is not held: %r" % report)
    _, out, _ = hlmctl(conf, "requests", "--json", "%s/%s" % (A, C))
    check(json.loads(out) == {"pending": [], "failed": []}, "all done: %s" % out)

    # By bytes: recall_min_bytes 20, the objects 7 bytes each (as their
    # container rows list them).
    by_bytes = write_hlm_conf(os.path.join(work, "bytes.conf"),
                              dispatch="recall_min_bytes = 20\nrecall_max_wait = 3600\n")
    hlmctl(by_bytes, "migrate", "%s/%s" % (A, C))
    report, _ = dispatch(by_bytes)
    check(report["completed"] == 1, "migrated again: %r" % report)
    for name in ("a", "b"):
        hlmctl(by_bytes, "recall", "%s/%s/%s" % (A, C, name))
    report, err = dispatch(by_bytes)
    check(report["deferred"] == 2 and report["completed"] == 0, "held by bytes: %r" % report)
    check("held recall (policy 0): 14 bytes below recall_min_bytes 20" in err,
          "said why: %r" % err)
    hlmctl(by_bytes, "recall", "%s/%s/c" % (A, C))
    report, _ = dispatch(by_bytes)
    check(report["completed"] == 3, "21 bytes make the batch: %r" % report)
    print("ok: a small batch held, released by count and by bytes; high priority not held")


if __name__ == "__main__":
    main()
