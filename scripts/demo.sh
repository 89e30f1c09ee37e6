#!/usr/bin/env bash
# The main job, end to end on this machine: builds hlm (installing what is
# missing), starts a local Swift on 127.0.0.1 (test/saio/saio.py), uploads a
# container, then migrates, recalls and queries it with hlmctl and
# hlm-dispatch, the way SwiftHLM's README walks through it. The backend is
# the `dummy` connector (state only); the simulated tape library arrives
# with the tape-backend work.
#
#   scripts/demo.sh [--keep]     (--keep leaves the cluster running)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
keep=${1:-}
"$top/scripts/build.sh" "$build" >/dev/null
python=/usr/bin/python3
demo=${HLM_DEMO_DIR:-/tmp/hlm-demo}
$python "$top/test/saio/saio.py" stop --dir "$demo" >/dev/null 2>&1 || true
$python "$top/test/saio/saio.py" start --dir "$demo" --base-port "${HLM_DEMO_PORT:-16800}"
[[ $keep == --keep ]] || trap '$python "$top/test/saio/saio.py" stop --dir "$demo" >/dev/null' EXIT
# shellcheck disable=SC1091
source "$demo/env.sh"   # ST_AUTH, ST_USER, ST_KEY: python-swiftclient's variables

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

step() { printf '\n$ %s\n' "$*"; "$@"; }

token=$(curl -fsS -D - -o /dev/null -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" "$ST_AUTH" \
          | tr -d '\r' | awk -F': ' 'tolower($1)=="x-auth-token"{print $2}')
url=$(curl -fsS -D - -o /dev/null -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" "$ST_AUTH" \
          | tr -d '\r' | awk -F': ' 'tolower($1)=="x-storage-url"{print $2}')
curl -fsS -X PUT -H "X-Auth-Token: $token" "$url/cont3" -o /dev/null
for o in obj00 obj01 obj02; do
  echo "payload of $o" | curl -fsS -X PUT -H "X-Auth-Token: $token" --data-binary @- "$url/cont3/$o" -o /dev/null
done
echo "uploaded AUTH_test/cont3/obj00..obj02"

step hlmctl status AUTH_test/cont3
step hlmctl migrate AUTH_test/cont3/obj00
step hlmctl requests AUTH_test/cont3/obj00
step hlm-dispatch --once
step hlmctl requests AUTH_test/cont3/obj00
step hlmctl status AUTH_test/cont3
step hlmctl migrate AUTH_test/cont3
step hlm-dispatch --once
step hlmctl status --json AUTH_test/cont3
step hlmctl recall AUTH_test/cont3
step hlm-dispatch --once
step hlmctl status AUTH_test/cont3
