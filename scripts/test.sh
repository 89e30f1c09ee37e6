#!/usr/bin/env bash
# Builds (installing what is missing) and runs every test: unit tests, the
# CLI checks, and the integration suite against a real Swift on loopback
# that ctest starts and stops (test/saio/saio.py).
#
#   scripts/test.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
"$top/scripts/build.sh" "$build"
cd "$build"
# A skipped test (exit 125: a prerequisite missing) is a failure here.
ctest --output-on-failure -j 2 --no-tests=error --timeout 900 | tee ctest.log
if grep -q "Not Run\|\*\*\*Skipped" ctest.log; then
  echo "test.sh: some tests were skipped or not run; that counts as a failure" >&2
  exit 1
fi
