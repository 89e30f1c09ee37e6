"""hlm::swift::Client against the real test cluster, through
swift_client_tool (test/integration/swift_client/main.cpp): tempauth v1 and
given tokens, containers with a storage policy, objects with hostile names
cross-checked with an independent client (support.Swift), paged listings,
404/403/401/409 handling, and no token in any error output."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import Swift, check, cluster, env, fail  # noqa: E402

import subprocess  # noqa: E402

HOSTILE_NAMES = [
    "caf\u00e9 \u20ac \U0001F4FC",
    "dir/sub/file",
    "/leading/and/trailing/",
    "percent %25 %zz %",
    "question?mark=1&x=2",
    "hash#fragment",
    "  spaces  ",
    "new\nline\ttab",
    "../dots/./here/..",
    "a//b",
    "+plus+",
]


def credentials(user="test:tester"):
    info = cluster()
    entry = next(u for u in info["users"] if u["user"] == user)
    e = dict(os.environ)
    for name in list(e):
        if name.startswith("OS_") or name.startswith("ST_"):
            del e[name]
    e.update({"ST_AUTH": info["auth_url"], "ST_USER": entry["user"], "ST_KEY": entry["key"]})
    return e


def tool(args, env_vars=None, stdin=b"", status=0):
    """Runs swift_client_tool; returns (parsed stdout, stderr)."""
    proc = subprocess.run([env("HLM_SWIFT_CLIENT_TOOL")] + args, input=stdin,
                          capture_output=True, timeout=300,
                          env=env_vars if env_vars is not None else credentials())
    if proc.returncode != status:
        fail("swift_client_tool %r exited %d, expected %d\nstdout: %s\nstderr: %s" % (
            args, proc.returncode, status, proc.stdout.decode(errors="replace")[:3000],
            proc.stderr.decode(errors="replace")[:3000]))
    return json.loads(proc.stdout.decode()), proc.stderr.decode()


def expect_error(args, status, env_vars=None):
    out, err = tool(args, env_vars, status=1)
    check(out["kind"] == "swift" and out["status"] == status,
          "%r: expected SwiftError %d, got %r" % (args, status, out))
    check(err.startswith("swift_client_tool: error: "), "stderr: %r" % err)
    return out, err


def test_auth():
    out, _ = tool(["auth"])
    check(out["account"] == "AUTH_test", "account: %r" % out)
    check(out["storage_url"] == cluster()["proxy_url"] + "/v1/AUTH_test", "storage URL: %r" % out)

    bad = credentials()
    bad["ST_KEY"] = "wrong-key"
    out, err = expect_error(["auth"], 401, bad)
    check('authentication failed for user "test:tester"' in out["error"], out["error"])
    check("wrong-key" not in err + out["error"], "key leaked: %r" % err)

    missing = credentials()
    del missing["ST_KEY"]
    out, _ = tool(["auth"], missing, status=1)
    check(out["kind"] == "config" and "ST_KEY (--key)" in out["error"], "missing key: %r" % out)


def test_containers(container):
    check(tool(["head-container", "AUTH_test", container])[0] is None, "container exists already")
    tool(["put-container", "AUTH_test", container, "X-Storage-Policy:silver"])
    info, _ = tool(["head-container", "AUTH_test", container])
    check(info["storage_policy"] == "silver", "policy: %r" % info)
    status, _ = Swift().request("HEAD", container)
    check(status == 204, "independent HEAD: %d" % status)
    # Same policy again: 202; another policy: 409.
    tool(["put-container", "AUTH_test", container, "X-Storage-Policy:silver"])
    expect_error(["put-container", "AUTH_test", container, "X-Storage-Policy:gold"], 409)


def test_objects(container):
    swift = Swift()
    for index, name in enumerate(HOSTILE_NAMES):
        body = ("body %d of %s" % (index, name)).encode()
        out, _ = tool(["put-object", "AUTH_test", container, name], stdin=body)
        info, _ = tool(["head-object", "AUTH_test", container, name])
        check(info["etag"] == out["etag"] and info["content_length"] == len(body),
              "%r: head %r after put %r" % (name, info, out))
        got, _ = tool(["get-object", "AUTH_test", container, name])
        check(got["body"].encode() == body, "%r: get %r" % (name, got))
        status, theirs = swift.request("GET", container + "/" + name)
        check(status == 200 and theirs == body, "%r: independent GET %d %r" % (name, status, theirs))

    empty, _ = tool(["put-object", "AUTH_test", container, "empty"], stdin=b"")
    check(empty["etag"] == "d41d8cd98f00b204e9800998ecf8427e", "empty etag: %r" % empty)
    check(tool(["get-object", "AUTH_test", container, "empty"])[0]["body"] == "", "empty body")

    listing, _ = tool(["list", "AUTH_test", container])
    names = [e["name"] for e in listing["entries"]]
    expected = sorted(HOSTILE_NAMES + ["empty"], key=lambda n: n.encode())
    check(names == expected, "listing %r != %r" % (names, expected))

    expect_error(["delete-container", "AUTH_test", container], 409)
    for name in HOSTILE_NAMES + ["empty"]:
        check(tool(["delete-object", "AUTH_test", container, name])[0]["deleted"] is True, name)
        check(tool(["head-object", "AUTH_test", container, name])[0] is None, name)
        check(tool(["get-object", "AUTH_test", container, name])[0] is None, name)
        check(tool(["delete-object", "AUTH_test", container, name])[0]["deleted"] is False, name)


def test_paged_listing(container):
    swift = Swift()
    swift.put_container(container)
    names = ["obj-%02d-\u00e9/x?#%%" % i for i in range(25)]
    for name in names:
        swift.put_object(container, name, name.encode())
    listing, _ = tool(["list", "AUTH_test", container, "10"])
    check([e["name"] for e in listing["entries"]] == names, "paged listing names")
    check(listing["requests"] == 3, "pages: %d" % listing["requests"])
    markers = [q.split("marker=")[1] if "marker=" in q else "" for q in listing["queries"]]
    check(markers[0] == "" and len(markers) == 3, "queries: %r" % listing["queries"])
    check(listing["entries"][3]["bytes"] == len(names[3].encode())
          and len(listing["entries"][3]["hash"]) == 32, "entry: %r" % listing["entries"][3])

    listing, _ = tool(["list", "AUTH_test", container, "10", "obj-1"])
    check([e["name"] for e in listing["entries"]] == names[10:20], "prefix listing")
    check(listing["requests"] == 2, "prefix pages: %d" % listing["requests"])
    listing, _ = tool(["list", "AUTH_test", container, "5", "", names[4], names[9]])
    check([e["name"] for e in listing["entries"]] == names[5:9], "marker/end_marker listing")

    containers, _ = tool(["list-containers", "AUTH_test", "1"])
    check(container in [e["name"] for e in containers["entries"]], "list-containers")

    for name in names:
        tool(["delete-object", "AUTH_test", container, name])
    check(tool(["delete-container", "AUTH_test", container])[0]["deleted"] is True, "delete container")
    check(tool(["delete-container", "AUTH_test", container])[0]["deleted"] is False, "delete again")


def test_not_found_and_forbidden(container):
    check(tool(["head-container", "AUTH_test", container + "-none"])[0] is None, "404 container")
    check(tool(["head-object", "AUTH_test", container + "-none", "o"])[0] is None, "404 object")
    expect_error(["list", "AUTH_test", container + "-none"], 404)

    other = credentials("test2:tester2")
    out, _ = tool(["auth"], other)
    check(out["account"] == "AUTH_test2", "test2 account: %r" % out)
    out, _ = expect_error(["head-container", "AUTH_test", container], 403, other)
    check("/v1/AUTH_test/" in out["error"], out["error"])
    expect_error(["list", "AUTH_test", container], 403, other)
    expect_error(["get-object", "AUTH_test", container, "o"], 403, other)


def test_given_token(container):
    tester = Swift()
    given = dict(credentials())
    for name in ("ST_AUTH", "ST_USER", "ST_KEY"):
        del given[name]
    given.update({"OS_AUTH_TOKEN": tester.token, "OS_STORAGE_URL": tester.url})
    info, _ = tool(["head-container", "AUTH_test", container], given)
    check(info is not None and info["storage_policy"] == "silver", "token mode: %r" % info)

    # test2's valid token on test's account: 403, and neither output shows it.
    test2 = Swift("test2:tester2")
    given.update({"OS_AUTH_TOKEN": test2.token, "OS_STORAGE_URL": test2.url})
    out, err = expect_error(["head-container", "AUTH_test", container], 403, given)
    check(test2.token not in err and test2.token not in json.dumps(out), "token leaked")

    given["OS_AUTH_TOKEN"] = "AUTH_tkbogus0123456789"
    out, err = expect_error(["head-container", "AUTH_test", container], 401, given)
    check("tkbogus" not in err + json.dumps(out), "bogus token leaked")


def main():
    cluster()
    container = "swiftclient-%d" % os.getpid()
    test_auth()
    test_containers(container)
    test_objects(container)
    test_not_found_and_forbidden(container)
    test_given_token(container)
    check(tool(["delete-container", "AUTH_test", container])[0]["deleted"] is True, "cleanup")
    test_paged_listing(container + "-pages")
    print("ok")


if __name__ == "__main__":
    main()
