#!/bin/sh
# Checks that every C++ file of the tree is formatted as .clang-format says
# (clang-format --dry-run -Werror): lists the files that are not, with
# clang-format's diagnostics, and fails. Exit 125 (skip) without
# clang-format.
#
#   test/lint/clang_format.sh SOURCE_DIR
set -eu
top=${1:?usage: clang_format.sh SOURCE_DIR}
command -v clang-format >/dev/null 2>&1 || {
  echo "clang_format.sh: clang-format is not installed" >&2
  exit 125
}
cd "$top"
# Files in parallel, two at a time: the machines have two cores.
find lib cmd connectors test bench -name '*.cpp' -o -name '*.hpp' | sort |
  xargs -P 2 -n 20 clang-format --dry-run -Werror --ferror-limit=5
