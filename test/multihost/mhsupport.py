"""Shared by test/integration/test_multihost_*.py: the rig that the ctest
fixture multihost_up brought up (rig.py), hlm.conf files that reach its
hosts over ssh, and measurements from outside hlm-dispatch.

Importing this module points test/integration/support.py at the rig's
Swift cluster (HLM_SAIO_DIR), so its Swift client, run_tool and tool_env
work unchanged."""

import configparser
import json
import os
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import time

from support import check, fail  # noqa: F401 (test/integration is on the path)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rig  # noqa: E402

SKIP = 125
# Makes container names unique per run: failed entries of an earlier run
# (of the same rig) stay in the failed queue, listed by target.
RUN = "%x" % int(time.time())


def load():
    """(names, rig.json); exits 125 when the fixture skipped the rig."""
    directory = os.environ.get("HLM_MULTIHOST_DIR")
    if not directory:
        fail("HLM_MULTIHOST_DIR is not set; run this through ctest")
    names = rig.Names(directory)
    if not os.path.exists(names.info):
        if rig.under_ci():
            fail("no multi-host rig in %s (multihost_up failed?)" % directory)
        print("skip: no multi-host rig in %s (multihost_up skipped: no "
              "network namespaces here?)" % directory)
        sys.exit(SKIP)
    names, info = rig.load(directory)
    os.environ["HLM_SAIO_DIR"] = info["swift_dir"]
    return names, info


def work_dir(info, name):
    """A fresh directory under the rig's state dir that the test user (the
    handler on the hosts) can write."""
    path = os.path.join(info["state_dir"], "work", name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.chmod(os.path.dirname(path), 0o755)
    chown(path, info)
    return path


def chown(path, info):
    import pwd
    entry = pwd.getpwnam(info["user"])
    os.chown(path, entry.pw_uid, entry.pw_gid)


def install_handler(info, extra_args=(), name="hlm-handler", log=None):
    """Copies the built hlm-handler where the test user can run it (the
    build tree may be private) and returns the program for hlm.conf's
    `handler`: the binary itself, or with `extra_args` or `log` a /bin/sh
    wrapper that passes them (hlm.conf's handler is one program, no
    arguments) and appends "$HLM_HOST <netns of the shell> <pid>" to
    `log` first."""
    bin_dir = os.path.join(info["state_dir"], "bin")
    os.makedirs(bin_dir, exist_ok=True)
    binary = os.path.join(bin_dir, "hlm-handler")
    source = os.environ["HLM_HANDLER"]
    if not os.path.exists(binary) or \
            os.path.getmtime(binary) < os.path.getmtime(source):
        shutil.copy(source, binary + ".tmp")
        os.chmod(binary + ".tmp", 0o755)
        os.replace(binary + ".tmp", binary)
    if not extra_args and not log:
        return binary
    wrapper = os.path.join(bin_dir, name)
    lines = ["#!/bin/sh"]
    if log:
        lines.append('echo "$HLM_HOST $(readlink /proc/self/ns/net) $$" >> %s'
                     % log)
    lines.append('exec %s %s"$@"' % (binary, "".join(a + " " for a in extra_args)))
    with open(wrapper, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(wrapper, 0o755)
    return wrapper


def write_conf(info, path, handler, confs=None, known_hosts=None,
               connect_timeout=5, io_timeout=15, extra=""):
    """An hlm.conf that reaches every host of the rig over ssh (no local
    address), with each host's object server conf (`confs`: host name ->
    path; default the cluster's own, dummy backend)."""
    lines = [
        "[hlm]",
        "swift_dir = %s/etc" % info["swift_dir"],
        "[dispatch]",
        "batch_size = 1000",
        "max_parallel_nodes = 8",
        # A host's failure reaches the failed queue in the run it happens
        # in, where the tests look for its reason (no retries later).
        "max_attempts = 1",
        "lock_file = %s/hlm-dispatch.lock" % os.path.dirname(path),
        "[nodes]",
        "local_addresses =",
        "transport = ssh",
        "user = %s" % info["user"],
        "port = 22",
        "identity_file = %s" % info["identity_file"],
        "known_hosts = %s" % (known_hosts or info["known_hosts"]),
        "connect_timeout = %d" % connect_timeout,
        "io_timeout = %d" % io_timeout,
        "handler = %s" % handler,
    ]
    for host in info["hosts"]:
        conf = (confs or {}).get(host["name"], host["object_server_conf"])
        lines += ["[node:%s]" % host["ip"], "object_server_conf = %s" % conf]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + extra)
    return path


def drain_queue(info, work, run_tool, dispatch):
    """Settles whatever an earlier test left pending (with the fast dummy
    backend), so that a measured run carries only its own requests."""
    conf = write_conf(info, os.path.join(work, "drain.conf"), install_handler(info))
    for _ in range(3):
        _, out, _ = run_tool([dispatch, "--once", "--json", "--quiet"], conf)
        if json.loads(out.strip().splitlines()[-1])["entries"] == 0:
            return
    fail("the queue does not drain: %s" % out)


def backend_confs(info, work, connector, settings_for):
    """Copies of each host's object server conf in `work` whose [hlm]
    selects `connector` with settings_for(host). Returns host name -> path."""
    confs = {}
    for host in info["hosts"]:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(host["object_server_conf"])
        for section in [s for s in parser.sections() if s.startswith("hlm:")]:
            parser.remove_section(section)
        parser["hlm"]["connector"] = connector
        parser["hlm:" + connector] = settings_for(host)
        path = os.path.join(work, "%s.conf" % host["name"])
        with open(path, "w") as f:
            parser.write(f)
        confs[host["name"]] = path
    return confs


def query(db, sql, args=()):
    if not os.path.exists(db):
        return []
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def replicas_on(info, host, container, account="AUTH_test"):
    """Object paths of `container` with a .data file on host's devices."""
    found = set()
    root = os.path.join(host["devices"])
    for top, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".data"):
                found.add(read_object_name(os.path.join(top, name)))
    prefix = "/%s/%s/" % (account, container)
    return {o for o in found if o and o.startswith(prefix)}


def read_object_name(path):
    """The `name` in a .data file's pickled Swift metadata (xattrs
    user.swift.metadata, user.swift.metadata1, ...)."""
    import pickle
    data = b""
    index = 0
    while True:
        key = "user.swift.metadata" + (str(index) if index else "")
        try:
            data += os.getxattr(path, key)
        except OSError:
            break
        index += 1
    try:
        meta = pickle.loads(data, encoding="bytes")
    except Exception:
        return None
    name = meta.get("name", meta.get(b"name"))
    return name.decode() if isinstance(name, bytes) else name


# --------------------------------------------------------------------------
# Watching a process's ssh connections from outside


def tcp_peers(pid):
    """Remote (ip, port) of the TCP sockets process pid holds open (in its
    network namespace), or None when it has exited."""
    try:
        inodes = set()
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        with open("/proc/%d/net/tcp" % pid) as f:
            lines = f.readlines()[1:]
    except (FileNotFoundError, ProcessLookupError):
        return None
    peers = set()
    for line in lines:
        fields = line.split()
        if fields[9] in inodes:
            address, port = fields[2].split(":")
            ip = socket.inet_ntoa(struct.pack("<I", int(address, 16)))
            peers.add((ip, int(port, 16)))
    return peers


def run_quiet(argv):
    return subprocess.run(argv, capture_output=True, text=True)
