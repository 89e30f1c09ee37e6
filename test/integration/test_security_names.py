"""Hostile container and object names (shell metacharacters, quotes,
newlines, a leading '-', '..', spaces, UTF-8) go through hlmctl migrate,
hlm-dispatch, hlmctl status/recall/requests over the local transport (to
the dummy connector and to the exec connector's example program) and over
ssh (a real sshd): every name round-trips unchanged in the --json output
and no shell ever runs one (no marker file appears)."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from security_support import (check_no_markers, hostile_containers,  # noqa: E402
                              hostile_objects, ssh_hlm_conf, ssh_object_server_confs,
                              start_sshd, stop_sshd)
from support import Swift, check, cluster, connector_confs, env, run_tool, write_hlm_conf  # noqa: E402
from support import object_states  # noqa: E402

A = "AUTH_test"


def tool(argv, conf, status=0):
    return run_tool(argv, conf, status=status)


def put_data(swift, containers, objects):
    for container in containers:
        swift.put_container(container)
        for name in objects:
            swift.put_object(container, name, name.encode())


def expected_paths(container, objects):
    return {"/%s/%s/%s" % (A, container, name) for name in objects}


def exercise(label, conf, containers, objects):
    """migrate (container and object targets), dispatch, status, recall,
    dispatch, status, requests; checks names and states."""
    for container in containers:
        targets = [A + "/" + container] + ["%s/%s/%s" % (A, container, o) for o in objects[:4]]
        _, out, _ = tool([env("HLMCTL"), "migrate", "--json"] + targets, conf)
        queued = [r["target"] for r in json.loads(out)["requests"]]
        check(queued == targets, "%s: migrate --json targets round-trip: %r" % (label, queued))
        _, out, _ = tool([env("HLMCTL"), "requests", "--json", A + "/" + container], conf)
        listed = sorted(r["target"] for r in json.loads(out)["pending"])
        check(listed == sorted(targets), "%s: requests --json: %r" % (label, listed))
    check_no_markers(label + ": migrate")
    tool([env("HLM_DISPATCH"), "--once", "--json"], conf, status=None)
    check_no_markers(label + ": dispatch migrate")

    for container in containers:
        _, out, _ = tool([env("HLMCTL"), "requests", "--json", A + "/" + container], conf)
        check(json.loads(out) == {"pending": [], "failed": []},
              "%s: every migrate completed: %s" % (label, out))
        _, out, _ = tool([env("HLMCTL"), "status", "--json", A + "/" + container], conf)
        states = object_states(out)
        check(set(states) == expected_paths(container, objects),
              "%s: status --json names: %r" % (label, sorted(states)))
        check(set(states.values()) == {"migrated"}, "%s: migrated: %r" % (label, states))
        for name in objects:
            path = "%s/%s/%s" % (A, container, name)
            _, out, _ = tool([env("HLMCTL"), "status", "--json", path], conf)
            check(object_states(out) == {"/" + path: "migrated"},
                  "%s: status of one object %r: %s" % (label, name, out))
        tool([env("HLMCTL"), "recall", A + "/" + container], conf)
    check_no_markers(label + ": status")
    tool([env("HLM_DISPATCH"), "--once"], conf, status=None)
    for container in containers:
        _, out, _ = tool([env("HLMCTL"), "status", "--json", A + "/" + container], conf)
        states = object_states(out)
        check(set(states) == expected_paths(container, objects) and
              set(states.values()) == {"premigrated"}, "%s: after recall: %r" % (label, states))
    check_no_markers(label + ": recall")
    print("%s: %d containers x %d hostile names round-trip" % (label, len(containers), len(objects)))


def main():
    info = cluster()
    work = os.path.join(info["dir"], "security-names")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.chdir(work)  # a name run as a relative command would land here too
    check_no_markers("before")
    swift = Swift()
    objects = hostile_objects()
    containers = hostile_containers()

    # Local transport, dummy connector.
    put_data(swift, containers, objects)
    exercise("local/dummy", write_hlm_conf(os.path.join(work, "local.conf")), containers, objects)

    # Local transport, exec connector (the example program).
    exec_containers = [c + "-exec" for c in containers]
    put_data(swift, exec_containers, objects)
    example = env("HLM_EXEC_EXAMPLE")
    conf_dir = connector_confs(info, os.path.join(work, "exec"), "exec", lambda server: {
        "command": "%s --state-dir %s" % (example, os.path.join(work, "exec", "state-" + server))})
    exercise("local/exec", write_hlm_conf(os.path.join(work, "exec.conf"),
                                          object_server_conf=conf_dir), exec_containers, objects)

    # ssh to a real sshd, dummy connector.
    harness, sshd_dir, ssh = start_sshd("security-names-sshd")
    try:
        confs, _ = ssh_object_server_confs(info, work, ssh["user"])
        ssh_containers = [c + "-ssh" for c in containers]
        put_data(swift, ssh_containers, objects)
        exercise("ssh/dummy", ssh_hlm_conf(os.path.join(work, "ssh.conf"), ssh, confs),
                 ssh_containers, objects)
    finally:
        stop_sshd(harness, sshd_dir)
    check_no_markers("after")
    print("ok: no name reached a shell")


if __name__ == "__main__":
    main()
