"""A queue that SwiftHLM left behind, drained by hlm-dispatch --once.

Pending entries are listing rows written straight to the container servers
as SwiftHLM's middleware writes them (direct_put_container_object with its
headers); failed entries are real zero-byte objects uploaded through an
InternalClient, as SwiftHLM's dispatcher stores them
(queue_failed_migration_or_recall_request). Both name forms, the current
"/<ts>/<op>/<a>/<c>/<spi>[/<o>]" and the older "<ts>--<op>--...", are in
each container. One run must carry out every pending request in
submission order across the forms, clear the failed entries a later
success superseded, with their objects gone from every object server, and
leave the rest for `hlmctl requests`."""

import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, env, hlmctl,  # noqa: E402
                     write_hlm_conf)
from support import object_states  # noqa: E402

A = "AUTH_test"
QUEUE = ".swifthlm"
PENDING = "pending-hlm-requests"
FAILED = "failed-hlm-requests"

# SwiftHLM's dispatcher's internal client (ic_conf_body in its middleware.py),
# pointed at the test cluster. account_autocreate: SwiftHLM needed the
# .swifthlm account to exist already; on this cluster nothing may have made
# it yet.
INTERNAL_CLIENT_CONF = """[DEFAULT]
swift_dir = {swift_dir}

[pipeline:main]
pipeline = catch_errors proxy-logging cache proxy-server

[app:proxy-server]
use = egg:swift#proxy
allow_account_management = false
account_autocreate = true

[filter:cache]
use = egg:swift#memcache
memcache_servers = {memcached}

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:catch_errors]
use = egg:swift#catch_errors
"""


def current(ts, op, container, obj=None):
    return "/".join(["", ts, op, A, container, "0"] + ([obj] if obj else []))


def legacy(ts, op, container, obj=None):
    return "--".join([ts, op, A, container, "0"] + ([obj] if obj else []))


def path(container, obj):
    return "/%s/%s/%s" % (A, container, obj)


