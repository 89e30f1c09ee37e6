"""Guarded reads on the real test cluster (python/hlm_swift in every object
server's pipeline and as the policies' DiskFile module), with tapesim.

With release = punch: GET (full and three ranges) and HEAD through the proxy
of a resident, a premigrated, a migrated, a partly migrated (one replica
recalled, two migrated) and an empty migrated object: every body is the
uploaded bytes or the answer is 412 with SwiftHLM's message and
X-HLM-State: migrated; nothing is quarantined and the stubs are unchanged.
With release = keep, and with the exec connector's example (state only),
the migrated replicas still hold their bytes and are served; a stub made
by hand, as an HSM makes it, is refused like tapesim's. A mutation check runs the same read check against Swift's object
server without hlm's glue (in this process, on a copy of a stub) and expects
it to fail: zeros under the object's ETag."""

import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, connector_confs, dispatch_once, env,  # noqa: E402
                     fail, hlmctl, run, run_tool, tapesim_confs, write_hlm_conf)
from support import object_states  # noqa: E402
from stubs import (no_quarantined, punch, replica_files, snapshot,  # noqa: E402
                   ring_placement)

A = "AUTH_test"
SIZE = 300_000
RANGES = (("bytes=0-99", 0, 100), ("bytes=1000-70999", 1000, 71000),
          ("bytes=-500", SIZE - 500, SIZE))
RECALL_MESSAGE = "needs to be RECALL-ed before it can be accessed."


def dispatch(conf):
    report = dispatch_once(conf)
    check(report["failed"] == 0, "dispatch: %r" % report)
    return report


def read_problems(get, name, body):
    """What is wrong with the reads of object `name` (uploaded as `body`):
    `get(method, headers)` returns (status, headers, body). A read may answer
    with the object's bytes, or 412 + X-HLM-State: migrated; nothing else."""
    problems = []
    ranges = RANGES if body else ()  # an empty object has no byte to ask for
    for method, rng in [("GET", None)] + [("GET", r) for r in ranges] + [("HEAD", None)]:
        headers = {"Range": rng[0]} if rng else {}
        status, resp_headers, data = get(method, headers)
        state = {k.lower(): v for k, v in resp_headers.items()}.get("x-hlm-state")
        what = "%s %s%s" % (method, name, " " + rng[0] if rng else "")
        if status == 412:
            if method == "HEAD":
                problems.append("%s: 412 (HEAD must work on migrated objects)" % what)
            elif state != "migrated" or RECALL_MESSAGE.encode() not in data:
                problems.append("%s: 412 without the state header or message: %r %r"
                                % (what, state, data[:200]))
            continue
        if method == "HEAD":
            if status != 200 or state not in ("migrated", "on-disk"):
                problems.append("%s: %d, X-HLM-State %r" % (what, status, state))
            continue
        expected = body[rng[1]:rng[2]] if rng else body
        if status not in (200, 206) or data != expected:
            zeros = data and data.count(0) == len(data)
            problems.append("%s: %d, %d bytes%s, expected %d bytes of the object"
                            % (what, status, len(data), " (all zeros)" if zeros else "",
                               len(expected)))
        elif state != "on-disk":
            problems.append("%s: served, but X-HLM-State is %r" % (what, state))
    return problems


def proxy_get(swift, container, name):
    def get(method, headers):
        return swift.request_full(method, container + "/" + name, headers=headers)
    return get


def expect_reads(swift, container, name, body, migrated):
    problems = read_problems(proxy_get(swift, container, name), name, body)
    check(not problems, "reads of %s:\n  %s" % (name, "\n  ".join(problems)))
    status, headers, data = swift.request_full("GET", container + "/" + name)
    if migrated:
        check(status == 412, "GET of migrated %s: %d" % (name, status))
        print("    GET %s -> 412 X-HLM-State: %s: %s" % (
            name, headers.get("x-hlm-state"), data.decode().strip()))
    else:
        check(status == 200, "GET of %s: %d" % (name, status))


def migrated_but_served(conf, swift, container, name, body):
    """Migrates an object with a backend that keeps its bytes on disk:
    hlmctl status says migrated, and every read is served."""
    hlmctl(conf, "migrate", "%s/%s/%s" % (A, container, name))
    dispatch(conf)
    _, out, _ = hlmctl(conf, "status", "--json", "%s/%s/%s" % (A, container, name))
    check(object_states(out) == {"/%s/%s/%s" % (A, container, name): "migrated"},
          "%s: status %s" % (container, out))
    expect_reads(swift, container, name, body, migrated=False)


