"""SwiftHLM's HTTP interface on the test cluster's proxy (hlm_swift.interface,
answered by the built hlmctl): the seed README's section 7 walk-through with
its curl commands as written there (only the host differs), the failure and
resubmit included, checked against the bodies SwiftHLM's middleware gives;
then JSON bodies, the request id header, who may ask what, the refusals, a
streamed status of a larger container, and several requests at once."""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stubs import replica_files  # noqa: E402
from support import (Swift, check, cluster, dispatch_once, env,  # noqa: E402
                     write_hlm_conf)

A = "AUTH_test"
ENTRY = r"/\d{14}\.\d{3}/%s/AUTH_test/cont3/0%s"
NONE = '["There are no pending or failed SwiftHLM requests."]'


def curl(command, token, proxy):
    """Runs one of the seed README's curl commands (its host replaced by the
    test proxy) through bash, with $TOKEN set: (HTTP status, body)."""
    command = command.replace("http://zagreb:8080", proxy)
    e = dict(os.environ, TOKEN=token)
    out = subprocess.run(["bash", "-c", command + ' -s -w "\\n%{http_code}"'],
                         capture_output=True, env=e, timeout=120, check=True).stdout.decode()
    body, _, code = out.rpartition("\n")
    print("$ " + command.replace(proxy, "http://zagreb:8080"))
    print("    " + body.strip())
    return int(code), body


def seed_status(objects):
    """SwiftHLM's status body: json.dumps of {object: state}."""
    return json.dumps(objects)


