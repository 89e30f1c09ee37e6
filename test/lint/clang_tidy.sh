#!/bin/sh
# Runs clang-tidy with the tree's .clang-tidy over the sources of lib/,
# cmd/ and connectors/ as BUILD_DIR/compile_commands.json compiles them,
# two files at a time; any finding fails. Exit 125 (skip) without
# clang-tidy.
#
#   test/lint/clang_tidy.sh SOURCE_DIR BUILD_DIR
set -eu
top=${1:?usage: clang_tidy.sh SOURCE_DIR BUILD_DIR}
build=${2:?usage: clang_tidy.sh SOURCE_DIR BUILD_DIR}
command -v clang-tidy >/dev/null 2>&1 || {
  echo "clang_tidy.sh: clang-tidy is not installed" >&2
  exit 125
}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "clang_tidy.sh: no $build/compile_commands.json (CMAKE_EXPORT_COMPILE_COMMANDS)" >&2
  exit 1
fi
cd "$top"
# One file per run, two at a time; cmd/ first, whose files (CLI11) take
# longest, so that the two finish together.
find cmd lib connectors -name '*.cpp' |
  xargs -P 2 -n 1 clang-tidy -p "$build" --quiet --warnings-as-errors='*'
