"""Replica files on the test cluster's disks, and what a test compares of
them before and after reads or Swift's daemons: name, size, xattrs and
where the data is (the extents SEEK_DATA/SEEK_HOLE report)."""

import configparser
import errno
import glob
import hashlib
import os
import subprocess

from support import check


def object_hash(info, path):
    """Swift's hash_path() of "/account/container/object"."""
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(os.path.join(info["swift_dir"], "swift.conf"))
    prefix = conf["swift-hash"].get("swift_hash_path_prefix", "")
    suffix = conf["swift-hash"].get("swift_hash_path_suffix", "")
    return hashlib.md5((prefix + path + suffix).encode()).hexdigest()


def hash_dirs(info, path, policy=0):
    """[(node, device, hash dir)] of every replica directory of `path`."""
    h = object_hash(info, path)
    objects = "objects" if policy == 0 else "objects-%d" % policy
    found = []
    for node in info["nodes"]:
        for d in glob.glob(os.path.join(node["devices"], "*", objects, "*", h[-3:], h)):
            found.append((node["index"], d.split(os.sep)[-5], d))
    return sorted(found)


def replica_files(info, path, policy=0):
    """The .data files of every replica of `path`."""
    files = []
    for _, _, d in hash_dirs(info, path, policy):
        files += glob.glob(os.path.join(d, "*.data"))
    return sorted(files)


def ring_placement(info, path, policy=0):
    """[{"node": N, "device": D}] of the replica directories on disk."""
    return [{"node": n, "device": dev} for n, dev, _ in hash_dirs(info, path, policy)]


def punch(path):
    """Frees every block of the file at `path`, keeping its size and xattrs,
    as an HSM (or tapesim with release = punch) releases a replica."""
    subprocess.run(["fallocate", "--punch-hole", "--offset", "0", "--length",
                    str(os.path.getsize(path) + 4096), path], check=True)


def extents(path):
    """[(start, end)] of the data extents of the file at `path`."""
    out = []
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    break
                raise
            end = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, end))
            pos = end
    finally:
        os.close(fd)
    return out


def snapshot(files):
    """{path: {size, xattrs, extents, on_disk}} of `files` (absent: None)."""
    snap = {}
    for path in files:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            snap[path] = None
            continue
        ext = extents(path)
        snap[path] = {
            "size": st.st_size,
            "xattrs": {k: os.getxattr(path, k) for k in sorted(os.listxattr(path))},
            "extents": ext,
            "on_disk": st.st_size == 0 or ext == [(0, st.st_size)],
        }
    return snap


def quarantined(info):
    """Every file under a device's quarantined/ directory."""
    found = []
    for node in info["nodes"]:
        for root, _, names in os.walk(node["devices"]):
            if os.sep + "quarantined" in root:
                found += [os.path.join(root, n) for n in names]
    return found


def no_quarantined(info):
    q = quarantined(info)
    check(not q, "quarantined replicas: %r" % q[:10])
