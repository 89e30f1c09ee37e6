"""Who may do what, and what never shows, against the real cluster:

* another account's user (test2:tester2) cannot migrate, recall, query the
  status of or list the requests of AUTH_test's container or object: each
  is refused as forbidden before anything is queued and before any storage
  node is asked;
* the v1 key, a Keystone password and auth tokens never appear in hlmctl's
  or hlm-dispatch's output, --json included, on success or failure;
* hlm.conf's [auth] section: used when neither flags nor the environment
  say otherwise, refused while others can read it."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from security_support import marker_handler  # noqa: E402
from support import Swift, check, cluster, env, run_tool, write_hlm_conf  # noqa: E402

A = "AUTH_test"
CONTAINER = "security-access"

NO_CREDENTIALS = {name: "" for name in (
    "ST_AUTH", "ST_USER", "ST_KEY", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD",
    "OS_PROJECT_NAME", "OS_AUTH_TOKEN", "OS_STORAGE_URL", "ST_AUTH_VERSION", "OS_AUTH_VERSION")}


def user(info, name):
    return next(u for u in info["users"] if u["user"] == name)


def as_user(info, name):
    entry = user(info, name)
    return {"ST_USER": entry["user"], "ST_KEY": entry["key"]}


def pending_of(conf):
    """The owner's view of the requests for the container."""
    _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", A + "/" + CONTAINER], conf, status=0)
    return json.loads(out)


def cross_account(info, conf, marker):
    other = as_user(info, "test2:tester2")
    before = pending_of(conf)
    commands = [
        ["migrate", A + "/" + CONTAINER],
        ["migrate", "--json", A + "/" + CONTAINER + "/o1"],
        ["recall", A + "/" + CONTAINER],
        ["recall", A + "/" + CONTAINER + "/o1"],
        ["status", A + "/" + CONTAINER],
        ["status", "--json", A + "/" + CONTAINER + "/o1"],
        ["requests", A + "/" + CONTAINER],
        ["requests", "--json", A + "/" + CONTAINER + "/o1"],
        ["wait", "--timeout", "1", A + "/" + CONTAINER],
        ["wait", "--timeout", "1", "/20260101000000.000/migrate/%s/%s/0/o1" % (A, CONTAINER)],
    ]
    for argv in commands:
        code, out, err = run_tool([env("HLMCTL")] + argv, conf, env_overrides=other)
        check(code == 1, "test2 %r: exit %d, expected 1\n%s" % (argv, code, err))
        check("403 Forbidden" in err and "/v1/AUTH_test/" + CONTAINER in err,
              "test2 %r: says forbidden: %r" % (argv, err))
        if "--json" in argv and argv[0] == "migrate":
            check(json.loads(out)["requests"][0]["http_status"] == 403, "migrate --json: %s" % out)
        if argv[0] in ("status", "requests") and "--json" not in argv:
            check(out == "", "test2 %r: refused, yet wrote to stdout: %r" % (argv, out))
        elif argv[0] in ("status", "requests"):
            # Under --json the run's one document is the error, nothing more.
            doc = json.loads(out)
            check(set(doc) == {"error", "http_status"} and doc["http_status"] == 403,
                  "test2 %r: refused, stdout is not just the error: %r" % (argv, out))
    check(pending_of(conf) == before, "test2 changed the queue: %r" % pending_of(conf))
    check(not os.path.exists(marker), "test2's status reached a storage node")

    # The owner, and the cluster admin, may.
    run_tool([env("HLMCTL"), "status", A + "/" + CONTAINER], conf, status=0)
    check(os.path.exists(marker), "the owner's status asks the nodes")
    os.unlink(marker)
    admin = as_user(info, "admin:admin") if any(
        u["user"] == "admin:admin" for u in info["users"]) else None
    if admin:
        run_tool([env("HLMCTL"), "requests", A + "/" + CONTAINER], conf, status=0,
                 env_overrides=admin)
    print("cross-account: %d commands refused as forbidden, queue unchanged, no node asked"
          % len(commands))


