#!/usr/bin/env bash
# What hlm_swift's guard costs a read: GETs and HEADs of the same objects
# through the proxy of a stock Swift (saio.py --without-hlm-swift) beside a
# Swift whose object servers run hlm_guard and hlm's DiskFile, both started
# by this script on loopback. Each cluster gets OBJECTS objects of 64 KiB;
# each is read 3 times, one request after another on a kept-alive
# connection, by the same client. The guarded cluster also answers GETs of
# tape stubs (412) and HEADs of them.
#
#   bench/guarded_get.sh [BUILD_DIR] [OBJECTS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
objects=${2:-500}
python=/usr/bin/python3
port=${HLM_BENCH_PORT:-16500}
work=$(mktemp -d "${build}/bench-guarded-get.XXXXXX")
stop() {
  for c in stock guarded; do
    $python "$here/../test/saio/saio.py" stop --dir "$work/$c" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap stop EXIT
$python "$here/../test/saio/saio.py" start --dir "$work/stock" --base-port "$port" \
  --without-hlm-swift >/dev/null
$python "$here/../test/saio/saio.py" start --dir "$work/guarded" --base-port "$((port + 50))" >/dev/null

$python - "$work" "$objects" <<'PY'
import glob, http.client, json, os, statistics, subprocess, sys, time

work, count = sys.argv[1], int(sys.argv[2])
body = os.urandom(65536)


class Client:
    def __init__(self, cluster_dir):
        with open(os.path.join(cluster_dir, "cluster.json")) as f:
            info = json.load(f)
        self.host, port = info["proxy_url"][len("http://"):].split(":")
        self.conn = http.client.HTTPConnection(self.host, int(port), timeout=60)
        self.conn.request("GET", "/auth/v1.0",
                          headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
        resp = self.conn.getresponse()
        resp.read()
        self.token = resp.getheader("X-Auth-Token")
        self.path = "/" + resp.getheader("X-Storage-Url").split("/", 3)[3]
        self.dir = cluster_dir

    def do(self, method, name, data=None):
        self.conn.request(method, "%s/%s" % (self.path, name), body=data,
                          headers={"X-Auth-Token": self.token})
        resp = self.conn.getresponse()
        payload = resp.read()
        return resp.status, payload


def timed(client, method, names, expect):
    latencies = []
    for name in names:
        t = time.perf_counter()
        status, payload = client.do(method, name)
        latencies.append(time.perf_counter() - t)
        assert status == expect, (method, name, status)
        if method == "GET" and expect == 200:
            assert payload == body
    return latencies


def punch_all(cluster_dir, names):
    """Makes tape stubs of the objects' replicas, as tapesim (release =
    punch) or an HSM does: every block freed, size and xattrs kept."""
    for path in glob.glob(os.path.join(cluster_dir, "srv", "*", "node", "*", "objects", "*",
                                       "*", "*", "*.data")):
        subprocess.run(["fallocate", "--punch-hole", "--offset", "0", "--length",
                        str(os.path.getsize(path) + 4096), path], check=True)


rows = []
names = ["obj%05d" % i for i in range(count)]
for label in ("stock", "guarded"):
    client = Client(os.path.join(work, label))
    assert client.do("PUT", "bench")[0] in (201, 202)
    for name in names:
        assert client.do("PUT", "bench/" + name, body)[0] == 201
    for method in ("GET", "HEAD"):
        lat = []
        for _ in range(3):
            lat += timed(client, method, ["bench/" + n for n in names], 200)
        rows.append(("%s Swift, %s of an object on disk" % (label, method), lat))
    if label == "guarded":
        punch_all(client.dir, names)
        rows.append(("guarded Swift, GET of a tape stub (412)",
                     timed(client, "GET", ["bench/" + n for n in names], 412)))
        rows.append(("guarded Swift, HEAD of a tape stub",
                     timed(client, "HEAD", ["bench/" + n for n in names], 200)))

base = {m: statistics.median(lat) for label, lat in rows if label.startswith("stock")
        for m in [label.split(", ")[1].split()[0]]}
print("%d objects of 64 KiB per cluster; every request through the proxy, one at a time"
      % count)
print("%-46s %9s %11s %11s %8s" % ("", "requests", "per second", "median ms", "vs stock"))
for label, lat in rows:
    method = label.split(", ")[1].split()[0]
    median = statistics.median(lat)
    print("%-46s %9d %11.0f %11.2f %7.2fx" % (label, len(lat), len(lat) / sum(lat), median * 1000,
                                              median / base[method]))
PY