def main():
    info = cluster()
    sys.path.insert(0, env("HLM_SAIO_TOOLS"))
    import saio  # noqa: E402
    saio.use_swift_conf(info["swift_dir"])
    from swift.common.direct_client import (ClientException, direct_head_object,  # noqa: E402
                                            direct_put_container_object)
    from swift.common.internal_client import InternalClient  # noqa: E402
    from swift.common.ring import Ring  # noqa: E402
    from swift.common.utils import FileLikeIter, Timestamp  # noqa: E402

    work = os.path.join(info["dir"], "swifthlm-queue")
    os.makedirs(work, exist_ok=True)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"))
    ic_conf = os.path.join(work, "internal-client.conf")
    with open(ic_conf, "w") as f:
        f.write(INTERNAL_CLIENT_CONF.format(swift_dir=info["swift_dir"],
                                            memcached=info["memcached"]))

    # Fresh containers each run: the suite's cluster is shared and may be
    # reused.
    tag = "compat-%d" % int(time.time())
    ca, cb = tag + "-a", tag + "-b"
    swift = Swift()
    for container in (ca, cb):
        swift.put_container(container)
    for name in ("obj1", "obj2", "obj3"):
        swift.put_object(ca, name, b"compat " + name.encode())
    for name in ("x1", "x2"):
        swift.put_object(cb, name, b"compat " + name.encode())

    # --- pending: rows as SwiftHLM's middleware writes them ---------------
    # Submission order is P1 < P2 < P3 < P4; a listing (byte order) gives
    # P2, P3, P1, P4, which would end obj1 migrated.
    pending = {
        "P1": legacy("20240105000000.000", "migrate", ca, "obj1"),
        "P2": current("20240105000001.000", "recall", ca, "obj1"),
        "P3": current("20240105000002.000", "migrate", ca, "obj2"),
        "P4": legacy("20240105000003.000", "migrate", cb),
    }
    container_ring = Ring(info["swift_dir"], ring_name="container")
    part, nodes = container_ring.get_nodes(QUEUE, PENDING)
    for name in pending.values():
        headers = {"X-Size": 0, "X-Etag": "swifthlm_task_etag",
                   "X-Timestamp": Timestamp(time.time()).internal,
                   "X-Content-Type": "application/swifthlm-task"}
        for node in nodes:
            direct_put_container_object(node, part, QUEUE, PENDING, name, headers=headers,
                                        conn_timeout=5, response_timeout=15)

    # --- failed: zero-byte objects, as SwiftHLM's dispatcher stores them ---
    failed = {
        "F1": legacy("20240101000000.000", "migrate", ca, "obj1"),    # P1 supersedes
        "F2": current("20240101000001.000", "recall", ca, "obj1"),    # P2 supersedes
        "F3": current("20240101000002.000", "recall", ca, "obj2"),    # no recall of obj2: stays
        "F4": legacy("20240109000000.000", "migrate", ca, "obj2"),    # after P3: stays
        "F5": current("20240101000003.000", "migrate", cb),           # P4 supersedes
    }
    swift_ic = InternalClient(ic_conf, "SwiftHLM Middleware", 3)
    if not swift_ic.container_exists(QUEUE, FAILED):
        swift_ic.create_container(QUEUE, FAILED)
    for name in failed.values():
        swift_ic.upload_object(FileLikeIter(b""), QUEUE, FAILED, name)
    # The failed container's policy (the cluster's default, unless hlm's
    # rows made it first) decides the object ring.
    policy = failed_policy(swift_ic)
    object_ring = Ring(info["swift_dir"], ring_name=ring_name(policy))
    # And one failed row of hlm's own (a row, no object), P3 supersedes it.
    own = current("20240101000004.000", "migrate", ca, "obj2")
    part, nodes = container_ring.get_nodes(QUEUE, FAILED)
    for node in nodes:
        direct_put_container_object(
            node, part, QUEUE, FAILED, own,
            headers={"X-Size": 0, "X-Etag": "d41d8cd98f00b204e9800998ecf8427e",
                     "X-Timestamp": Timestamp(time.time()).internal,
                     "X-Content-Type": "application/swifthlm-task;reason=no%20tape",
                     "X-Backend-Storage-Policy-Index": str(policy)})
    listing = [o for o in swift_ic.iter_objects(QUEUE, FAILED) if tag in o["name"]]
    by_name = {o["name"]: o for o in listing}
    for key, name in failed.items():
        check(name in by_name, "%s listed in the failed container: %r" % (key, listing))
        print("%s: %s, %s, %d bytes" % (key, name, by_name[name]["content_type"],
                                        by_name[name]["bytes"]))
        check(by_name[name]["hash"] == "d41d8cd98f00b204e9800998ecf8427e"
              and by_name[name]["content_type"] != "application/swifthlm-task",
              "%s is an object of SwiftHLM's kind: %r" % (key, by_name[name]))
        check(len(object_files(info, policy, name, ".data")) == len(
            object_ring.get_nodes(QUEUE, FAILED, name)[1]),
            "%s stored on every primary" % key)

    _, out, _ = hlmctl(conf, "requests", "--json", A + "/" + ca)
    before = json.loads(out)
    print("$ hlmctl requests --json %s/%s (before)\n    %s" % (A, ca, out.strip()))
    check(sorted(r["id"] for r in before["pending"])
          == sorted(pending[k] for k in ("P1", "P2", "P3")),
          "SwiftHLM's pending rows, both forms: %r" % before)
    check(sorted(r["id"] for r in before["failed"])
          == sorted([failed[k] for k in ("F1", "F2", "F3", "F4")] + [own]),
          "SwiftHLM's failed objects, both forms: %r" % before)

    # --- one run ----------------------------------------------------------
    report = dispatch_once(conf)
    check(report["completed"] >= 4 and report["failed"] == 0 and report["undecodable"] == 0,
          "dispatch: %r" % report)

    _, out, _ = hlmctl(conf, "status", "--json", A + "/" + ca)
    states = object_states(out)
    check(states == {path(ca, "obj1"): "premigrated", path(ca, "obj2"): "migrated",
                     path(ca, "obj3"): "resident"},
          "older -- migrate then newer / recall of obj1 ends premigrated: %r" % states)
    _, out, _ = hlmctl(conf, "status", "--json", A + "/" + cb)
    states = object_states(out)
    check(states == {path(cb, "x1"): "migrated", path(cb, "x2"): "migrated"},
          "the -- container migrate: %r" % states)

    _, out, _ = hlmctl(conf, "requests", "--json", A + "/" + ca)
    after = json.loads(out)
    print("$ hlmctl requests --json %s/%s (after)\n    %s" % (A, ca, out.strip()))
    check(not after["pending"], "nothing pending: %r" % after)
    check(sorted(r["id"] for r in after["failed"]) == sorted([failed["F3"], failed["F4"]]),
          "what remains failed: %r" % after)
    _, out, _ = hlmctl(conf, "requests", A + "/" + cb)
    check("There are no pending or failed requests" in out, "%s: %r" % (cb, out))
    _, out, _ = hlmctl(conf, "requests", "--swifthlm", A + "/" + ca)
    print("$ hlmctl requests --swifthlm %s/%s\n    %s" % (A, ca, out.strip()))
    check(sorted(json.loads(out)) == sorted(failed[k] + "--failed" for k in ("F3", "F4")),
          "SwiftHLM's body: %r" % out)

    # The superseded ones: no object left on any object server.
    for key in ("F1", "F2", "F5"):
        name = failed[key]
        part, nodes = object_ring.get_nodes(QUEUE, FAILED, name)
        for node in nodes:
            try:
                direct_head_object(node, part, QUEUE, FAILED, name,
                                   headers={"X-Backend-Storage-Policy-Index": str(policy)})
                check(False, "%s still on %s:%s/%s" % (key, node["ip"], node["port"],
                                                       node["device"]))
            except ClientException as e:
                check(e.http_status == 404, "HEAD of %s: %s" % (key, e))
        check(not object_files(info, policy, name, ".data"),
              "%s: no .data file under any device" % key)
        check(len(object_files(info, policy, name, ".ts")) == len(nodes),
              "%s: a tombstone on every primary" % key)
    # The others are still there, and hlm's own row never was an object:
    # no DELETE for it, so no tombstone either.
    for key in ("F3", "F4"):
        replicas = len(object_ring.get_nodes(QUEUE, FAILED, failed[key])[1])
        check(len(object_files(info, policy, failed[key], ".data")) == replicas,
              "%s kept on every primary" % key)
    check(not object_files(info, policy, own, ""), "hlm's own row left nothing on disk")

    # Leave the shared queue as found: the rest deleted as SwiftHLM would.
    for key in ("F3", "F4"):
        swift_ic.delete_object(QUEUE, FAILED, failed[key])
    print("ok: SwiftHLM's queue (both name forms, pending rows and failed objects) drained "
          "in submission order; superseded failed objects deleted on every object server")


