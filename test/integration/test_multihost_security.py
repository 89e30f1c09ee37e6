"""Host key checks against real hosts (test/multihost/rig.py): a host missing
from known_hosts is refused before any command runs there, a host whose key
changed (regenerated, sshd restarted) is refused with "does not match";
either way the entry fails naming that host, and the other hosts' replicas
are migrated."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "multihost"))
import mhsupport  # noqa: E402
from mhsupport import check, query, rig  # noqa: E402
from support import Swift, env, run_tool  # noqa: E402

A = "AUTH_test"


def dummy_db(info, host):
    cluster = json.load(open(info["cluster_json"]))
    return next(n for n in cluster["nodes"] if n["index"] == host["node"])["hlm_db_path"]


def case(info, work, name, victim, known_hosts, words, log):
    container = "mh-sec-%s-%s" % (name, mhsupport.RUN)
    swift = Swift()
    swift.put_container(container)
    paths = set()
    for i in range(3):
        swift.put_object(container, "o%d" % i, b"secure %d" % i)
        paths.add("/%s/%s/o%d" % (A, container, i))
    handler = mhsupport.install_handler(info, name="hlm-handler-sec", log=log)
    conf = mhsupport.write_conf(info, os.path.join(work, name + ".conf"), handler,
                                known_hosts=known_hosts)
    mhsupport.drain_queue(info, work, run_tool, env("HLM_DISPATCH"))
    run_tool([env("HLMCTL"), "migrate", "%s/%s" % (A, container)], conf, status=0)
    with open(log, "w"):
        pass
    _, out, _ = run_tool([env("HLM_DISPATCH"), "--once", "--json"], conf, status=3)
    _, requests, _ = run_tool([env("HLMCTL"), "requests", "--json", "%s/%s" % (A, container)],
                              conf, status=0)
    failed = json.loads(requests)["failed"]
    reason = failed[0]["reason"] if failed else ""
    print("  %s: %s\n    reason: %s" % (name, out.strip(), reason[:300]))
    # Each object (a replica of each is on the victim) failed, a request of
    # its own.
    check({"/" + f["target"] for f in failed} == paths
          and all(victim["ip"] in f["reason"] and all(w in f["reason"] for w in words)
                  for f in failed),
          "%s: refused naming %s, saying %s: %r" % (name, victim["ip"], words, failed))

    # Nothing ran on the victim: no handler start logged, its backend
    # untouched; the others migrated every replica.
    with open(log) as f:
        hosts_run = [line.split()[0] for line in f if line.strip()]
    check(victim["name"] not in hosts_run, "%s: a command ran on %s: %r"
          % (name, victim["name"], hosts_run))
    for host in info["hosts"]:
        migrated = {o for (o,) in query(dummy_db(info, host),
                                        "SELECT object FROM operations WHERE operation = 'migrate'")}
        if host is victim:
            check(not migrated & paths, "%s: %s's backend was used" % (name, host["name"]))
        else:
            check(paths <= migrated, "%s: %s migrated %r" % (name, host["name"], migrated & paths))
            check(host["name"] in hosts_run, "%s: no handler run on %s" % (name, host["name"]))


def main():
    names, info = mhsupport.load()
    work = mhsupport.work_dir(info, "security")
    log = os.path.join(work, "handler-hosts.log")
    with open(log, "w"):
        pass
    os.chmod(log, 0o666)

    # host3's line removed from known_hosts.
    unknown = info["hosts"][2]
    partial = os.path.join(work, "known_hosts-without-" + unknown["name"])
    with open(info["known_hosts"]) as f:
        lines = [line for line in f if not line.startswith(unknown["ip"] + " ")]
    check(len(lines) == len(info["hosts"]) - 1, "known_hosts lines: %r" % lines)
    with open(partial, "w") as f:
        f.writelines(lines)
    case(info, work, "unknown-host", unknown, partial, ("is not in known_hosts", "refusing"), log)

    # host2's key regenerated; the known_hosts of before still has the old
    # one. The rig's own known_hosts then learns the new key.
    changed = info["hosts"][1]
    before = os.path.join(work, "known_hosts-before")
    with open(info["known_hosts"]) as f, open(before, "w") as g:
        g.write(f.read())
    rig.rekey_host(names, info, changed)
    case(info, work, "changed-key", changed, before, ("does not match known_hosts", "refusing"),
         log)
    print("ok: unknown and changed host keys refused; the other hosts completed")


if __name__ == "__main__":
    main()
