"""A lost replica comes back from tape: objects of several sizes (a 0-byte
one included: its header is on tape, so it is rebuilt like any other)
migrated to tapesim with release = punch; one replica's .data file removed
by hand for three of them, and for another every replica's file with its
hash directory. hlmctl status says migrated with the stub missing on
those devices; a recall rebuilds each file at its old path under its old
name, byte-identical, with the same xattrs; Swift's own swift-object-info
reads it and finds its ETag valid, and the proxy serves the object. A tape
copy corrupted on purpose fails its rebuild loudly and leaves no file."""

import hashlib
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, hlmctl, run,  # noqa: E402
                     tapesim_confs, tapesim_query, write_hlm_conf)
from support import object_states  # noqa: E402

A = "AUTH_test"
CONTAINER = "tapesim-rebuild"


def swift_xattrs(path):
    return {name: os.getxattr(path, name) for name in os.listxattr(path)
            if name.startswith("user.swift.")}


def device_of(path):
    """sdbN of <devices>/<device>/objects/<part>/<suffix>/<hash>/<file>."""
    return path.split(os.sep)[-6]


def main():
    info = cluster()
    work = os.path.join(info["dir"], "tapesim-rebuild-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf_dir, libraries = tapesim_confs(info, work, {"cartridge_capacity": "4M",
                                                     "release": "punch"})
    # One attempt: the corrupt copy's failure reaches the failed queue at once.
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"), object_server_conf=conf_dir,
                          dispatch="max_attempts = 1\n")

    swift = Swift()
    swift.put_container(CONTAINER)
    sizes = {"empty": 0, "small": 1000, "large": 1_500_000, "gone": 20_000, "corrupt": 5000}
    bodies = {}
    for name, size in sizes.items():
        body = hashlib.sha256(name.encode()).digest() * (size // 32 + 1)
        bodies[name] = body[:size]
        swift.put_object(CONTAINER, name, bodies[name])
    path_of = {name: "/%s/%s/%s" % (A, CONTAINER, name) for name in sizes}

    hlmctl(conf, "migrate", A + "/" + CONTAINER)
    report = dispatch_once(conf)
    check(report["completed"] == 1 and report["failed"] == 0, "migrate: %r" % report)

    # Every replica's file, from the libraries' indexes: name → [(lib, file)].
    replicas = {}
    for name, path in path_of.items():
        replicas[name] = sorted((lib, row[0]) for lib in libraries for row in tapesim_query(
            lib, "SELECT file FROM objects WHERE object = ?", (path,)))
        check(len(replicas[name]) == 3, "%s: %d replicas on tape" % (name, len(replicas[name])))
    before = {file: swift_xattrs(file) for name in sizes for _, file in replicas[name]}
    check(all("user.swift.metadata" in x and "user.swift.metadata_checksum" in x
              for x in before.values()), "Swift xattrs missing: %r" % list(before.values())[0])

    # Lose files: one replica of empty, small, large and corrupt; every
    # replica of gone, hash directories included.
    lost = {}  # file → its object's name
    for name in ("empty", "small", "large", "corrupt"):
        _, file = replicas[name][0]
        os.unlink(file)
        lost[file] = name
    for _, file in replicas["gone"]:
        shutil.rmtree(os.path.dirname(file))
        lost[file] = "gone"
    # Corrupt the tape copy of corrupt's lost replica (a data byte).
    lib, file = replicas["corrupt"][0]
    cartridge, position = tapesim_query(lib, "SELECT cartridge, position FROM objects WHERE file = ?",
                                (file,))[0]
    with open(os.path.join(lib, "cartridges", cartridge), "r+b") as f:
        f.seek(position + 10)
        byte = f.read(1)
        f.seek(position + 10)
        f.write(bytes([byte[0] ^ 0xFF]))

    # Status: migrated, and where the stub is missing.
    _, out, _ = hlmctl(conf, "status", A + "/" + CONTAINER)
    print("    " + out.replace("\n", "\n    ").rstrip())
    for name in sizes:
        devices = sorted(device_of(f) for f, n in lost.items() if n == name)
        line = next((l for l in out.splitlines() if l.startswith(path_of[name] + "  ")), "")
        match = re.fullmatch(re.escape(path_of[name])
                             + r"  migrated(?: \(stub missing on (.*): recall rebuilds it\))?", line)
        shown = sorted(match.group(1).split(", ")) if match and match.group(1) else []
        check(match and shown == devices,
              "status line of %s: %r, stubs missing on %r" % (name, line, devices))
    _, out, _ = hlmctl(conf, "status", "--json", A + "/" + CONTAINER)
    document = json.loads(out)
    check(document["summary"]["stubs_missing"] == 5
          and {e["object"] for e in document["stubs_missing"]} == set(path_of.values()),
          "status --json: %r" % document)

    # Recall: everything but the corrupt copy is rebuilt.
    hlmctl(conf, "recall", "--copies", "all", A + "/" + CONTAINER)
    report = dispatch_once(conf, status=3)
    check(report["failed"] == 1, "recall: %r" % report)
    _, out, _ = hlmctl(conf, "requests", "--json", A + "/" + CONTAINER)
    failed = json.loads(out)["failed"]
    check(len(failed) == 1 and "checksum mismatch" in failed[0]["reason"]
          and device_of(replicas["corrupt"][0][1]) in failed[0]["reason"],
          "failed entry: %r" % failed)
    print("    failed entry reason: " + failed[0]["reason"][:400])

    for file, name in lost.items():
        if name == "corrupt":
            check(not os.path.exists(file), "corrupt copy rebuilt anyway: %s" % file)
            tmp = os.path.join(file.split("/objects/")[0], "tmp")
            leftovers = os.listdir(tmp) if os.path.isdir(tmp) else []
            check(not [n for n in leftovers if n.startswith(".hlm-rebuild")],
                  "temporary files left in %s: %r" % (tmp, leftovers))
            continue
        check(os.path.isfile(file), "%s: %s not rebuilt" % (name, file))
        with open(file, "rb") as f:
            check(f.read() == bodies[name], "%s: rebuilt bytes differ in %s" % (name, file))
        check(swift_xattrs(file) == before[file], "%s: xattrs of %s differ" % (name, file))
        status, out, err = run(["/usr/bin/python3", "/usr/bin/swift-object-info",
                                "-d", info["swift_dir"], file])
        out = out.decode(errors="replace")
        check(status == 0 and ("Path: " + path_of[name]) in out
              and "ETag: %s (valid)" % hashlib.md5(bodies[name]).hexdigest() in out,
              "swift-object-info %s: exit %d\n%s\n%s" % (file, status, out,
                                                          err.decode(errors="replace")))
    print("    rebuilt %d files; swift-object-info reads each"
          % sum(1 for n in lost.values() if n != "corrupt"))

    st = json.loads(hlmctl(conf, "status", "--json", A + "/" + CONTAINER, status=None)[1])
    for name in ("empty", "small", "large", "gone"):
        check(object_states(st)[path_of[name]] == "premigrated",
              "%s after recall: %r" % (name, object_states(st)[path_of[name]]))
    for name in sizes:
        code, body = swift.request("GET", CONTAINER + "/" + name)
        check(code == 200 and body == bodies[name],
              "GET %s: %d, %d bytes, expected %d" % (name, code, len(body), len(bodies[name])))
    print("tapesim rebuild on the real cluster: OK")


if __name__ == "__main__":
    main()