def replicas_status(conf, partial):
    """hlmctl status --replicas of the guard container: the partly recalled
    object is premigrated and readable, its recalled replica premigrated and
    the other two migrated; the migrated one is not readable; without
    --replicas the document maps each object to its state only."""
    _, out, _ = hlmctl(conf, "status", "--json", "--replicas", A + "/guard")
    objects = json.loads(out)["objects"]
    part = objects["/%s/guard/partial" % A]
    check(part["state"] == "premigrated" and part["readable"] is True,
          "partly recalled object: %r" % part)
    states = {r["device"]: r["state"] for r in part["replicas"]}
    expected = {p["device"]: "migrated" for p in partial}
    expected[partial[0]["device"]] = "premigrated"
    check(states == expected, "replicas of the partly recalled object: %r, expected %r"
          % (states, expected))
    check(objects["/%s/guard/migrated" % A]["readable"] is False
          and objects["/%s/guard/resident" % A]["readable"] is True,
          "readable of migrated/resident: %r" % objects)
    _, out, _ = hlmctl(conf, "status", "--replicas", A + "/guard/partial")
    line = out.splitlines()[0]
    check(line.startswith("/%s/guard/partial  premigrated  readable  " % A)
          and line.count("=migrated") == 2 and line.count("=premigrated") == 1,
          "status --replicas line: %r" % line)
    _, out, _ = hlmctl(conf, "status", "--json", A + "/guard/partial")
    check(json.loads(out)["objects"] == {"/%s/guard/partial" % A: "premigrated"},
          "status --json without --replicas: %s" % out)


def recall_one_replica(info, conf_dir, obj, device, node):
    """hlm-handler recall of one replica only (the others stay migrated)."""
    doc = {"request": "recall", "objects": [{"object": obj, "device": device}],
           "storage_policy_index": 0, "swift_dir": info["swift_dir"]}
    conf = os.path.join(conf_dir, "%d.conf" % node)
    run([env("HLM_HANDLER"), "--object-server-conf", conf],
        json.dumps(doc).encode(), check_status=0)


def unguarded_check(info, stub_dir, name, body):
    """The mutation check: the same read check against Swift's own object
    server and DiskFile (no hlm_swift) over a copy of `name`'s stub must
    find zeros. Runs in a child: it loads Swift pointed at the cluster."""
    code = r"""
import json, os, sys
sys.path.insert(0, %(saio)r)
import saio
saio.use_swift_conf(%(etc)r)
from swift.common.storage_policy import POLICIES
from swift.common.swob import Request
from swift.obj.server import ObjectController
for p in POLICIES:
    p.diskfile_module = 'egg:swift#replication.fs'   # Swift's own DiskFile
app = ObjectController({'devices': %(devices)r, 'mount_check': 'false',
                        'swift_dir': %(etc)r})
out = []
for method, headers in json.loads(sys.stdin.read()):
    req = Request.blank(%(path)r, method=method, headers=dict(
        headers, **{'X-Backend-Storage-Policy-Index': '0'}))
    resp = req.get_response(app)
    out.append([resp.status_int, dict(resp.headers), resp.body.hex()])
print(json.dumps(out))
"""
    device, part_path = stub_dir
    calls = [("GET", {})] + [("GET", {"Range": r[0]}) for r in RANGES] + [("HEAD", {})]
    code = code % {"saio": env("HLM_SAIO_TOOLS"), "etc": info["swift_dir"],
                   "devices": os.path.dirname(device),
                   "path": "/%s/%s/%s/guard/%s" % (os.path.basename(device), part_path, A, name)}
    proc = subprocess.run([env("HLM_PYTHON"), "-c", code], input=json.dumps(calls).encode(),
                          capture_output=True, timeout=120)
    if proc.returncode != 0:
        fail("in-process object server: %s" % proc.stderr.decode()[-2000:])
    answers = iter(json.loads(proc.stdout))

    def get(method, headers):
        status, resp_headers, data = next(answers)
        return status, resp_headers, bytes.fromhex(data)
    return read_problems(get, name, body)


