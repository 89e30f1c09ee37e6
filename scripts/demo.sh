#!/usr/bin/env bash
# The main job, end to end on this machine: builds hlm (installing what is
# missing), starts a local Swift on 127.0.0.1 (test/saio/saio.py) whose
# object servers use the simulated tape library (tapesim) as backend,
# uploads a sample container, then walks through migrate → requests →
# dispatch → status → recall → status → download-and-compare with hlmctl and
# hlm-dispatch, printing each command and its output; on the way it reads a
# migrated object through the proxy (412, guarded by hlm_swift in the object
# servers) and runs Swift's object auditor over the tape stubs (nothing
# quarantined). It ends with a one-line verdict. The cluster stays up for you to try things; the second
# command stops it.
#
#   scripts/demo.sh          set up and run (again: starts afresh)
#   scripts/demo.sh stop     stop what the demo started
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
python=/usr/bin/python3
demo=${HLM_DEMO_DIR:-/tmp/hlm-demo}

if [[ ${1:-} == stop ]]; then
  $python "$top/test/saio/saio.py" stop --dir "$demo"
  exit 0
fi

"$top/scripts/build.sh" "$build" >/dev/null
$python "$top/test/saio/saio.py" stop --dir "$demo" >/dev/null 2>&1 || true
rm -rf "$demo"
# --hlmctl: the proxy also answers SwiftHLM's HTTP interface (/hlm/v1/...).
$python "$top/test/saio/saio.py" start --dir "$demo" --base-port "${HLM_DEMO_PORT:-16800}" \
  --hlmctl "$build/cmd/hlmctl" --hlm-handler "$build/cmd/hlm-handler" >/dev/null
# shellcheck disable=SC1091
source "$demo/env.sh"   # ST_AUTH, ST_USER, ST_KEY: python-swiftclient's variables

# The object servers' [hlm] sections: tapesim, one library for this host,
# 2 drives, 4 MiB cartridges; release = punch frees the disk copies' blocks
# once they are on tape. saio.py puts hlm_swift's guard into each object
# server's pipeline and names its DiskFile module in swift.conf, as
# hlm-handler(8) tells an operator to.
$python - "$demo" <<'PY'
import configparser, glob, os, sys
demo = sys.argv[1]
for path in glob.glob(os.path.join(demo, "etc", "object-server", "*.conf")):
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(path)
    conf.remove_section("hlm:dummy")
    conf["hlm"]["connector"] = "tapesim"
    conf["hlm:tapesim"] = {"library": os.path.join(demo, "tapesim"), "drives": "2",
                           "cartridge_capacity": "4M", "release": "punch"}
    with open(path, "w") as f:
        conf.write(f)
PY

cat > "$demo/hlm.conf" <<CONF
[hlm]
swift_dir = $demo/etc
[dispatch]
lock_file = $demo/run/hlm-dispatch.lock
[nodes]
# Every ring IP of this cluster is this host: run the handler locally, for
# all four object servers at once.
local_addresses = 127.0.0.1
handler = $build/cmd/hlm-handler
object_server_conf = $demo/etc/object-server
CONF
export HLM_CONF=$demo/hlm.conf PATH=$build/cmd:$PATH

