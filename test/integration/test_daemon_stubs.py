"""Swift's own object daemons over tape stubs, on the real test cluster
(python/hlm_swift as the policies' DiskFile module, sync_method = ssync).

334 objects migrated with tapesim release = punch (1,002 stubs), then on
every node `swift-object-auditor … once` (full pass, then the zero-byte
pass) and `swift-object-replicator … once`: nothing quarantined, every stub
the same before and after (name, size, xattrs, extents), the auditor's
count of replicas it did not read equal to the stubs on the node's disks.
Two replication cases that would move a stub's bytes, with ssync and with
rsync (an rsync daemon on loopback): a replica lost on one primary is not
refilled with a stub's zeros, and a stub on a handoff partition is neither
sent nor deleted. Finally every object recalls and
reads back byte for byte."""

import concurrent.futures
import glob
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, dispatch_once, env, fail, hlmctl,  # noqa: E402
                     tapesim_confs, write_hlm_conf)
from stubs import (hash_dirs, no_quarantined, replica_files,  # noqa: E402
                   snapshot)

A = "AUTH_test"
OBJECTS = 334
NOT_READ = re.compile(r"hlm: object audit \(ALL\) of policy 0: (\d+) migrated replicas not read")


def dispatch(conf):
    report = dispatch_once(conf)
    check(report["failed"] == 0, "dispatch: %r" % report)
    return report


def daemon(info, node, *args):
    """Runs a Swift daemon once on `node`; returns its log (stderr)."""
    proc = subprocess.run(
        [env("HLM_PYTHON"), os.path.join(env("HLM_SAIO_TOOLS"), "swift_daemon.py"),
         "--dir", info["dir"], "--node", str(node)] + list(args),
        capture_output=True, timeout=600)
    log = proc.stderr.decode(errors="replace")
    # Swift logs a traceback (on one line) for the handoff partition that
    # hlm_swift refuses to sync; any other is a failure.
    tracebacks = [line for line in log.splitlines()
                  if "Traceback" in line and "holds tape stub" not in line]
    if proc.returncode != 0 or tracebacks:
        fail("swift_daemon.py %s on node %d exited %d:\n%s"
             % (" ".join(args), node, proc.returncode, log[-3000:]))
    return log


def on_every_node(info, *args):
    """Runs a Swift daemon once on every node at the same time, as each
    node's own daemons would run; returns their logs joined."""
    with concurrent.futures.ThreadPoolExecutor(len(info["nodes"])) as pool:
        return "".join(pool.map(lambda node: daemon(info, node["index"], *args),
                                info["nodes"]))


class RsyncDaemon:
    """An rsync daemon on a free loopback port serving every node's devices
    as module object<object port>, as Swift's rsync replication expects."""

    def __init__(self, info, work):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        conf = os.path.join(work, "rsyncd.conf")
        with open(conf, "w") as f:
            f.write("use chroot = no\npid file = %s/rsyncd.pid\n" % work)
            if os.geteuid() == 0:
                f.write("uid = root\ngid = root\n")
            for node in info["nodes"]:
                f.write("[object%d]\npath = %s\nread only = false\n"
                        % (node["object_port"], node["devices"]))
        self.proc = subprocess.Popen(
            ["rsync", "--daemon", "--no-detach", "--config", conf, "--address", "127.0.0.1",
             "--port", str(self.port), "--log-file", os.path.join(work, "rsyncd.log")])
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            time.sleep(0.05)
        else:
            fail("rsync --daemon did not listen on port %d" % self.port)
        self.module = "rsync://127.0.0.1:%d/object{replication_port}" % self.port

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def remove_replica(hash_dir):
    """Deletes a replica's directory by hand, and the partition's cached
    suffix hashes, so that the replicator notices."""
    shutil.rmtree(hash_dir)
    partition = os.path.dirname(os.path.dirname(hash_dir))
    for name in ("hashes.pkl", "hashes.invalid"):
        try:
            os.unlink(os.path.join(partition, name))
        except FileNotFoundError:
            pass


def all_data_files(info):
    return sorted(glob.glob(os.path.join(info["dir"], "srv", "*", "node", "*", "objects*",
                                         "*", "*", "*", "*.data")))