def secrets(info, conf, swift):
    tester = user(info, "test:tester")
    outputs = []

    def run(argv, status, overrides=None):
        code, out, err = run_tool(argv, conf, env_overrides=overrides)
        check(status is None or code == status,
              "%r: exit %d, expected %s\n%s" % (argv, code, status, err))
        outputs.append((argv, out + err))
        return code, out, err

    # A wrong v1 key.
    wrong_key = "Wr0ngK3y-%d-never-shown" % os.getpid()
    _, _, err = run([env("HLMCTL"), "status", "--json", A + "/" + CONTAINER], 1,
                    {"ST_KEY": wrong_key})
    check("authentication failed for user \"test:tester\"" in err, "wrong key: %r" % err)
    run([env("HLMCTL"), "migrate", "--json", A + "/" + CONTAINER], 1,
        {"ST_KEY": wrong_key})
    run([env("HLMCTL"), "migrate", "--key", wrong_key, A + "/" + CONTAINER], 1)

    # A wrong Keystone password (the proxy is no Keystone: refused all the same).
    password = "Hunt3r2-%d-never-shown" % os.getpid()
    keystone = dict(NO_CREDENTIALS, OS_AUTH_URL=info["auth_url"].rsplit("/", 2)[0] + "/v3",
                    OS_USERNAME="demo", OS_PASSWORD=password, OS_PROJECT_NAME="demo")
    run([env("HLMCTL"), "status", "--json", A + "/" + CONTAINER], 1, keystone)
    run([env("HLMCTL"), "requests", "--os-password", password, A + "/" + CONTAINER], 1,
        dict(keystone, OS_PASSWORD=""))

    # Valid tokens: test2's on test's container (403), a bogus one (401),
    # the owner's on an object that does not exist (404) and on success.
    test2 = Swift("test2:tester2")
    bogus = "AUTH_tk%032x" % os.getpid()
    for token, url, status in ((test2.token, swift.url, 1), (bogus, swift.url, 1)):
        given = dict(NO_CREDENTIALS, OS_AUTH_TOKEN=token, OS_STORAGE_URL=url)
        run([env("HLMCTL"), "status", "--json", A + "/" + CONTAINER], status, given)
        run([env("HLMCTL"), "migrate", "--json", A + "/" + CONTAINER], status, given)
        run([env("HLMCTL"), "requests", "--json", A + "/" + CONTAINER], status, given)
    given = dict(NO_CREDENTIALS, OS_AUTH_TOKEN=swift.token, OS_STORAGE_URL=swift.url)
    run([env("HLMCTL"), "status", "--json", A + "/" + CONTAINER + "/no-such-object"], 1, given)
    run([env("HLMCTL"), "status", "--json", A + "/" + CONTAINER], 0, given)
    run([env("HLMCTL"), "migrate", "--json", A + "/" + CONTAINER], 0, given)
    run([env("HLMCTL"), "requests", "--json", A + "/" + CONTAINER], 0, given)
    # hlm-dispatch needs no credentials; with every secret in its
    # environment it shows none either.
    everything = dict(given, ST_KEY=tester["key"], OS_PASSWORD=password)
    run([env("HLM_DISPATCH"), "--once", "--json"], None, everything)
    run([env("HLM_DISPATCH"), "--once"], None, everything)
    run([env("HLMCTL"), "wait", "--json", "--timeout", "30", A + "/" + CONTAINER], 0, given)

    for secret in (wrong_key, password, test2.token, bogus, swift.token):
        for argv, text in outputs:
            check(secret not in text, "secret %r... shown by %r: %r" % (secret[:6], argv, text))
    print("secrets: %d runs, none shows a key, password or token" % len(outputs))


def auth_section(info, work):
    tester = user(info, "test:tester")

    def conf_with(name, key, mode):
        path = write_hlm_conf(os.path.join(work, name), extra="[auth]\nauth_url = %s\nuser = %s\n"
                              "key = %s\n" % (info["auth_url"], tester["user"], key))
        os.chmod(path, mode)
        return path

    right = conf_with("auth-right.conf", tester["key"], 0o600)
    wrong_key = "Wr0ngC0nfK3y-%d" % os.getpid()
    wrong = conf_with("auth-wrong.conf", wrong_key, 0o640)
    requests = [env("HLMCTL"), "requests", A + "/" + CONTAINER]
    # From the file alone.
    run_tool(requests, right, status=0, env_overrides=NO_CREDENTIALS)
    # The environment beats the file, a flag beats both.
    run_tool(requests, wrong, status=0)
    _, _, err = run_tool(requests, right, status=1, env_overrides={"ST_KEY": wrong_key})
    check("authentication failed" in err, "the environment's key won: %r" % err)
    run_tool(requests + ["--key", tester["key"]], wrong, status=0,
             env_overrides={"ST_KEY": wrong_key})
    _, _, err = run_tool(requests, wrong, status=1, env_overrides=NO_CREDENTIALS)
    check("authentication failed" in err and wrong_key not in err, "the file's key: %r" % err)

    # Readable by others: refused by every tool that loads it, secret unshown.
    readable = conf_with("auth-readable.conf", tester["key"], 0o644)
    expected = ('%s: [auth] holds secrets (key) but others may read the file (mode 0644); '
                'chmod o-rwx "%s"' % (readable, readable))
    for argv in (requests, [env("HLMCTL"), "status", A + "/" + CONTAINER],
                 [env("HLM_DISPATCH"), "--once"]):
        code, out, err = run_tool(argv, readable, env_overrides=NO_CREDENTIALS)
        check(code == 1 and expected in err, "%r with a readable [auth]: %d %r" % (argv, code, err))
        check(tester["key"] not in out + err or tester["key"] in readable, "key shown: %r" % err)
    os.chmod(readable, 0o640)
    run_tool(requests, readable, status=0, env_overrides=NO_CREDENTIALS)
    print("[auth]: file < environment < flags; a world-readable file is refused")


def main():
    info = cluster()
    work = os.path.join(info["dir"], "security-access")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    swift = Swift()
    swift.put_container(CONTAINER)
    for name in ("o1", "o2"):
        swift.put_object(CONTAINER, name, name.encode())
    marker = os.path.join(work, "handler-ran")
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"))
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace("handler = " + env("HLM_HANDLER"), "handler = " + marker_handler(
            os.path.join(work, "marker-handler"), marker)))

    cross_account(info, conf, marker)
    secrets(info, conf, swift)
    auth_section(info, work)
    print("ok")


if __name__ == "__main__":
    main()
