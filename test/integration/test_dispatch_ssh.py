"""hlm-dispatch and hlmctl status reaching the storage node over ssh (a real
sshd from test/sshd/sshd.py, libssh in hlm): a migrate completes through
it; a wrong host key is refused with a clear reason and fails the entry; a
node that is down fails fast with a reason."""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from security_support import ssh_object_server_confs  # noqa: E402
from support import (Swift, check, cluster, env, run, run_tool,  # noqa: E402
                     write_hlm_conf)
from support import object_states  # noqa: E402


def conf_for(info, ssh, confs, name, **overrides):
    values = {"port": ssh["port"], "known_hosts": ssh["known_hosts"], "connect_timeout": 5}
    values.update(overrides)
    # One attempt: a wrong key or a node down reaches the failed queue at once.
    path = write_hlm_conf(os.path.join(info["dir"], name), dispatch="max_attempts = 1\n")
    with open(path) as f:
        text = f.read()
    text = text.replace("local_addresses = 127.0.0.1", "local_addresses =")
    text = re.sub(r"(?m)^object_server_conf = .*$", "object_server_conf = " + confs, text)
    text += """transport = ssh
user = {user}
port = {port}
identity_file = {identity}
known_hosts = {known_hosts}
connect_timeout = {connect_timeout}
io_timeout = 60
""".format(user=ssh["user"], identity=ssh["identity_file"], **values)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    info = cluster()
    sshd_dir = os.path.join(env("HLM_SSHD_BASE"), "dispatch-sshd")
    harness = os.path.join(os.path.dirname(env("HLM_SAIO_TOOLS")), "sshd", "sshd.py")
    # As root: the handler must read the cluster's files under the build
    # tree, which a clone in a private directory keeps from other users.
    code, _, err = run([env("HLM_PYTHON"), harness, "start", "--dir", sshd_dir, "--user", "root"])
    if code != 0:
        print(err.decode(errors="replace"), file=sys.stderr)
        sys.exit(code if code == 125 else 1)
    try:
        with open(os.path.join(sshd_dir, "sshd.json")) as f:
            ssh = json.load(f)
        confs, dbs = ssh_object_server_confs(info, info["dir"], ssh["user"])
        good = conf_for(info, ssh, confs, "ssh-hlm.conf")

        swift = Swift()
        swift.put_container("over-ssh")
        for name in ("a", "b", "c"):
            swift.put_object("over-ssh", name, b"data " + name.encode())
        run_tool([env("HLMCTL"), "migrate", "AUTH_test/over-ssh"], good, status=0)
        _, out, _ = run_tool([env("HLM_DISPATCH"), "--once", "--json"], good, status=0)
        check(json.loads(out)["completed"] == 1, "dispatch over ssh: %s" % out)
        _, out, _ = run_tool([env("HLMCTL"), "status", "--json", "AUTH_test/over-ssh"], good, status=0)
        states = object_states(out)
        check(set(states.values()) == {"migrated"}, "status over ssh: %r" % states)
        check(any(n.startswith("dummy-") for n in os.listdir(dbs)),
              "the handler ran as the ssh user and wrote its databases")
        print("migrate over ssh: %r" % states)

        wrong = conf_for(info, ssh, confs, "ssh-wrong-key.conf", known_hosts=ssh["wrong_known_hosts"])
        _, _, err = run_tool([env("HLMCTL"), "status", "AUTH_test/over-ssh"], wrong, status=1)
        check("does not match known_hosts" in err, "wrong host key refused: %r" % err)
        run_tool([env("HLMCTL"), "recall", "AUTH_test/over-ssh"], wrong, status=0)
        run_tool([env("HLM_DISPATCH"), "--once"], wrong, status=3)
        _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", "AUTH_test/over-ssh"], wrong, status=0)
        failed = json.loads(out)["failed"]
        check(failed and all("does not match known_hosts" in f["reason"] for f in failed),
              "the failed entries (one per object) say why: %r" % failed)
        print("wrong host key: %s" % failed[0]["reason"][:160])

        down = conf_for(info, ssh, confs, "ssh-down.conf", port=1)
        run_tool([env("HLMCTL"), "recall", "AUTH_test/over-ssh"], down, status=0)
        started = time.monotonic()
        run_tool([env("HLM_DISPATCH"), "--once"], down, status=3)
        elapsed = time.monotonic() - started
        check(elapsed < 10, "a node that is down fails fast: %.1f s" % elapsed)
        _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", "AUTH_test/over-ssh"], down, status=0)
        reasons = [f["reason"] for f in json.loads(out)["failed"]]
        check(any("127.0.0.1" in r and ("refused" in r.lower() or "connect" in r.lower())
                  for r in reasons), "node down reason: %r" % reasons)
        print("node down: failed in %.2f s" % elapsed)

        # Fixed: the recall goes through and clears the failed recalls.
        run_tool([env("HLMCTL"), "recall", "AUTH_test/over-ssh"], good, status=0)
        run_tool([env("HLM_DISPATCH"), "--once"], good, status=0)
        _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", "AUTH_test/over-ssh"], good, status=0)
        check(json.loads(out) == {"pending": [], "failed": []}, "cleared: %s" % out)
        print("ok: dispatch over ssh, wrong host key refused, node down fails fast")
    finally:
        subprocess.run([env("HLM_PYTHON"), harness, "stop", "--dir", sshd_dir])


if __name__ == "__main__":
    main()
