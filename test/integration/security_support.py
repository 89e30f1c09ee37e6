"""Helpers shared by the test_security*.py scripts: hostile names, marker
files that a shell would create, and an sshd (test/sshd/sshd.py) whose
storage node runs hlm-handler with dummy databases of its own."""

import glob
import json
import os
import pwd
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import check, env, run, write_hlm_conf  # noqa: E402

PID = os.getpid()
MARKER_PREFIX = "/tmp/hlm-pwned-%d" % PID


MARKER_NAME = "hlm-pwned-%d" % PID


def hostile_containers():
    """Container names: no '/', so their markers are relative (the
    working directory, the ssh user's home)."""
    return [
        "sec-%d $(touch %s-c1)" % (PID, MARKER_NAME),
        "-sec-%d `touch %s-c2`; echo x | cat > %s-c3 'q' \"d\" caf\u00e9 \U0001F4FC" % (
            PID, MARKER_NAME, MARKER_NAME),
    ]


def hostile_objects():
    return [
        "$(touch %s-o1)" % MARKER_PREFIX,
        "`touch %s-o2`" % MARKER_PREFIX,
        "a; touch %s-o3 | cat && touch %s-o4 &" % (MARKER_PREFIX, MARKER_PREFIX),
        "it's \"quoted\" \\back\\slash",
        "new\nline\ttab\rcr",
        "-rf",
        "--help",
        "../../../../etc/passwd",
        "..",
        "dir/../x/./y",
        "  spaced  name  ",
        "caf\u00e9 \u20ac \U0001F4FC",
        "%s %n {} ${HOME} ~root *",
    ]


def markers():
    """Files a shell would have created from one of the names: in /tmp,
    in the working directory, in the homes of this user and of root (the
    ssh user)."""
    found = []
    for d in {"/tmp", os.getcwd(), os.path.expanduser("~"), pwd.getpwnam("root").pw_dir, "/"}:
        found += glob.glob(os.path.join(d, MARKER_NAME + "*"))
    return found


def check_no_markers(where):
    found = markers()
    check(not found, "%s: a shell ran a name: %r" % (where, found))


def start_sshd(name):
    """Starts test/sshd/sshd.py (as root: the handler must read the
    cluster's files) in its own directory; returns (harness, dir, info) or
    exits 125/1 like the harness."""
    sshd_dir = os.path.join(env("HLM_SSHD_BASE"), name)
    harness = os.path.join(os.path.dirname(env("HLM_SAIO_TOOLS")), "sshd", "sshd.py")
    code, _, err = run([env("HLM_PYTHON"), harness, "start", "--dir", sshd_dir, "--user", "root"])
    if code != 0:
        print(err.decode(errors="replace"), file=sys.stderr)
        sys.exit(code if code == 125 else 1)
    with open(os.path.join(sshd_dir, "sshd.json")) as f:
        return harness, sshd_dir, json.load(f)


def stop_sshd(harness, sshd_dir):
    subprocess.run([env("HLM_PYTHON"), harness, "stop", "--dir", sshd_dir])


def ssh_object_server_confs(info, work, user):
    """The cluster's object server configs with dummy databases of their
    own (owned by the ssh user) under WORK; returns (conf dir, db dir)."""
    confs = os.path.join(work, "ssh-confs")
    dbs = os.path.join(work, "ssh-dbs")
    for d in (confs, dbs):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    entry = pwd.getpwnam(user)
    os.chown(dbs, entry.pw_uid, entry.pw_gid)
    for node in info["nodes"]:
        with open(node["object_server_conf"]) as f:
            text = f.read()
        text = re.sub(r"(?m)^db_path = .*$",
                      "db_path = %s/dummy-%d.sqlite" % (dbs, node["index"]), text)
        with open(os.path.join(confs, "%d.conf" % node["index"]), "w") as f:
            f.write(text)
    return confs, dbs


def ssh_hlm_conf(path, ssh, confs, handler=None, **overrides):
    """An hlm.conf reaching every ring IP over ssh at the harness's sshd; a
    refused host fails its entry in the first run (max_attempts = 1)."""
    values = {"port": ssh["port"], "known_hosts": ssh["known_hosts"],
              "identity_file": ssh["identity_file"], "user": ssh["user"]}
    values.update(overrides)
    write_hlm_conf(path, dispatch="max_attempts = 1\n")
    with open(path) as f:
        text = f.read()
    text = text.replace("local_addresses = 127.0.0.1", "local_addresses =")
    text = re.sub(r"(?m)^object_server_conf = .*$", "object_server_conf = " + confs, text)
    if handler:
        text = re.sub(r"(?m)^handler = .*$", "handler = " + handler, text)
    text += ("transport = ssh\nuser = {user}\nport = {port}\nidentity_file = {identity_file}\n"
             "known_hosts = {known_hosts}\nconnect_timeout = 5\nio_timeout = 60\n").format(**values)
    with open(path, "w") as f:
        f.write(text)
    return path


def marker_handler(path, marker):
    """A handler that leaves `marker` behind, then runs the real one: it
    shows whether any command ran on the node."""
    with open(path, "w") as f:
        f.write("#!/bin/sh\ntouch '%s'\nexec '%s' \"$@\"\n" % (marker, env("HLM_HANDLER")))
    os.chmod(path, 0o755)
    return path
