#!/usr/bin/python3
"""Fills a container of a test cluster (test/saio/saio.py) with COUNT
zero-byte objects without uploading them: rows are merged into every replica
of the container's database with Swift's own ContainerBroker, and each
object's replicas are written where the object ring puts them as zero-byte
.data files carrying Swift's metadata (swift.obj.diskfile.write_metadata).
Uploading through the proxy runs at about 60 objects/s on a 2-CPU machine;
this runs at thousands per second, so the benchmarks can use containers of a
million objects.

The container must exist (PUT it through the proxy first, so the account
lists it). Objects are named PREFIX%08d, padded with "x" to --name-bytes.
The files are not fsynced and no suffix hashes are invalidated: the
benchmarks read them, the replicator does not need to.

  /usr/bin/python3 bench/fill.py SAIO_DIR ACCOUNT CONTAINER COUNT
      [--start N] [--name-bytes B] [--prefix P] [--procs P] [--lists DIR]

--lists DIR writes DIR/<device>.objects: the "/account/container/object"
line of every object that has a replica on that device (hlm-handler's input).
"""

import argparse
import glob
import multiprocessing
import os
import sys
import time

os.environ["EVENTLET_NO_GREENDNS"] = "yes"
from swift.common import utils  # noqa: E402
from swift.common.ring import Ring  # noqa: E402
from swift.common.utils import Timestamp, hash_path  # noqa: E402
from swift.container.backend import ContainerBroker  # noqa: E402
from swift.obj.diskfile import write_metadata  # noqa: E402

ETAG_EMPTY = "d41d8cd98f00b204e9800998ecf8427e"  # MD5 of b""
ROWS_PER_MERGE = 10000
CHUNK = 2000


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("saio")
    p.add_argument("account")
    p.add_argument("container")
    p.add_argument("count", type=int)
    p.add_argument("--start", type=int, default=0, help="first object number")
    p.add_argument("--prefix", default="obj")
    p.add_argument("--name-bytes", type=int, default=0,
                   help="pad each name with 'x' to this many bytes")
    p.add_argument("--procs", type=int, default=4)
    p.add_argument("--lists", help="write per-device object lists here")
    return p.parse_args()


def object_name(args, i):
    name = "%s%08d" % (args.prefix, i)
    return name + "x" * max(0, args.name_bytes - len(name))


def devices(saio):
    return {os.path.basename(d): d
            for d in glob.glob(os.path.join(saio, "srv", "*", "node", "*"))}


def container_brokers(etc, devs, account, container):
    """Every replica of the container's database, found through the ring."""
    ring = Ring(etc, ring_name="container")
    part, nodes = ring.get_nodes(account, container)
    digest = hash_path(account, container)
    brokers = []
    for node in nodes:
        path = os.path.join(devs[node["device"]], "containers", str(part), digest[-3:],
                            digest, digest + ".db")
        if not os.path.exists(path):
            sys.exit("fill.py: %s/%s has no database at %s: create the container first"
                     % (account, container, path))
        brokers.append(ContainerBroker(path, account=account, container=container))
    return brokers


class Writer(object):
    """Writes the replicas of a chunk of objects. The forked workers inherit
    the one instance (WRITER): a ring does not pickle."""

    def __init__(self, args, etc, devs, policy, created):
        self.args, self.devs, self.created = args, devs, created
        self.ring = Ring(etc, ring_name="object" if policy == 0 else "object-%d" % policy)
        self.objects = "objects" if policy == 0 else "objects-%d" % policy

    def __call__(self, bounds):
        args, per_device = self.args, {}
        for i in range(*bounds):
            name = object_name(args, i)
            part, nodes = self.ring.get_nodes(args.account, args.container, name)
            digest = hash_path(args.account, args.container, name)
            path = "/%s/%s/%s" % (args.account, args.container, name)
            metadata = {"name": path, "X-Timestamp": self.created, "Content-Length": "0",
                        "ETag": ETAG_EMPTY, "Content-Type": "application/octet-stream"}
            for node in nodes:
                d = os.path.join(self.devs[node["device"]], self.objects, str(part),
                                 digest[-3:], digest)
                os.makedirs(d, exist_ok=True)
                fd = os.open(os.path.join(d, self.created + ".data"),
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    write_metadata(fd, metadata)
                finally:
                    os.close(fd)
                per_device.setdefault(node["device"], []).append(path)
        return per_device


WRITER = None


def write_chunk(bounds):
    return WRITER(bounds)


def main():
    global WRITER
    args = parse_args()
    etc = os.path.join(args.saio, "etc")
    # The cluster's swift.conf (hash prefix and suffix), not /etc/swift's.
    utils.SWIFT_CONF_FILE = os.path.join(etc, "swift.conf")
    utils.HASH_PATH_PREFIX = utils.HASH_PATH_SUFFIX = b""
    utils.validate_hash_conf()
    devs = devices(args.saio)
    created = Timestamp.now().internal
    started = time.monotonic()

    brokers = container_brokers(etc, devs, args.account, args.container)
    policy = brokers[0].get_info()["storage_policy_index"]
    end = args.start + args.count
    for first in range(args.start, end, ROWS_PER_MERGE):
        rows = [{"name": object_name(args, i), "created_at": created, "size": 0,
                 "content_type": "application/octet-stream", "etag": ETAG_EMPTY,
                 "deleted": 0, "storage_policy_index": policy}
                for i in range(first, min(end, first + ROWS_PER_MERGE))]
        for broker in brokers:
            broker.merge_items(rows)
    rows_done = time.monotonic()

    WRITER = Writer(args, etc, devs, policy, created)
    chunks = [(i, min(end, i + CHUNK)) for i in range(args.start, end, CHUNK)]
    lists = {}
    if args.lists:
        os.makedirs(args.lists, exist_ok=True)
        lists = {dev: open(os.path.join(args.lists, dev + ".objects"), "a") for dev in devs}
    # Forked workers: making directories and files waits on the file system
    # more than on a CPU.
    with multiprocessing.get_context("fork").Pool(args.procs) as pool:
        for per_device in pool.imap(write_chunk, chunks):
            for dev, paths in per_device.items():
                if dev in lists:
                    lists[dev].write("".join(p + "\n" for p in paths))
    for f in lists.values():
        f.close()
    done = time.monotonic()
    print("fill.py: %d objects in /%s/%s (policy %d): rows %.1f s, replicas %.1f s, "
          "%.0f objects/s" % (args.count, args.account, args.container, policy,
                              rows_done - started, done - rows_done,
                              args.count / max(done - started, 1e-9)), file=sys.stderr)


if __name__ == "__main__":
    main()