def main():
    info = cluster()
    work = os.path.join(info["dir"], "guard-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    swift = Swift()
    bodies = {}

    def upload(container, names, size=SIZE):
        swift.put_container(container)
        for name in names:
            bodies[name] = hashlib.sha256(name.encode()).digest() * (size // 32 + 1)
            bodies[name] = bodies[name][:size]
            swift.put_object(container, name, bodies[name])

    # --- release = punch -------------------------------------------------
    conf_dir, _ = tapesim_confs(info, os.path.join(work, "punch"),
                                {"release": "punch", "cartridge_capacity": "64M"})
    conf = write_hlm_conf(os.path.join(work, "punch.conf"), object_server_conf=conf_dir)
    upload("guard", ["resident", "premigrated", "migrated", "partial"])
    upload("guard", ["empty"], size=0)
    for name in ("premigrated", "migrated", "partial", "empty"):
        hlmctl(conf, "migrate", "%s/guard/%s" % (A, name))
    dispatch(conf)
    hlmctl(conf, "recall", A + "/guard/premigrated")
    dispatch(conf)
    partial = ring_placement(info, "/%s/guard/partial" % A)
    recall_one_replica(info, conf_dir, "/%s/guard/partial" % A, partial[0]["device"],
                       partial[0]["node"])

    stubs = [f for name in ("migrated", "partial", "empty")
             for f in replica_files(info, "/%s/guard/%s" % (A, name))]
    before = snapshot(stubs)
    holes = sum(1 for s in before.values() if not s["on_disk"])
    check(holes == 3 + 2, "stubs with no data on disk: %d, expected 5" % holes)

    for name in ("resident", "premigrated", "partial", "empty"):
        expect_reads(swift, "guard", name, bodies[name], migrated=False)
    for _ in range(5):  # the proxy picks replicas in random order
        expect_reads(swift, "guard", "partial", bodies["partial"], migrated=False)
    replicas_status(conf, partial)
    expect_reads(swift, "guard", "migrated", bodies["migrated"], migrated=True)
    _, headers, _ = swift.request_full("HEAD", "guard/migrated")
    print("    HEAD migrated -> X-HLM-State: %s, Content-Length %s"
          % (headers.get("x-hlm-state"), headers.get("content-length")))

    after = snapshot(stubs)
    check(after == before, "reads changed replicas: %r" % {
        k: (before.get(k), after.get(k)) for k in set(before) | set(after)
        if before.get(k) != after.get(k)})
    no_quarantined(info)

    # The mutation check: without hlm's glue, the same check finds zeros.
    victim = replica_files(info, "/%s/guard/migrated" % A)[0]
    copy_devices = os.path.join(work, "unguarded", "sdz")
    rel = os.path.relpath(victim, os.path.join(info["dir"], "srv"))  # N/node/sdbN/objects/...
    rel = rel.split(os.sep, 3)[3]
    target = os.path.join(copy_devices, rel)
    os.makedirs(os.path.dirname(target))
    run(["cp", "--sparse=always", "--preserve=xattr", victim, target], check_status=0)
    part_path = rel.split(os.sep)[1]
    problems = unguarded_check(info, (copy_devices, part_path), "migrated", bodies["migrated"])
    check(any("all zeros" in p for p in problems),
          "without the guard the read check should find zeros, found: %r" % problems)
    print("    without hlm_swift (mutation check): %s" % problems[0])

    # A stub whose metadata is corrupt: refused with a clear error, and
    # neither hlm's code nor Swift's quarantines it.
    upload("guard", ["corrupt"])
    hlmctl(conf, "migrate", A + "/guard/corrupt")
    dispatch(conf)
    corrupt = replica_files(info, "/%s/guard/corrupt" % A)
    for f in corrupt:
        os.setxattr(f, "user.swift.metadata", b"\x80\x02not a pickle")
    before = snapshot(corrupt)
    status, headers, data = swift.request_full("GET", "guard/corrupt")
    check(status == 412 and headers.get("x-hlm-state") == "migrated"
          and b"cannot be read" in data, "GET of a stub with corrupt metadata: %d %r"
          % (status, data[:300]))
    print("    GET corrupt stub -> 412: %s" % data.decode().strip()[:160])
    status, _, _ = swift.request_full("HEAD", "guard/corrupt")
    check(status == 412, "HEAD of a stub with corrupt metadata: %d" % status)
    check(snapshot(corrupt) == before, "reads changed the corrupt stubs")
    no_quarantined(info)

    # A replica released while a GET streams it: the client gets the
    # object's bytes or a cut-off stream, never zeros.
    upload("guard", ["streamed"], size=24 << 20)
    conn, resp = swift.open_stream("GET", "guard/streamed")
    first = resp.read(1 << 20)
    for f in replica_files(info, "/%s/guard/streamed" % A):
        punch(f)
    rest = b""
    try:
        while True:
            chunk = resp.read(1 << 16)
            if not chunk:
                break
            rest += chunk
    except (http.client.IncompleteRead, ConnectionError) as e:
        rest += getattr(e, "partial", b"")
    conn.close()
    got = first + rest
    check(got == bodies["streamed"][:len(got)], "a GET during release returned bytes that "
          "are not the object's (%d zero bytes in %d)" % (got.count(0), len(got)))
    print("    GET while its replicas were released: %d of %d bytes, all the object's (%s)"
          % (len(got), len(bodies["streamed"]),
             "complete" if len(got) == len(bodies["streamed"]) else "then cut off"))
    no_quarantined(info)

    # --- release = keep: migrated replicas keep their bytes --------------
    conf_dir, _ = tapesim_confs(info, os.path.join(work, "keep"), {"release": "keep"})
    conf = write_hlm_conf(os.path.join(work, "keep.conf"), object_server_conf=conf_dir)
    upload("guard-keep", ["kept"])
    migrated_but_served(conf, swift, "guard-keep", "kept", bodies["kept"])
    no_quarantined(info)

    # The exec connector's example keeps the bytes on disk (state only): its
    # migrated replicas are served. A stub made by an HSM (here: punched by
    # hand, as LTFS DM releases a file) is refused whoever made it.
    example = env("HLM_EXEC_EXAMPLE")
    conf_dir = connector_confs(info, os.path.join(work, "exec"), "exec", lambda server: {
        "command": "%s --state-dir %s" % (example, os.path.join(work, "exec", "state-" + server)),
        "timeout": "30"})
    conf = write_hlm_conf(os.path.join(work, "exec.conf"), object_server_conf=conf_dir)
    upload("guard-exec", ["example", "hsm"])
    migrated_but_served(conf, swift, "guard-exec", "example", bodies["example"])
    for f in replica_files(info, "/%s/guard-exec/hsm" % A):
        punch(f)
    expect_reads(swift, "guard-exec", "hsm", bodies["hsm"], migrated=True)
    no_quarantined(info)

    # Object servers without the guard: hlmctl status and hlm-dispatch say
    # so, once per object server, before a user reads a zero. Their
    # libraries are the punch ones, which hold the migrated object (a
    # recall of an object on disk would queue nothing).
    conf_dir, _ = tapesim_confs(info, os.path.join(work, "unguarded"), {"release": "punch"})
    for name in os.listdir(conf_dir):
        path = os.path.join(conf_dir, name)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("pipeline = healthcheck hlm_guard object-server",
                                 "pipeline = healthcheck object-server")
                    .replace(os.path.join(work, "unguarded", "library"),
                             os.path.join(work, "punch", "library")))
    conf = write_hlm_conf(os.path.join(work, "unguarded.conf"), object_server_conf=conf_dir)
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:  # several rounds: the warning must still come once
        f.write(text.replace("batch_size = 1000", "batch_size = 2"))
    _, _, err = hlmctl(conf, "status", A + "/guard", status=None)
    warnings = [line for line in err.splitlines() if "not guarded" in line]
    check(len(warnings) == len(info["nodes"]) and all(
        line.startswith("hlmctl: warning: node 127.0.0.1: reads of migrated objects on this "
                        "node are not guarded") for line in warnings),
          "hlmctl status on unguarded nodes (several rounds) warned:\n%s" % err)
    print("    " + warnings[0][:150] + " ...")
    _, out, _ = hlmctl(conf, "recall", A + "/guard/migrated")
    check(out.startswith("queued recall "), "the recall is queued: %r" % out)
    _, _, err = run_tool([env("HLM_DISPATCH"), "--once"], conf, status=0)
    warnings = [line for line in err.splitlines() if "not guarded" in line]
    check(len(warnings) == len(info["nodes"])
          and all(line.startswith("hlm-dispatch: warning: node 127.0.0.1:") for line in warnings),
          "hlm-dispatch on unguarded nodes warned:\n%s" % err)
    print("guarded reads on the real cluster: OK")


if __name__ == "__main__":
    main()
