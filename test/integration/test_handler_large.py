"""hlm-handler streams: a million object lines are read and checked once,
kept in a temporary file past 8 MiB of them (protocol::ObjectPathSpool),
and worked and answered batch by batch, so peak memory stays that of a
batch whatever the list's length (no list in memory, no per-object JSON
tree, no result list)."""

import os
import resource
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import check, cluster, env  # noqa: E402

LINES = 1_000_000
# 47 bytes of input per line, 45 MB in all: holding the list costs more
# than the limit (110 MB before the spool), a tree of JSON values or a list
# of results per object several hundred bytes each. With the spool: 20 MB.
MAX_RSS_BYTES = 40 * 1024 * 1024


def main():
    info = cluster()
    node = info["nodes"][0]
    path = os.path.join(info["dir"], "large-input.txt")
    with open(path, "w") as f:
        for i in range(LINES):
            f.write("/AUTH_test/cont/obj-%07d-with-a-longer-name\n" % i)
    with open(path, "rb") as stdin:
        proc = subprocess.Popen(
            [env("HLM_HANDLER"), "--object-server-conf", node["object_server_conf"], "status"],
            stdin=stdin, stdout=subprocess.PIPE)
        lines = 0
        last = b""
        for line in proc.stdout:
            lines += 1
            last = line
        status = proc.wait()
    os.unlink(path)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    check(status == 1, "every object is absent from node 1's test data: exit %d" % status)
    # One line per object plus the header line; the summary ends the last.
    check(lines == LINES + 1, "%d output lines for %d objects" % (lines, LINES))
    check(b'"summary":{"objects":%d' % LINES in last, "summary: %r" % last[-200:])
    check(peak < MAX_RSS_BYTES, "peak RSS %.0f MB for %d objects exceeds %d MB"
          % (peak / 2**20, LINES, MAX_RSS_BYTES // 2**20))
    print("ok: %d objects, peak RSS %.0f MB (input %.0f MB)"
          % (LINES, peak / 2**20, LINES * 47 / 2**20))


if __name__ == "__main__":
    main()
