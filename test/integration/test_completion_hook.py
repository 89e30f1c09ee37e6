"""hlm.conf's on_complete on the real test cluster (issue 15, item 7): the
program gets a document for each request hlm-dispatch completes (failures
and split containers: test/unit/dispatch); a hook that hangs is ended at
on_complete_timeout, logged, and the queue is as without it."""

import json
import os
import shutil
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, env, hlmctl,  # noqa: E402
                     run_tool, write_hlm_conf)

A = "AUTH_test"
C = "hooked"


def main():
    info = cluster()
    work = os.path.join(info["dir"], "hook-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log = os.path.join(work, "hook.log")
    hook = os.path.join(work, "hook.sh")
    with open(hook, "w") as f:
        f.write("#!/bin/sh\ncat >> '%s'\n" % log)
    os.chmod(hook, stat.S_IRWXU)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"),
                          dispatch="on_complete = %s\n" % hook)
    swift = Swift()
    swift.put_container(C)
    for name in ("a", "b"):
        swift.put_object(C, name, b"hook " + name.encode())

    _, out, _ = hlmctl(conf, "migrate", "--json", "%s/%s" % (A, C))
    container_id = json.loads(out)["requests"][0]["id"]
    dispatch_once(conf)
    with open(log) as f:
        documents = {d["id"]: d for d in map(json.loads, f.read().splitlines())}
    print("    hook document: %s" % json.dumps(documents.get(container_id)))
    check(container_id in documents, "the container's document: %r" % documents)
    document = documents[container_id]
    check(document["outcome"] == "completed" and document["target"] == "%s/%s" % (A, C)
          and document["operation"] == "migrate" and "failed_objects" not in document,
          "completed: %r" % document)

    # A hook that hangs: ended after 1 s, said, the request done all the same.
    hanging = write_hlm_conf(os.path.join(work, "hanging.conf"),
                             dispatch="on_complete = /bin/sleep 60\non_complete_timeout = 1\n")
    _, out, _ = hlmctl(conf, "recall", "--json", "%s/%s" % (A, C))
    recall_id = json.loads(out)["requests"][0]["id"]
    started = time.monotonic()
    _, out, err = run_tool([env("HLM_DISPATCH"), "--once", "--json"], hanging, status=0)
    elapsed = time.monotonic() - started
    check("on_complete for %s: ended after 1 s (on_complete_timeout)" % recall_id in err,
          "the hanging hook is said: %r" % err)
    check(elapsed < 30, "the run did not wait for the hook's 60 s: %.1f s" % elapsed)
    _, out, _ = hlmctl(conf, "requests", "--json", "%s/%s" % (A, C))
    check(json.loads(out) == {"pending": [], "failed": []}, "the queue as without it: %s" % out)
    print("ok: on_complete told, a hanging one ended after 1 s (run took %.1f s)" % elapsed)


if __name__ == "__main__":
    main()