def main():
    info = cluster()
    proxy = info["proxy_url"]
    conf = write_hlm_conf(os.path.join(info["dir"], "http-interface-hlm.conf"),
                          dispatch="max_attempts = 1\n")
    swift = Swift()
    token = swift.token
    swift.put_container("cont3")
    for name in ("obj00", "obj01", "obj02"):
        swift.put_object("cont3", name, b"payload of " + name.encode())
    names = ["/%s/cont3/obj0%d" % (A, i) for i in range(3)]

    def status_is(states, target="cont3"):
        code, body = curl('curl -H "X-Auth-Token: $TOKEN" -X GET '
                          '"http://zagreb:8080/hlm/v1/status/AUTH_test/%s"' % target, token, proxy)
        check(code == 200, "status %s: %d %s" % (target, code, body))
        return body

    def requests_of(target="cont3"):
        code, body = curl('curl -H "X-Auth-Token: $TOKEN" -X GET '
                          '"http://zagreb:8080/hlm/v1/requests/AUTH_test/%s"' % target, token, proxy)
        check(code == 200, "requests %s: %d %s" % (target, code, body))
        return body

    def submit(operation, target="cont3"):
        code, body = curl('curl -H "X-Auth-Token: $TOKEN" -X POST '
                          '"http://zagreb:8080/hlm/v1/%s/AUTH_test/%s"' % (operation, target),
                          token, proxy)
        check(code == 200 and body == "Accepted %s request.\n" % operation,
              "%s %s: %d %r" % (operation, target, code, body))

    # --- section 7, as the README runs it ---
    body = status_is(None, "cont3/obj00")
    check(body == seed_status({names[0]: "resident"}), "status of obj00: %r" % body)
    body = status_is(None)
    check(body == seed_status({n: "resident" for n in names}), "status of cont3: %r" % body)
    submit("migrate", "cont3/obj00")
    body = requests_of("cont3/obj00")
    check(re.fullmatch(r'\["%s--pending"\]' % (ENTRY % ("migrate", "/obj00")), body),
          "pending migrate of obj00: %r" % body)
    dispatch_once(conf)
    check(requests_of("cont3/obj00") == NONE, "no requests after the run")
    body = status_is(None)
    check(body == seed_status({names[0]: "migrated", names[1]: "resident",
                               names[2]: "resident"}), "after one migrate: %r" % body)

    # Migrate the container with the backend unavailable on one node.
    node2_db = info["nodes"][1]["hlm_db_path"]
    shutil.move(node2_db, node2_db + ".aside")
    os.makedirs(node2_db)  # sqlite cannot open a directory
    try:
        submit("migrate")
        body = requests_of()
        check(re.fullmatch(r'\["%s--pending"\]' % (ENTRY % ("migrate", "")), body),
              "pending container migrate: %r" % body)
        failed_id = json.loads(body)[0][:-len("--pending")]
        dispatch_once(conf, status=3)
        states = json.loads(status_is(None))
        check(list(states) == names and "unknown" in states.values(),
              "a replica on the broken node is unknown: %r" % states)
        # The container request keeps exactly its failed objects, each an
        # entry of its own named by the container request's id.
        failed_ids = [failed_id + "/" + n.split("/")[-1] + "--failed"
                      for n in names if states[n] == "unknown"]
        check(requests_of() == json.dumps(failed_ids),
              "the failed objects: %r, not %r" % (requests_of(), failed_ids))
    finally:
        os.rmdir(node2_db)
        shutil.move(node2_db + ".aside", node2_db)

    # Fixed: resubmit; the failed entry is listed after the pending one
    # until the run that succeeds clears both.
    submit("migrate")
    body = json.loads(requests_of())
    check(body[0].endswith("--pending") and body[1:] == failed_ids,
          "pending and failed: %r" % body)
    dispatch_once(conf)
    check(requests_of() == NONE, "a success clears the failed entry")
    check(status_is(None) == seed_status({n: "migrated" for n in names}), "all migrated")
    submit("recall")
    dispatch_once(conf)
    check(requests_of() == NONE, "recall done")
    check(status_is(None) == seed_status({n: "premigrated" for n in names}), "all premigrated")

    # --- hlm's extensions leave those bodies alone ---
    status, headers, data = swift.request_full(
        "POST", "/hlm/v1/migrate/%s/cont3/obj01" % A, b"", {"Accept": "application/json"})
    doc = json.loads(data)
    check(status == 200 and headers.get("x-hlm-request-id") == doc["requests"][0]["id"]
          and re.fullmatch(ENTRY % ("migrate", "/obj01"), doc["requests"][0]["id"]),
          "JSON answer with the request id: %d %r %r" % (status, headers, doc))
    status, headers, data = swift.request_full(
        "GET", "/hlm/v1/requests/%s/cont3" % A, None, {"Accept": "application/json"})
    listed = json.loads(data)
    check(status == 200 and headers["content-type"].startswith("application/json")
          and [p["id"] for p in listed["pending"]] == [doc["requests"][0]["id"]],
          "requests as JSON: %r" % listed)
    dispatch_once(conf)

    # --- who may ask what; nothing is queued for a refused caller ---
    other = Swift("test2:tester2")
    for method, verb in (("POST", "migrate"), ("POST", "recall"), ("GET", "status"),
                         ("GET", "requests")):
        status, _ = other.request(method, "/hlm/v1/%s/%s/cont3" % (verb, A), b"")
        check(status == 403, "another account's %s: %d" % (verb, status))
    code, _ = curl('curl -X POST "http://zagreb:8080/hlm/v1/migrate/AUTH_test/cont3"', "", proxy)
    check(code == 401, "no token: %d" % code)
    check(requests_of() == NONE, "the refused requests queued nothing")
    for path, method, expected, text in (
            ("/hlm/v1/status/.swifthlm/pending-hlm-requests", "GET", 403, "hidden"),
            ("/hlm/v1/requests/.swifthlm/failed-hlm-requests", "GET", 403, "hidden"),
            ("/hlm/v1/status/%s/cont3" % A, "POST", 405, "status takes GET"),
            ("/hlm/v1/migrate/%s/cont3" % A, "GET", 405, "migrate takes POST"),
            ("/hlm/v1/delete/%s/cont3" % A, "POST", 404, "no such SwiftHLM request"),
            ("/hlm/v2/status/%s/cont3" % A, "GET", 404, "no such SwiftHLM request"),
            ("/hlm/v1/status/%s" % A, "GET", 400, "needs /<account>/<container>"),
            ("/hlm/v1/status/%s/nosuch" % A, "GET", 404,
             "/account/container /AUTH_test/nosuch does not exist."),
            ("/hlm/v1/migrate/%s/cont3/nosuch" % A, "POST", 404,
             "Object /AUTH_test/cont3/nosuch does not exist.")):
        status, data = swift.request(method, path, b"" if method == "POST" else None)
        check(status == expected and text in json.loads(data)["error"],
              "%s %s: %d %r" % (method, path, status, data))
    check(requests_of() == NONE, "the refusals queued nothing")

    # --- a larger container streams; several requests at once ---
    swift.put_container("http-many")
    count = 300
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: swift.put_object("http-many", "o%04d" % i, b"x"), range(count)))
    conn, resp = swift.open_stream("GET", "/hlm/v1/status/%s/http-many" % A)
    chunked = resp.getheader("Transfer-Encoding") == "chunked"
    states = json.loads(resp.read())
    conn.close()
    check(resp.status == 200 and chunked and resp.getheader("Content-Length") is None,
          "a container's status is streamed: %d %r" % (resp.status, resp.getheaders()))
    check(len(states) == count and set(states.values()) == {"resident"},
          "every object answered: %d" % len(states))

    # Objects whose replicas are gone: hlmctl reports each replica's error
    # on stderr, far more than a pipe holds, while the proxy streams its
    # stdout; the answer must still come (every object unknown).
    swift.put_container("http-gone")
    gone = 120
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: swift.put_object("http-gone", "g%04d-%s" % (i, "x" * 200), b"x"),
                      range(gone)))
    for i in range(gone):
        for path in replica_files(info, "/%s/http-gone/g%04d-%s" % (A, i, "x" * 200)):
            os.unlink(path)
    t0 = time.monotonic()
    status, data = swift.request("GET", "/hlm/v1/status/%s/http-gone" % A)
    states = json.loads(data)
    check(status == 200 and len(states) == gone and set(states.values()) == {"unknown"},
          "status of objects without replicas: %d, %d objects, %r"
          % (status, len(states), set(states.values())))
    print("    status of %d objects without replicas: %.2f s" % (gone, time.monotonic() - t0))

    def one_status(i):
        status, data = swift.request("GET", "/hlm/v1/status/%s/cont3/obj0%d" % (A, i % 3))
        return status, json.loads(data)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(one_status, range(12)))
    print("    12 status requests, 6 at a time: %.2f s" % (time.monotonic() - t0))
    # obj01 was migrated again above, through the JSON request.
    expected = {names[0]: "premigrated", names[1]: "migrated", names[2]: "premigrated"}
    check(all(s == 200 and d == {names[i % 3]: expected[names[i % 3]]}
              for i, (s, d) in enumerate(answers)),
          "concurrent answers: %r" % answers)

    user_without_cluster(info, conf, swift, names)
    print("ok: section 7 walk-through, failure and resubmit, JSON and request id, "
          "access and refusals, streamed status, concurrency, hlmctl with credentials only")