def ring_name(policy):
    return "object" if policy == 0 else "object-%d" % policy


def failed_policy(swift_ic):
    """The failed container's storage policy index, as the proxy sees it."""
    from swift.common.storage_policy import POLICIES  # noqa: E402
    resp = swift_ic.make_request("HEAD", swift_ic.make_path(QUEUE, FAILED), {}, (2,))
    index = resp.headers.get("X-Backend-Storage-Policy-Index")
    if index is not None:
        return int(index)
    return int(POLICIES.get_by_name(resp.headers["X-Storage-Policy"]))


def object_files(info, policy, name, suffix):
    """Files ending in `suffix` in the hash directory of .swifthlm/FAILED/name
    under every device of the cluster."""
    from swift.common.utils import hash_path  # noqa: E402
    from swift.common.ring import Ring  # noqa: E402
    ring = Ring(info["swift_dir"], ring_name=ring_name(policy))
    part = ring.get_part(QUEUE, FAILED, name)
    digest = hash_path(QUEUE, FAILED, name)
    datadir = "objects" if policy == 0 else "objects-%d" % policy
    found = []
    for node in info["nodes"]:
        pattern = os.path.join(node["devices"], "*", datadir, str(part), digest[-3:], digest,
                               "*" + suffix)
        found += glob.glob(pattern)
    return found


if __name__ == "__main__":
    main()