step() { printf '\n$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }
note() { printf '\n# %s\n' "$*"; }
# Bytes the object servers hold on disk (allocated blocks, not file sizes).
disk_bytes() { du -s --block-size=1 "$demo"/srv/*/node/*/objects* 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
library() {
  $python - "$demo/tapesim/index.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
copies, states = db.execute("SELECT count(*), group_concat(DISTINCT state) FROM objects").fetchone()
carts = [r[0] for r in db.execute("SELECT DISTINCT cartridge FROM objects ORDER BY 1")]
mounts, seconds = db.execute("SELECT total(mounts), total(drive_seconds) FROM calls").fetchone()
print("tapesim library: %d replica copies (%s) on cartridges %s; %d mounts, %.0f simulated "
      "drive-seconds so far" % (copies, states or "-", ", ".join(carts) or "-", mounts, seconds))
PY
}

token=$(curl -fsS -D - -o /dev/null -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" "$ST_AUTH" \
          | tr -d '\r' | awk -F': ' 'tolower($1)=="x-auth-token"{print $2}')
url=$(curl -fsS -D - -o /dev/null -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" "$ST_AUTH" \
          | tr -d '\r' | awk -F': ' 'tolower($1)=="x-storage-url"{print $2}')
mkdir -p "$demo/sample" "$demo/download"
curl -fsS -X PUT -H "X-Auth-Token: $token" "$url/sample" -o /dev/null
names=()
for size in 1000 20000 300000 1000000 2500000; do
  name=obj-$size
  head -c "$size" /dev/urandom > "$demo/sample/$name"
  curl -fsS -X PUT -H "X-Auth-Token: $token" -T "$demo/sample/$name" "$url/sample/$name" -o /dev/null
  names+=("$name")
done
note "uploaded AUTH_test/sample: ${#names[@]} objects of 1 kB to 2.5 MB, 3 replicas each;" \
     "the object servers hold $(disk_bytes) bytes on disk"

step hlmctl status AUTH_test/sample
step hlmctl migrate AUTH_test/sample
step hlmctl requests AUTH_test/sample
step hlm-dispatch --once
step hlmctl requests AUTH_test/sample
step hlmctl status AUTH_test/sample
note "$(library)"
note "the object servers now hold $(disk_bytes) bytes on disk: the replicas' blocks are freed"

note "the same question as applications asked SwiftHLM: its HTTP interface on the proxy"
proxy=${url%/v1/*}
step curl -sS -H "X-Auth-Token: $token" "$proxy/hlm/v1/status/AUTH_test/sample"
interface_migrated=$(curl -sS -H "X-Auth-Token: $token" "$proxy/hlm/v1/status/AUTH_test/sample" \
                       | grep -o '"migrated"' | wc -l)

note "a GET of a migrated object through the proxy: refused, never zeros, no tape recall"
step curl -sS -i -H "X-Auth-Token: $token" "$url/sample/obj-20000"
get_status=$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $token" "$url/sample/obj-20000")
note "HEAD works (the metadata is on disk) and says the state"
step curl -sS -I -H "X-Auth-Token: $token" "$url/sample/obj-20000"

note "Swift's own object auditor, once on every node, over the tape stubs" \
     "(swift_daemon.py runs swift-object-auditor's ObjectAuditor once with the node's" \
     "object-server.conf, pointed at this cluster's swift.conf instead of /etc/swift's)"
for n in 1 2 3 4; do
  printf '\n$ test/saio/swift_daemon.py --dir %s --node %d auditor\n' "$demo" "$n"
  $python "$top/test/saio/swift_daemon.py" --dir "$demo" --node "$n" auditor 2>&1 \
    | grep -E 'hlm: object audit \(ALL\) of policy 0|Object audit \(ALL\).*completed' \
    | sed -e 's/^/  /' -e 's/, Total files.*//'
done
quarantined=$( (find "$demo"/srv/*/node/*/quarantined -type f 2>/dev/null || true) | wc -l)
note "replicas quarantined: $quarantined"

step hlmctl recall AUTH_test/sample
step hlm-dispatch --once
step hlmctl status AUTH_test/sample
note "$(library)"
note "the object servers hold $(disk_bytes) bytes on disk again"

note "downloading every object through the Swift proxy and comparing with what was uploaded"
same=0
for name in "${names[@]}"; do
  curl -fsS -H "X-Auth-Token: $token" "$url/sample/$name" -o "$demo/download/$name"
  if cmp -s "$demo/sample/$name" "$demo/download/$name"; then
    same=$((same + 1))
    echo "  $name: identical ($(stat -c %s "$demo/download/$name") bytes)"
  else
    echo "  $name: DIFFERENT"
  fi
done

echo
ok=false
if [[ $same -eq ${#names[@]} && $get_status == 412 && $quarantined -eq 0 \
      && $interface_migrated -eq ${#names[@]} ]]; then
  ok=true
  echo "demo: OK: ${#names[@]} objects went to the simulated tape library and came back" \
       "byte-identical; while migrated, SwiftHLM's interface said so, a GET answered 412" \
       "and the auditor quarantined nothing."
else
  echo "demo: FAILED: $((${#names[@]} - same)) of ${#names[@]} objects differ after the round trip;" \
       "GET while migrated answered $get_status (412 expected); $quarantined replicas quarantined;" \
       "the HTTP interface said migrated for $interface_migrated of ${#names[@]}."
fi
cat <<EOF2

The cluster keeps running: source $demo/env.sh; export HLM_CONF=$demo/hlm.conf PATH=$build/cmd:\$PATH
Stop it with: bash scripts/demo.sh stop
EOF2
$ok