def user_without_cluster(info, conf, swift, names):
    """hlmctl for a user with Swift credentials and nothing else: only ST_*
    in the environment, HOME empty, no hlm.conf, no rings on its path. It
    takes the proxy's HTTP interface by itself."""
    for path in ("/etc/hlm/hlm.conf", "/etc/swift/container.ring.gz"):
        check(not os.path.exists(path),
              "%s exists: this test needs a host that is not part of a cluster" % path)
    tester = next(u for u in info["users"] if u["user"] == "test:tester")
    user_env = {"PATH": "/usr/bin:/bin", "HOME": "", "ST_AUTH": info["auth_url"],
                "ST_USER": tester["user"], "ST_KEY": tester["key"]}
    work = os.path.join(info["dir"], "user-home")
    os.makedirs(work, exist_ok=True)

    def user(*args, status=0):
        proc = subprocess.run([env("HLMCTL")] + list(args), capture_output=True, env=user_env,
                              cwd=work, timeout=120)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        print("$ hlmctl " + " ".join(args))
        for line in (out + err).strip().splitlines():
            print("    " + line)
        check(proc.returncode == status, "hlmctl %r exited %d, expected %d: %s"
              % (args, proc.returncode, status, err))
        return out, err

    out, err = user("-v", "--debug", "migrate", "AUTH_test/cont3/obj02")
    check("using the proxy's HTTP interface at %s/hlm/v1" % info["proxy_url"] in err,
          "-v names the path: %r" % err)
    check("POST %s/hlm/v1/migrate/AUTH_test/cont3/obj02 -> 200" % info["proxy_url"] in err,
          "--debug shows the request: %r" % err)
    check(swift.token not in out + err and tester["key"] not in out + err,
          "no secret in the output")
    request_id = re.search(r"(/\d{14}\.\d{3}/migrate/AUTH_test/cont3/0/obj02)", out).group(1)
    out, _ = user("requests")
    check("pending  migrate  AUTH_test/cont3/obj02" in out, "the whole account's requests: %r" % out)
    dispatch_once(conf)
    out, _ = user("wait", "--timeout", "30", request_id)
    check("1 requests: 1 done" in out, "wait through the interface: %r" % out)
    out, _ = user("status", "cont3")
    check("/AUTH_test/cont3/obj02  migrated" in out, "a bare container name, own account: %r" % out)
    # One document per run, the wait's result inside.
    waiter = subprocess.Popen([env("HLMCTL"), "recall", "--wait", "--interval", "0.5", "--json",
                               "AUTH_test/cont3/obj02"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=user_env, cwd=work)
    time.sleep(1.5)
    dispatch_once(conf)
    out, err = waiter.communicate(timeout=60)
    doc = json.loads(out)
    check(waiter.returncode == 0 and doc["wait"]["done"] == 1 and len(doc["requests"]) == 1,
          "recall --wait --json: %r %r" % (out, err))
    out, _ = user("--json", "status", "AUTH_test2/cont3", status=1)
    check(json.loads(out)["http_status"] == 403, "another account, as JSON: %r" % out)
    out, _ = user("requests", "--json", "cont3/nosuch", status=1)
    check(json.loads(out)["http_status"] == 403, "cont3/nosuch names account cont3: %r" % out)


if __name__ == "__main__":
    main()
