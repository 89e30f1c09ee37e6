"""Host keys and the identity file over a real sshd (test/sshd/sshd.py):
with a changed host key, a host missing from known_hosts, a known_hosts
file that does not exist, or an identity file others can read, hlmctl
status and hlm-dispatch refuse the node with a clear reason, and no
command runs there (a handler that leaves a marker file shows it). There
is no setting that turns host key checking off."""

import json
import os
import shutil
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from security_support import (marker_handler, ssh_hlm_conf,  # noqa: E402
                              ssh_object_server_confs, start_sshd, stop_sshd)
from support import Swift, check, cluster, env, run_tool  # noqa: E402

A = "AUTH_test"
CONTAINER = "security-ssh"


def main():
    info = cluster()
    work = os.path.join(info["dir"], "security-ssh")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.chmod(work, 0o755)
    swift = Swift()
    swift.put_container(CONTAINER)
    swift.put_object(CONTAINER, "o", b"o")
    marker = os.path.join(work, "handler-ran")
    handler = marker_handler(os.path.join(work, "marker-handler"), marker)

    harness, sshd_dir, ssh = start_sshd("security-ssh-sshd")
    try:
        confs, _ = ssh_object_server_confs(info, work, ssh["user"])

        def conf(name, **overrides):
            return ssh_hlm_conf(os.path.join(work, name), ssh, confs, handler=handler, **overrides)

        # The control: with the right known_hosts the handler runs.
        good = conf("good.conf")
        run_tool([env("HLMCTL"), "status", A + "/" + CONTAINER], good, status=0)
        check(os.path.exists(marker), "the marker handler ran over ssh")
        os.unlink(marker)

        empty = os.path.join(work, "empty_known_hosts")
        open(empty, "w").close()
        identity = os.path.join(work, "id_readable")
        shutil.copyfile(ssh["identity_file"], identity)
        os.chmod(identity, 0o644)
        peer = "%s:%d" % (ssh["host"], ssh["port"])
        missing = os.path.join(work, "no_such_known_hosts")
        cases = [
            ("changed host key", {"known_hosts": ssh["wrong_known_hosts"]},
             'host key for %s does not match known_hosts "%s": refusing'
             % (peer, ssh["wrong_known_hosts"])),
            ("unknown host", {"known_hosts": empty},
             'host %s is not in known_hosts "%s": refusing' % (peer, empty)),
            ("missing known_hosts", {"known_hosts": missing},
             'known_hosts "%s" does not exist: refusing to connect to %s' % (missing, peer)),
            ("identity readable by others", {"identity_file": identity},
             'identity file "%s" is accessible by others (mode 0644); chmod 600 "%s"'
             % (identity, identity)),
        ]
        for label, overrides, message in cases:
            refused = conf(label.replace(" ", "-") + ".conf", **overrides)
            _, _, err = run_tool([env("HLMCTL"), "status", A + "/" + CONTAINER], refused, status=1)
            check(message in err, "%s: status says %r, got %r" % (label, message, err))
            run_tool([env("HLMCTL"), "migrate", A + "/" + CONTAINER], refused, status=0)
            _, out, _ = run_tool([env("HLM_DISPATCH"), "--once", "--json"], refused, status=3)
            check(json.loads(out)["failed"] >= 1, "%s: dispatch fails the entry: %s" % (label, out))
            _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", A + "/" + CONTAINER],
                                 refused, status=0)
            failed = json.loads(out)["failed"]
            check(any(message in f["reason"] for f in failed),
                  "%s: the failed entry says why: %r" % (label, failed))
            check(not os.path.exists(marker), "%s: a command ran on the refused host" % label)
            print("%s: refused, nothing ran: %s" % (label, message))
        mode = stat.S_IMODE(os.stat(identity).st_mode)
        check(mode == 0o644, "the identity file was left as it was: %o" % mode)

        # No option to trust on first use or to turn the check off.
        for key in ("strict_host_key_checking = no", "StrictHostKeyChecking = no"):
            with open(good) as f:
                text = f.read()
            loose = os.path.join(work, "loose.conf")
            with open(loose, "w") as f:
                f.write(text + key + "\n")
            _, _, err = run_tool([env("HLMCTL"), "status", A + "/" + CONTAINER], loose, status=1)
            check("unknown key" in err, "%r is not a setting: %r" % (key, err))
        check(not os.path.exists(marker), "nothing ran with a refused setting")

        # Fixed: the failed migrates go through and are cleared.
        run_tool([env("HLMCTL"), "migrate", A + "/" + CONTAINER], good, status=0)
        run_tool([env("HLM_DISPATCH"), "--once"], good, status=0)
        _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", A + "/" + CONTAINER], good,
                             status=0)
        check(json.loads(out) == {"pending": [], "failed": []}, "cleared: %s" % out)
        print("ok: refused hosts ran nothing; the good host still works")
    finally:
        stop_sshd(harness, sshd_dir)


if __name__ == "__main__":
    main()
