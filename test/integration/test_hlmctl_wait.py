"""hlmctl wait and migrate/recall --wait on the real test cluster: a
request carried out by a running dispatcher ends the wait with exit 0; no
dispatcher means a timeout (exit 1); a request whose attempt failed is
still waited for, and one that fails its last attempt ends the wait with
exit 3 and the reason; ids and targets both work, and --json says the
same."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, connector_confs, env, run_tool,  # noqa: E402
                     tool_env, write_hlm_conf)
from support import object_states  # noqa: E402

A = "AUTH_test"


def main():
    info = cluster()
    work = os.path.join(info["dir"], "wait-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"))
    swift = Swift()
    swift.put_container("waitc")
    for name in ("o0", "o1", "o2"):
        swift.put_object("waitc", name, name.encode())

    def hlmctl(*args, status=None):
        return run_tool([env("HLMCTL")] + list(args), conf, status=status)

    loop = subprocess.Popen([env("HLM_DISPATCH"), "--loop", "--interval", "1", "-q"],
                            env=tool_env(conf), stdout=subprocess.DEVNULL)
    try:
        started = time.monotonic()
        code, out, err = hlmctl("migrate", "--wait", "--interval", "0.5",
                                A + "/waitc/o0", A + "/waitc/o1")
        print("    migrate --wait: exit %d after %.1f s: %s" % (code, time.monotonic() - started,
                                                                out.strip().splitlines()[-1]))
        check(code == 0 and "2 requests: 2 done, 0 failed, 0 still pending" in out,
              "migrate --wait: %d %r %r" % (code, out, err))
        _, out, _ = hlmctl("status", "--json", A + "/waitc", status=0)
        states = object_states(out)
        check(states["/%s/waitc/o0" % A] == "migrated" and states["/%s/waitc/o1" % A] == "migrated",
              "status after migrate --wait: %r" % states)
    finally:
        loop.send_signal(signal.SIGTERM)
        loop.wait(timeout=30)

    # No dispatcher: the wait times out, exit 1, the request still pending.
    code, out, err = hlmctl("recall", "--wait", "--timeout", "2", "--interval", "0.5",
                            A + "/waitc/o0")
    check(code == 1 and "timed out after 2 s with 1 requests pending" in err
          and "1 still pending" in out, "recall --wait without a dispatcher: %d %r %r"
          % (code, out, err))
    request_id = out.split("queued recall %s/waitc/o0: " % A)[1].split()[0]
    check("waiting:" not in err, "a progress line on a pipe: %r" % err)

    # On a terminal (script(1) gives the tools a pty): a progress line that
    # rewrites itself, for wait and for hlm-dispatch.
    def on_pty(argv):
        command = " ".join("'%s'" % a for a in argv)
        proc = subprocess.run(["script", "-qec", command, "/dev/null"], env=tool_env(conf),
                              capture_output=True, timeout=120)
        return proc.returncode, proc.stdout.decode(errors="replace")
    code, text = on_pty([env("HLMCTL"), "wait", "--timeout", "1", "--interval", "0.5", request_id])
    check(code == 1 and "\rhlmctl: waiting: 1 of 1 requests pending, 0 failed" in text,
          "wait on a terminal: %d %r" % (code, text))
    code, text = on_pty([env("HLMCTL"), "wait", "--json", "--timeout", "1", request_id])
    check("waiting:" not in text, "a progress line with --json: %r" % text)

    # By id and by target, while a dispatcher runs once.
    waiter = subprocess.Popen([env("HLMCTL"), "wait", "--json", "--interval", "0.5", request_id,
                               A + "/waitc"], env=tool_env(conf), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    time.sleep(1)
    code, text = on_pty([env("HLM_DISPATCH"), "--once"])
    check(code == 0 and "\rhlm-dispatch: 1 of 1 request handled (1 done, 0 failed)" in text,
          "hlm-dispatch on a terminal: %d %r" % (code, text))
    out, err = waiter.communicate(timeout=60)
    report = json.loads(out)
    # The id and the target name the same request: one request, done.
    check(waiter.returncode == 0 and report["requests"] == 1 and report["done"] == 1
          and not report["failed"]
          and not report["timed_out"], "wait by id and target: %d %r %r"
          % (waiter.returncode, report, err))

    # A failing backend: exit 3 and the reason.
    broken = os.path.join(work, "broken")
    os.makedirs(broken)
    conf_dir = connector_confs(info, work, "dummy", lambda server: {"db_path": broken})
    broken_conf = write_hlm_conf(os.path.join(work, "broken.conf"), object_server_conf=conf_dir)
    waiter = subprocess.Popen([env("HLMCTL"), "migrate", "--wait", "--interval", "0.5",
                               A + "/waitc/o2"], env=tool_env(conf), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    # Dispatch only once the request is queued (hlmctl may be slow to
    # start on a loaded machine).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, out, _ = hlmctl("requests", "--json", A + "/waitc/o2", status=0)
        if json.loads(out)["pending"]:
            break
        time.sleep(0.2)
    # The default settings retry: after the first failed attempt the
    # request is still pending, with its attempts and reason, and waited for.
    _, out, _ = run_tool([env("HLM_DISPATCH"), "--once", "--json", "-q"], broken_conf, status=3)
    report = json.loads(out)
    check(report["retrying"] == 1 and report["failed"] == 0, "first attempt: %r" % report)
    _, out, _ = hlmctl("requests", "--json", A + "/waitc/o2", status=0)
    pending = json.loads(out)["pending"]
    check(len(pending) == 1 and pending[0]["attempts"] == 1
          and pending[0]["retry_after"] >= time.time() + 50
          and "dummy connector" in pending[0]["reason"], "pending under retry: %r" % pending)
    _, out, _ = hlmctl("requests", A + "/waitc/o2", status=0)
    check("1 attempt failed, next attempt: " in out and "last reason: " in out,
          "requests under retry: %r" % out)
    time.sleep(1.5)  # three looks at the queue
    check(waiter.poll() is None, "wait ended while the request was to be retried")
    # The last attempt (max_attempts 2, its delay cut by retry_delay_max)
    # moves it to the failed queue: the wait ends with the reason.
    last_conf = write_hlm_conf(os.path.join(work, "broken-last.conf"), object_server_conf=conf_dir,
                               dispatch="max_attempts = 2\nretry_delay_max = 0\n")
    run_tool([env("HLM_DISPATCH"), "--once", "-q"], last_conf, status=3)
    out, err = waiter.communicate(timeout=60)
    out = out.decode()
    check(waiter.returncode == 3 and "1 failed" in out and "reason: after 2 attempts: " in out
          and "dummy connector" in out, "migrate --wait with a failing backend: %d %r %r"
          % (waiter.returncode, out, err))
    print("    " + out.strip().replace("\n", "\n    ")[:400])
    print("hlmctl wait: OK")


if __name__ == "__main__":
    main()
