"""Typed failures on the real cluster: a failure that cannot get better (the
object was deleted between submission and handling) reaches the failed
queue at the first attempt with its kind, although max_attempts allows
more; a failure that can (the node is unreachable) stays pending with a
retry time, counts its attempt, and completes once the node is back."""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, hlmctl, run,  # noqa: E402
                     write_hlm_conf)


def requests_of(config, target):
    _, out, _ = hlmctl(config, "requests", "--json", target)
    return json.loads(out)


def main():
    info = cluster()
    # Five attempts (the default, said explicitly): a permanent failure must
    # not use them.
    config = write_hlm_conf(os.path.join(info["dir"], "failures-hlm.conf"),
                            dispatch="max_attempts = 5\n")
    swift = Swift()
    swift.put_container("typed-failures")
    swift.put_object("typed-failures", "gone", b"deleted after submission")
    swift.put_object("typed-failures", "kept", b"stays")

    # Permanent: submitted while it exists, deleted before hlm-dispatch runs.
    # Every replica is a tombstone when the handler looks.
    hlmctl(config, "migrate", "AUTH_test/typed-failures/gone")
    status, _ = swift.request("DELETE", "typed-failures/gone")
    check(status == 204, "DELETE through the proxy: %d" % status)
    report = dispatch_once(config, status=3)
    check(report["failed"] == 1, "the deleted object failed in its first run: %r" % report)
    queued = requests_of(config, "AUTH_test/typed-failures")
    check(queued["pending"] == [], "nothing left to retry: %r" % queued)
    check(len(queued["failed"]) == 1, "one failed entry: %r" % queued)
    reason = queued["failed"][0]["reason"]
    check("deleted" in reason, "the reason names the kind: %r" % reason)
    print("permanent: failed at attempt 1 of 5: %s" % reason[:200])

    # Transient: the node cannot be reached (ssh to a closed port, with a
    # usable key: a missing key is a configuration error, not transient).
    # The entry stays pending with one attempt counted and a retry time.
    key = os.path.join(info["dir"], "failures-id")
    if not os.path.exists(key):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check_status=0)
    # A short retry delay, so that the retry below is due within seconds.
    unreachable = write_hlm_conf(os.path.join(info["dir"], "failures-unreachable.conf"),
                                 dispatch="max_attempts = 5\nretry_delay = 2\n")
    with open(unreachable) as f:
        text = f.read()
    text = text.replace("local_addresses = 127.0.0.1", "local_addresses =")
    text = re.sub(r"(?m)^\[nodes\]$",
                  "[nodes]\ntransport = ssh\nport = 1\nconnect_timeout = 5\nidentity_file = " + key,
                  text)
    with open(unreachable, "w") as f:
        f.write(text)
    hlmctl(unreachable, "migrate", "AUTH_test/typed-failures/kept")
    report = dispatch_once(unreachable, status=3)
    queued = requests_of(unreachable, "AUTH_test/typed-failures/kept")
    check(report["failed"] == 0 and report["retrying"] == 1,
          "an unreachable node does not fail the entry: %r %r" % (report, queued))
    check(len(queued["pending"]) == 1, "the migrate is still pending: %r" % queued)
    pending = queued["pending"][0]
    check(pending["attempts"] == 1 and pending["retry_after"] is not None,
          "one attempt counted, a retry time set: %r" % pending)
    check("127.0.0.1" in (pending["reason"] or ""), "the reason names the node: %r" % pending)
    print("transient: pending, attempt 1, retry at %s: %s" % (pending["retry_after"],
                                                               pending["reason"][:160]))

    # Reachable again (the local transport): the retry, once due, completes.
    time.sleep(3)
    report = dispatch_once(config)
    check(report["completed"] == 1, "the retried migrate completed: %r" % report)
    queued = requests_of(config, "AUTH_test/typed-failures/kept")
    check(queued == {"pending": [], "failed": []}, "nothing left for kept: %r" % queued)
    print("ok: a permanent failure fails at once, an unreachable node is retried")


if __name__ == "__main__":
    main()
