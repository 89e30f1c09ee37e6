"""The exec connector on the real test cluster: the example connector
(connectors/exec/examples/hlm-connector-example, python) behind three
object servers, a program that hangs behind the fourth. Migrate and recall
a container through hlmctl and hlm-dispatch: the hanging program is killed
at its timeout and its replicas fail with that reason, every other replica
succeeds, and the dispatcher finishes instead of waiting."""

import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, connector_confs, env,  # noqa: E402
                     run_tool, write_hlm_conf)
from support import object_states  # noqa: E402

A = "AUTH_test"


def main():
    info = cluster()
    work = os.path.join(info["dir"], "exec-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    hang = os.path.join(work, "hang")
    with open(hang, "w") as f:
        f.write("#!/bin/sh\nexec sleep 60\n")
    os.chmod(hang, 0o755)
    example = env("HLM_EXEC_EXAMPLE")

    def settings_for(server):
        if server == "4":
            return {"command": hang, "timeout": "2"}
        return {"command": "%s --state-dir %s" % (example, os.path.join(work, "state-" + server)),
                "timeout": "30"}

    conf_dir = connector_confs(info, work, "exec", settings_for)
    # One attempt: the hanging backend's failure reaches the failed queue at once.
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"), object_server_conf=conf_dir,
                          dispatch="max_attempts = 1\n")
    swift = Swift()
    swift.put_container("exec-cont")
    names = ["o%02d" % i for i in range(12)]
    for name in names:
        swift.put_object("exec-cont", name, name.encode())

    def dispatch(status):
        started = time.monotonic()
        _, out, _ = run_tool([env("HLM_DISPATCH"), "--once", "--json"], conf, status=status)
        print("    hlm-dispatch --once: %s (%.1f s)" % (out.strip(), time.monotonic() - started))
        return json.loads(out), time.monotonic() - started

    run_tool([env("HLMCTL"), "migrate", A + "/exec-cont"], conf, status=0)
    report, seconds = dispatch(status=3)
    check(report["failed"] == 1, "migrate with a hanging backend: %r" % report)
    check(seconds < 30, "the dispatcher waited %.0f s for a 2 s timeout" % seconds)
    _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", A + "/exec-cont"], conf, status=0)
    reason = json.loads(out)["failed"][0]["reason"]
    print("    failed entry reason: " + reason[:300])
    check("timed out after 2 s" in reason and hang in reason and "sdb4" in reason,
          "reason: %r" % reason)

    # Replicas on devices 1-3 went through the example connector.
    _, out, _ = run_tool([env("HLMCTL"), "status", "--json", A + "/exec-cont"], conf, status=None)
    states = object_states(out)
    migrated = 0
    for server in ("1", "2", "3"):
        with open(os.path.join(work, "state-" + server, "state.json")) as f:
            migrated += sum(1 for state in json.load(f).values() if state == "migrated")
    hanging_replicas = 3 * len(names) - migrated
    print("    replicas migrated by the example connector: %d; on the hanging one: %d"
          % (migrated, hanging_replicas))
    check(migrated > 0 and hanging_replicas > 0, "replica split: %d" % migrated)
    check(set(states.values()) <= {"migrated", "unknown"} and "unknown" in states.values(),
          "status with one backend hanging: %r" % states)

    # The hanging backend replaced by the example: everything completes.
    shutil.rmtree(conf_dir)
    conf_dir = connector_confs(info, work, "exec", lambda server: {
        "command": "%s --state-dir %s" % (example, os.path.join(work, "state-" + server))})
    run_tool([env("HLMCTL"), "migrate", A + "/exec-cont"], conf, status=0)
    report, _ = dispatch(status=0)
    check(report["completed"] == 1, "migrate after the fix: %r" % report)

    # Estimates: the example program answers the estimate request (version
    # 2 of the protocol) from its model: one copy of each object to recall.
    _, out, _ = run_tool([env("HLMCTL"), "estimate", "--json", "recall", A + "/exec-cont"], conf,
                         status=0)
    total = json.loads(out)["total"]
    check(total is not None and total["items"] == len(names) and total["drive_seconds"] > 0,
          "the example's estimate: %s" % out)
    print("    hlmctl estimate recall: %r" % total)

    # Server 4's program answers estimates with garbage (and works as the
    # example otherwise): the estimate is unknown, the recall proceeds.
    garbage = os.path.join(work, "garbage-estimates")
    with open(garbage, "w") as f:
        f.write("#!/bin/sh\ninput=$(cat)\ncase \"$input\" in\n"
                "*'\"operation\":\"estimate\"'*) echo '{\"version\":2,\"estimate\":"
                "{\"items\":\"lots\"}}' ;;\n"
                "*) printf '%%s' \"$input\" | exec %s --state-dir %s ;;\nesac\n"
                % (example, os.path.join(work, "state-4")))
    os.chmod(garbage, 0o755)
    shutil.rmtree(conf_dir)
    conf_dir = connector_confs(info, work, "exec", lambda server: {
        "command": garbage if server == "4" else
        "%s --state-dir %s" % (example, os.path.join(work, "state-" + server))})
    _, out, _ = run_tool([env("HLMCTL"), "estimate", "--json", "recall", A + "/exec-cont"], conf,
                         status=0)
    doc = json.loads(out)
    check(doc["total"] is None and list(doc["nodes"].values()) == [None],
          "a garbage estimate is unknown: %s" % out)
    _, text, _ = run_tool([env("HLMCTL"), "estimate", "recall", A + "/exec-cont"], conf, status=0)
    check("total: unknown (a backend cannot estimate)" in text, "text: %r" % text)
    run_tool([env("HLMCTL"), "recall", A + "/exec-cont"], conf, status=0)
    dispatch(status=0)
    _, out, _ = run_tool([env("HLMCTL"), "status", "--json", A + "/exec-cont"], conf, status=0)
    states = object_states(out)
    check(set(states.values()) == {"premigrated"} and len(states) == len(names),
          "status after recall: %r" % states)
    print("exec connector on the real cluster: OK")


if __name__ == "__main__":
    main()
