"""`hlmctl nodes` on the test cluster: JSON shape and agreement with Swift's
Ring for a few names, human output, exit codes and messages."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, env, run, run_tool,  # noqa: E402
                     write_hlm_conf)


def python_ring(info, ring, name):
    _, out, _ = run([env("HLM_PYTHON"), os.path.join(env("HLM_SAIO_TOOLS"), "python_ring.py"),
                     "--swift-dir", info["swift_dir"], "--ring", ring],
                    (json.dumps(name) + "\n").encode(), 0)
    return json.loads(out)


def main():
    info = cluster()
    hlmctl = env("HLMCTL")
    cases = [
        ("object", None, ["AUTH_test", "c1", "obj1"]),
        ("object-1", "silver", ["AUTH_test", "c1silver", "sobj2"]),
        ("object-1", "1", ["AUTH_test", "c", "dir/\u00e9 x%20"]),
        ("container", None, [".swifthlm", "pending-hlm-requests", None]),
        ("account", None, ["AUTH_test", None, None]),
    ]
    for ring, policy, name in cases:
        target = "/".join(p for p in name if p)
        argv = [hlmctl, "nodes", "--json", "--swift-dir", info["swift_dir"], target]
        if policy:
            argv[2:2] = ["--policy", policy]
        _, out, _ = run(argv, check_status=0)
        ours = json.loads(out)
        theirs = python_ring(info, ring, name)
        check(ours["partition"] == theirs["partition"] and ours["hash"] == theirs["hash"],
              "%s: %r vs %r" % (target, ours, theirs))
        check([[n["ip"], n["port"], n["device"]] for n in ours["nodes"]] == theirs["devices"],
              "%s: nodes %r vs %r" % (target, ours["nodes"], theirs["devices"]))
    _, out, _ = run([hlmctl, "nodes", "--swift-dir", info["swift_dir"], "AUTH_test/c1/obj1"],
                    check_status=0)
    text = out.decode()
    check("Partition    917" in text and "e57f1f5d9f265938e95435bebef7b292" in text,
          "human output: %s" % text)

    # Without --swift-dir and --policy: hlm.conf's swift_dir, and the
    # container's own policy, asked of the proxy as the caller.
    swift = Swift()
    swift.put_container("nodes-silver", policy="silver")
    conf = write_hlm_conf(os.path.join(info["dir"], "nodes-hlm.conf"))
    _, out, err = run_tool([hlmctl, "nodes", "--json", "AUTH_test/nodes-silver/o"], conf, status=0)
    ours = json.loads(out)
    theirs = python_ring(info, "object-1", ["AUTH_test", "nodes-silver", "o"])
    check(ours["policy_index"] == 1 and ours["partition"] == theirs["partition"]
          and [[n["ip"], n["port"], n["device"]] for n in ours["nodes"]] == theirs["devices"],
          "the container's policy, hlm.conf's swift_dir: %r vs %r (%s)" % (ours, theirs, err))
    _, out, err = run_tool([hlmctl, "nodes", "--json", "AUTH_test/nodes-silver/o"], conf, status=0,
                           env_overrides={"ST_KEY": "wrong"})
    check(json.loads(out)["policy_index"] == 0 and "give --policy" in err,
          "without the container's policy, the default one and a warning: %r" % err)

    # Errors: message format and exit codes.
    for argv, status, message in [
        (["nodes", "--swift-dir", info["swift_dir"], "--policy", "silvr", "a/c/o"], 1,
         "did you mean \"silver\""),
        (["nodes", "--swift-dir", info["swift_dir"], "a//o"], 2, "empty container"),
        (["nodes", "--swift-dir", "/nonexistent", "a/c/o"], 1, "/nonexistent/swift.conf"),
        (["nodes", "--swift-dir", info["swift_dir"], "--policy", "1", "a/c"], 2, "objects only"),
        (["nodes"], 2, "target is required"),
        (["frobnicate"], 2, ""),
    ]:
        _, out, err = run([hlmctl] + argv, check_status=status)
        check(message in err.decode(), "%s: expected %r in %r" % (argv, message, err))
    _, out, _ = run([hlmctl, "--version"], check_status=0)
    check(b"dummy" in out, "--version lists connectors: %r" % out)
    print("ok: hlmctl nodes agrees with Swift and reports errors")


if __name__ == "__main__":
    main()
