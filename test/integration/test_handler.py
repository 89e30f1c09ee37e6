"""hlm-handler against the real test cluster with the dummy connector:
objects uploaded through the proxy, then status/migrate/recall/status on
every node that holds replicas; every reported file must be a real .data
file of that object on that device (checked with Swift's own
read_metadata). Then the error paths: hostile and malformed input, objects
that are not there, deleted objects."""

import hashlib
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import Swift, check, cluster, env, fail, run  # noqa: E402

from swift.obj.diskfile import read_metadata  # noqa: E402

OBJECTS = ["plain", "dir/sub/obj", "with space", "pct%20and%2F",
           "unicod\u00e9-\u4e2d\u6587", "L" * 600]


def nodes_of(info, account, container, obj, policy):
    _, out, _ = run([env("HLMCTL"), "nodes", "--json", "--swift-dir",
                     info["swift_dir"], "--policy", str(policy),
                     "/".join([account, container, obj])], check_status=0)
    return json.loads(out)


def node_by_port(info, port):
    return next(n for n in info["nodes"] if n["object_port"] == port)


def handler(node, document=None, lines=None, op=None, status=0):
    argv = [env("HLM_HANDLER"), "--object-server-conf", node["object_server_conf"]]
    if op:
        argv.append(op)
    stdin = json.dumps(document).encode() if document is not None else lines
    code, out, err = run(argv, stdin, status)
    return out, err


def check_file(info, node, entry, placement, policy):
    path = entry["file"]
    expected_dir = os.path.join(node["devices"], entry["device"], placement["object_dir"])
    check(path.startswith(expected_dir + "/") and path.endswith(".data"),
          "%s is not a .data file under %s" % (path, expected_dir))
    check(os.path.isfile(path), "%s does not exist" % path)
    with open(path, "rb") as f:
        name = read_metadata(f)["name"]
    check(name == entry["object"], "%s holds %r, not %r" % (path, name, entry["object"]))
    body = ("data of %s" % entry["object"].split("/", 3)[3]).encode()
    check(entry.get("etag") == hashlib.md5(body).hexdigest() and entry.get("size") == len(body),
          "etag/size of %r do not describe its body" % entry)


