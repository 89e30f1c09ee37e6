"""Two hlm-dispatch --once started together on 200 single-object requests:
the dummy connectors' own operations record shows every replica migrated
exactly once. Then the same with two dispatchers splitting the queue
(--processes 2, separate lock files, as on two hosts)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, env, migrations, run_tool,  # noqa: E402
                     tool_env, write_hlm_conf)

OBJECTS = 200


def run_pair(info, container, confs, extra_args):
    swift = Swift()
    swift.put_container(container)
    for i in range(OBJECTS):
        swift.put_object(container, "o%03d" % i, b"x")
    targets = "".join("AUTH_test/%s/o%03d\n" % (container, i) for i in range(OBJECTS))
    run_tool([env("HLMCTL"), "migrate", "-f", "-"], confs[0], stdin=targets.encode(), status=0)

    procs = [subprocess.Popen([env("HLM_DISPATCH"), "--once", "--json"] + args,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=tool_env(conf))
             for conf, args in zip(confs, extra_args)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        check(p.returncode == 0, "dispatcher exited %d: %s %s" % (p.returncode, out, err))
        print("    " + (out.decode().strip() or err.decode().strip().splitlines()[-1]))

    counts = migrations(info, container)
    objects = {obj for obj, _ in counts}
    check(len(objects) == OBJECTS, "%d of %d objects migrated" % (len(objects), OBJECTS))
    check(len(counts) == OBJECTS * 3, "%d replica files migrated, expected %d"
          % (len(counts), OBJECTS * 3))
    twice = [k for k, n in counts.items() if n != 1]
    check(not twice, "replicas migrated more than once: %r" % twice[:5])
    _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", "AUTH_test/" + container],
                         confs[0], status=0)
    check('"pending": []' in out and '"failed": []' in out, "queue not drained: %s" % out)


def main():
    info = cluster()
    shared = write_hlm_conf(os.path.join(info["dir"], "concurrency-hlm.conf"))
    print("same host, same lock: two dispatchers started together")
    run_pair(info, "concurrent-same-lock", [shared, shared], [[], []])

    split = []
    for i in range(2):
        conf = os.path.join(info["dir"], "split-%d-hlm.conf" % i)
        write_hlm_conf(conf)
        with open(conf) as f:
            text = f.read().replace("hlm-dispatch.lock", "hlm-dispatch-%d.lock" % i)
        with open(conf, "w") as f:
            f.write(text)
        split.append(conf)
    print("two hosts: --processes 2, each its own lock")
    run_pair(info, "concurrent-split", split,
             [["--processes", "2", "--process", "0"], ["--processes", "2", "--process", "1"]])
    print("ok: every replica migrated exactly once in both set-ups")


if __name__ == "__main__":
    main()