def main():
    info = cluster()
    work = os.path.join(info["dir"], "daemon-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf_dir, _ = tapesim_confs(info, work, {"release": "punch", "cartridge_capacity": "64M"})
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"), object_server_conf=conf_dir)

    swift = Swift()
    container = "daemon-stubs"
    swift.put_container(container)
    bodies = {}
    for i in range(OBJECTS):
        name = "obj%04d" % i
        bodies[name] = hashlib.sha256(name.encode()).digest() * (1 + i % 64)
        swift.put_object(container, name, bodies[name])
    hlmctl(conf, "migrate", A + "/" + container)
    dispatch(conf)
    ours = [f for n in bodies for f in replica_files(info, "/%s/%s/%s" % (A, container, n))]
    check(len(ours) == 3 * OBJECTS, "replicas: %d" % len(ours))
    files = all_data_files(info)
    before = snapshot(files)
    check(all(not before[f]["on_disk"] for f in ours), "not every replica is a stub")
    stubs = sum(1 for s in before.values() if s and not s["on_disk"])
    print("    %d stubs on the cluster's disks (%d of them this test's)" % (stubs, len(ours)))

    not_read = sum(int(n) for n in NOT_READ.findall(on_every_node(info, "auditor")))
    on_every_node(info, "auditor", "--zero-byte-fps", "1000")
    on_every_node(info, "replicator")
    check(not_read == stubs, "the auditor did not read %d replicas, %d are stubs"
          % (not_read, stubs))
    print("    auditor (full): %d migrated replicas not read, as its log says" % not_read)
    after = snapshot(files)
    changed = [f for f in files if before[f] != after[f]]
    check(not changed, "the daemons changed %d replica files, e.g. %r" % (
        len(changed), [(f, before[f], after[f]) for f in changed[:2]]))
    no_quarantined(info)

    # A replica lost on one primary: replication must not refill it with zeros.
    lost = "/%s/%s/obj0001" % (A, container)
    node, device, lost_dir = hash_dirs(info, lost)[0]
    remove_replica(lost_dir)
    # The control: a resident object's lost replica, which replication does
    # bring back (so the replicator did run, in the mode asked for).
    swift.put_container("daemon-control")
    control_body = b"control" * 1000
    swift.put_object("daemon-control", "obj", control_body)
    control = "/%s/daemon-control/obj" % A
    # A stub on a handoff: the node that is not a primary of another object.
    handed = "/%s/%s/obj0002" % (A, container)
    dirs = hash_dirs(info, handed)
    primaries = {n for n, _, _ in dirs}
    handoff = next(n for n in info["nodes"] if n["index"] not in primaries)
    rel = dirs[0][2].split(os.sep + dirs[0][1] + os.sep, 1)[1]
    handoff_dir = os.path.join(handoff["devices"], handoff["device"], rel)
    os.makedirs(os.path.dirname(handoff_dir))
    subprocess.run(["cp", "-a", "--sparse=always", dirs[0][2], handoff_dir], check=True)
    rsyncd = RsyncDaemon(info, work)
    try:
        for mode, extra in (("ssync", []), ("rsync", ["--rsync-module", rsyncd.module])):
            control_dir = hash_dirs(info, control)[0][2]
            remove_replica(control_dir)
            logs = on_every_node(info, "replicator", *extra)
            check(not glob.glob(os.path.join(lost_dir, "*.data")),
                  "%s refilled a lost stub replica: %r" % (mode, snapshot(
                      glob.glob(os.path.join(lost_dir, "*.data")))))
            check(glob.glob(os.path.join(handoff_dir, "*.data")),
                  "%s deleted a stub from a handoff partition" % mode)
            check("holds tape stub" in logs,
                  "the %s replicator's log does not name the kept stub" % mode)
            refilled = glob.glob(os.path.join(control_dir, "*.data"))
            check(len(refilled) == 1 and open(refilled[0], "rb").read() == control_body,
                  "%s did not bring back a resident replica (control): %r" % (mode, refilled))
            if mode == "rsync":
                check("Successful rsync" in logs, "the replicator did not use rsync")
            kept = [f for f in files if not f.startswith(lost_dir + os.sep)]
            now = snapshot(kept)
            changed = [(f, before[f], now[f]) for f in kept if now[f] != before[f]]
            check(not changed, "%s replication changed %d replica files, e.g. %r" % (
                mode, len(changed), changed[:2]))
            no_quarantined(info)
            print("    replicator (%s): lost replica on node %d not refilled, handoff stub on "
                  "node %d kept" % (mode, node, handoff["index"]))
    finally:
        rsyncd.stop()
    shutil.rmtree(handoff_dir)

    # Everything else is still recallable, byte for byte.
    targets = os.path.join(work, "targets")
    with open(targets, "w") as f:
        f.write("".join("%s/%s/%s\n" % (A, container, n) for n in sorted(bodies)
                        if "/%s/%s/%s" % (A, container, n) != lost))
    hlmctl(conf, "recall", "--copies", "all", "-f", targets)
    dispatch(conf)
    for name in sorted(bodies):
        if "/%s/%s/%s" % (A, container, name) == lost:
            continue
        code, body = swift.request("GET", container + "/" + name)
        check(code == 200 and body == bodies[name], "GET %s after recall: %d" % (name, code))
    no_quarantined(info)
    print("Swift's daemons over tape stubs: OK")


if __name__ == "__main__":
    main()