def main():
    info = cluster()
    swift = Swift()
    account = swift.account
    containers = {0: "hlm-gold", 1: "hlm-silver"}
    swift.put_container("hlm-gold")
    swift.put_container("hlm-silver", "silver")
    for container in containers.values():
        for name in OBJECTS:
            swift.put_object(container, name, ("data of %s" % name).encode())

    # Per policy and node: the objects whose primaries are on that node.
    checked_files = 0
    placements = {}
    for policy, container in containers.items():
        per_node = {}
        for name in OBJECTS:
            placement = nodes_of(info, account, container, name, policy)
            path = "/%s/%s/%s" % (account, container, name)
            placements[path] = placement
            for dev in placement["nodes"]:
                node = node_by_port(info, dev["port"])
                per_node.setdefault(node["index"], []).append(
                    {"object": path, "device": dev["device"]})
        replicas = sum(len(v) for v in per_node.values())
        check(replicas == len(OBJECTS) * (3 if policy == 0 else 2),
              "policy %d: %d replicas placed" % (policy, replicas))

        for op, state in (("status", "resident"), ("migrate", "migrated"),
                          ("status", "migrated"), ("recall", "premigrated"),
                          ("status", "premigrated")):
            for index, objects in per_node.items():
                node = info["nodes"][index - 1]
                # Status documents as SwiftHLM's dispatcher writes them: the
                # policy index as a string, from Swift's container info.
                document = {"request": op, "objects": objects,
                            "storage_policy_index": str(policy) if op == "status" else policy,
                            "swift_dir": info["swift_dir"]}
                out, _ = handler(node, document)
                result = json.loads(out)
                check(result["summary"] == {"objects": len(objects), "ok": len(objects), "failed": 0},
                      "%s on node %d: %r" % (op, index, result["summary"]))
                for entry in result["objects"]:
                    check(entry["status"] == state and entry["error"] is None,
                          "%s on node %d: %r, expected %s" % (op, index, entry, state))
                    check_file(info, node, entry, placements[entry["object"]], policy)
                    checked_files += 1
        print("policy %d: %d replicas through status/migrate/status/recall/status"
              % (policy, replicas))

    # The dummy's state is keyed by file path, in the node's own database.
    node1 = info["nodes"][0]
    rows = sqlite3.connect(node1["hlm_db_path"]).execute(
        "SELECT COUNT(*) FROM objects WHERE state = 'premigrated'").fetchone()[0]
    check(rows > 0, "node 1's dummy database has no premigrated rows")

    # Shell mode: paths on stdin, devices found through the ring.
    gold = "/%s/%s/" % (account, containers[0])
    lines = "".join(gold + name + "\n" for name in OBJECTS[:3]).encode()
    found = 0
    for node in info["nodes"]:
        code, out, _ = run([env("HLM_HANDLER"), "--object-server-conf",
                            node["object_server_conf"], "status"], lines)
        result = json.loads(out)
        for entry in result["objects"]:
            if entry["error"] is None:
                check(entry["status"] == "premigrated", "line mode: %r" % entry)
                found += 1
            else:
                check(entry["error"] == "no primary device of this object is on this node",
                      "line mode: %r" % entry)
        check(code in (0, 1, 3), "line mode exit %d" % code)
    check(found == 3 * 3, "line mode found %d replicas of 3 objects, expected 9" % found)

    # Partial: one object here, one not → exit 3 with a per-object error.
    entry = placements["/%s/%s/%s" % (account, containers[1], OBJECTS[0])]["nodes"][0]
    node = node_by_port(info, entry["port"])
    out, _ = handler(node, {"request": "status", "storage_policy_index": 1, "objects": [
        {"object": "/%s/%s/%s" % (account, containers[1], OBJECTS[0]), "device": entry["device"]},
        {"object": "/%s/%s/no-such-object" % (account, containers[1]), "device": entry["device"]},
        {"object": "/%s/%s/x" % (account, containers[1]), "device": "sdb9"}]}, status=3)
    result = json.loads(out)
    check([e["error"] for e in result["objects"]] ==
          [None, "object is not on this device", "device is not on this node"],
          "partial: %r" % result["objects"])

    # A deleted object is reported as such.
    status, _ = swift.request("DELETE", containers[0] + "/" + OBJECTS[0])
    check(status == 204, "DELETE: %d" % status)
    dev = placements[gold + OBJECTS[0]]["nodes"][0]
    node = node_by_port(info, dev["port"])
    out, _ = handler(node, {"request": "status", "objects": [
        {"object": gold + OBJECTS[0], "device": dev["device"]}]}, status=1)
    check(json.loads(out)["objects"][0]["error"] == "object is deleted on this device",
          "deleted: %s" % out)

    # Hostile and malformed input: a clear message, exit 1, backend untouched.
    db = node1["hlm_db_path"]
    before = sqlite3.connect(db).execute("SELECT file, state FROM objects ORDER BY file").fetchall()
    some = gold + OBJECTS[1]
    bad_inputs = [
        (json.dumps({"request": "migrate", "objects": [
            {"object": some, "device": "sdb1"},
            {"object": some, "device": "../../etc"}]}).encode(), "invalid device name"),
        (json.dumps({"request": "migrate", "objects": [
            {"object": some, "device": "sdb1"}]}).encode()[:-3], "malformed JSON"),
        (b'{"request": "migrate", "objects": [{"object": "/AUTH_test/c"}]}', "is not /account/container/object"),
        (b'{"request": "erase", "objects": []}', "\"request\" must be"),
        (b"not json and no operation", "give an operation"),
    ]
    for stdin, message in bad_inputs:
        out, err = handler(node1, lines=stdin, status=1)
        check(message in err.decode(), "expected %r in stderr, got %r" % (message, err))
        check(err.decode().startswith("hlm-handler: error: "), "stderr format: %r" % err)
        check(out == b"", "no result document on bad input, got %r" % out[:200])
    after = sqlite3.connect(db).execute("SELECT file, state FROM objects ORDER BY file").fetchall()
    check(before == after, "bad input changed the dummy backend's state")
    print("ok: %d replica files verified; error paths leave the backend untouched" % checked_files)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # report, not a traceback-only failure
        fail("%s: %s" % (type(e).__name__, e))
