"""The queue on a cluster whose default storage policy is not 0 (its own
Swift-All-In-One, started here with saio.py --default-policy 1): SwiftHLM
creates failed-hlm-requests through the proxy, so in policy 1; hlm's failed
rows must carry that index, or Swift hides them from every listing as
misplaced. A failed migrate is then listed by hlmctl and by Swift itself,
and cleared by the success of its resubmission."""

import json
import os
import shutil
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import check, cluster, env, run_tool  # noqa: E402
from test_swifthlm_queue import INTERNAL_CLIENT_CONF, failed_policy  # noqa: E402

QUEUE = ".swifthlm"
FAILED = "failed-hlm-requests"


def saio(*args):
    subprocess.run([env("HLM_PYTHON"), os.path.join(env("HLM_SAIO_TOOLS"), "saio.py")] + list(args),
                   check=True, timeout=180)


def main():
    shared = cluster()
    root = os.path.join(os.path.dirname(shared["dir"]), "saio-default-policy-1")
    port = int(shared["proxy_url"].rsplit(":", 1)[1]) + 600
    if os.path.exists(os.path.join(root, "run")):
        saio("stop", "--dir", root)  # a failed run's leftovers
    saio("start", "--dir", root, "--base-port", str(port), "--default-policy", "1")
    try:
        run_test(root)
    finally:
        saio("stop", "--dir", root)


def run_test(root):
    with open(os.path.join(root, "cluster.json")) as f:
        info = json.load(f)
    sys.path.insert(0, env("HLM_SAIO_TOOLS"))
    import saio as saio_module  # noqa: E402
    saio_module.use_swift_conf(info["swift_dir"])
    from swift.common.internal_client import InternalClient  # noqa: E402

    tester = next(u for u in info["users"] if u["user"] == "test:tester")
    req = urllib.request.Request(info["auth_url"], headers={"X-Auth-User": tester["user"],
                                                            "X-Auth-Key": tester["key"]})
    with urllib.request.urlopen(req, timeout=30) as resp:
        token, url = resp.headers["X-Auth-Token"], resp.headers["X-Storage-Url"]

    def swift(method, path, body=b""):
        r = urllib.request.Request(url + "/" + path, data=body, method=method,
                                   headers={"X-Auth-Token": token})
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.headers

    swift("PUT", "c")
    swift("PUT", "c/o", b"payload")
    _, headers = swift("HEAD", "c")
    check(headers["X-Storage-Policy"] == "silver", "default policy: %r" % dict(headers))

    # SwiftHLM's dispatcher makes the failed container through the proxy.
    ic_conf = os.path.join(root, "internal-client.conf")
    with open(ic_conf, "w") as f:
        f.write(INTERNAL_CLIENT_CONF.format(swift_dir=info["swift_dir"], memcached=info["memcached"]))
    swift_ic = InternalClient(ic_conf, "SwiftHLM Middleware", 3)
    swift_ic.create_container(QUEUE, FAILED)
    check(failed_policy(swift_ic) == 1, "SwiftHLM's failed container is in policy 1")

    conf = os.path.join(root, "hlm.conf")
    with open(conf, "w") as f:
        f.write("[hlm]\nswift_dir = {etc}\n[dispatch]\nmax_attempts = 1\n"
                "lock_file = {root}/run/hlm-dispatch.lock\n[nodes]\nlocal_addresses = 127.0.0.1\n"
                "handler = {handler}\nobject_server_conf = {etc}/object-server\n"
                .format(etc=info["swift_dir"], root=root, handler=env("HLM_HANDLER")))
    overrides = {"ST_AUTH": info["auth_url"], "ST_USER": tester["user"], "ST_KEY": tester["key"]}

    def tool(argv, status=0):
        return run_tool(argv, conf, status=status, env_overrides=overrides)[1]

    def listed_failed():
        return [o["name"] for o in swift_ic.iter_objects(QUEUE, FAILED)]

    # A migrate that fails: every node's backend database is unusable.
    dbs = [node["hlm_db_path"] for node in info["nodes"]]
    aside = [db for db in dbs if os.path.exists(db)]
    for db in aside:
        shutil.move(db, db + ".aside")
    for db in dbs:
        os.makedirs(db)  # sqlite cannot open a directory
    try:
        tool([env("HLMCTL"), "migrate", "AUTH_test/c/o"])
        report = json.loads(tool([env("HLM_DISPATCH"), "--once", "--json"], status=3))
        check(report["failed"] == 1, "the migrate failed: %r" % report)
    finally:
        for db in dbs:
            os.rmdir(db)
        for db in aside:
            shutil.move(db + ".aside", db)
    failed = json.loads(tool([env("HLMCTL"), "requests", "--json", "AUTH_test/c"]))["failed"]
    check(len(failed) == 1 and failed[0]["policy_index"] == 1,
          "hlmctl lists the failed request: %r" % failed)
    check(listed_failed() == [failed[0]["id"]],
          "Swift lists hlm's failed row (not hidden as misplaced): %r" % listed_failed())

    tool([env("HLMCTL"), "migrate", "AUTH_test/c/o"])
    report = json.loads(tool([env("HLM_DISPATCH"), "--once", "--json"]))
    check(report["completed"] == 1, "the resubmitted migrate: %r" % report)
    requests = json.loads(tool([env("HLMCTL"), "requests", "--json", "AUTH_test/c"]))
    check(not requests["failed"] and not requests["pending"], "cleared: %r" % requests)
    check(listed_failed() == [], "Swift's listing is empty too: %r" % listed_failed())
    print("ok: a cluster whose default policy is 1: failed rows listed by hlmctl and Swift, "
          "cleared by a success")


if __name__ == "__main__":
    main()
