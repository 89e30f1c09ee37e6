"""The lines hlm-handler(8) tells an operator to add, applied to the config
files Debian's swift packages install (/etc/swift/object-server.conf and
/etc/swift/swift.conf, copied), load in Swift 2.30 itself: paste builds the
object server's pipeline with hlm_swift's guard in it, and the storage
policy's DiskFile manager is hlm_swift's. Nothing under /etc is changed."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import check, env, fail  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROBE = r"""
import json, sys
sys.path.insert(0, %(saio)r)
import saio  # puts python/hlm_swift first on sys.path, as the .deb installs it
saio.use_swift_conf(%(etc)r)
from swift.common.storage_policy import POLICIES
from swift.common.utils import get_logger
from swift.common.wsgi import loadapp
from hlm_swift.guard import GuardMiddleware
app = loadapp(%(conf)r, allow_modify_pipeline=False)
chain = []
while app is not None:
    chain.append(type(app).__module__ + '.' + type(app).__name__)
    app = getattr(app, 'app', None)
manager = POLICIES[0].get_diskfile_manager({'devices': %(devices)r}, get_logger({}))
print(json.dumps({'pipeline': chain, 'manager': type(manager).__module__}))
"""


def main():
    for path in ("/etc/swift/object-server.conf", "/etc/swift/swift.conf"):
        if not os.path.exists(path):
            fail("%s is missing: Debian's swift and swift-object packages install it" % path)
    work = tempfile.mkdtemp(prefix="hlm-stock-")
    try:
        with open("/etc/swift/object-server.conf") as f:
            conf = f.read()
        # hlm-handler(8): the guard into the stock pipeline, and its section.
        stock_pipeline = "pipeline = healthcheck recon object-server"
        check(stock_pipeline in conf, "Debian's object-server.conf no longer says %r"
              % stock_pipeline)
        conf = conf.replace(stock_pipeline, "pipeline = healthcheck recon hlm_guard object-server")
        conf += "\n[filter:hlm_guard]\nuse = egg:hlm_swift#guard\n"
        conf_path = os.path.join(work, "object-server.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        with open("/etc/swift/swift.conf") as f:
            swift_conf = f.read()
        swift_conf, n = re.subn(r"^\[storage-policy:0\]\n",
                                "[storage-policy:0]\ndiskfile_module = egg:hlm_swift#replication.fs\n",
                                swift_conf, flags=re.M)
        check(n == 1, "Debian's swift.conf has no [storage-policy:0]")
        with open(os.path.join(work, "swift.conf"), "w") as f:
            f.write(swift_conf)

        code = PROBE % {"saio": os.path.join(REPO, "test", "saio"), "etc": work,
                        "conf": conf_path, "devices": os.path.join(work, "node")}
        proc = subprocess.run([env("HLM_PYTHON"), "-c", code], capture_output=True, timeout=120)
        if proc.returncode != 0:
            fail("Swift could not load the edited stock configs:\n%s"
                 % proc.stderr.decode(errors="replace")[-3000:])
        loaded = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        check("hlm_swift.guard.GuardMiddleware" in loaded["pipeline"]
              and loaded["pipeline"][-1] == "swift.obj.server.ObjectController",
              "pipeline built from the stock file: %r" % loaded["pipeline"])
        check(loaded["manager"] == "hlm_swift.diskfile",
              "policy 0's DiskFile manager: %r" % loaded["manager"])
        print("    stock pipeline with the documented lines: %s" % " -> ".join(
            name.rsplit(".", 1)[1] for name in loaded["pipeline"]))
        print("Debian's stock configs with hlm_swift: OK")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
