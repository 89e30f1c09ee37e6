#!/usr/bin/env bash
# Installs what hlm needs from Debian 12 (only what is missing), then
# configures and builds into BUILD_DIR (default: ./build).
#
#   scripts/build.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}

packages=(
  # toolchain and libraries
  cmake g++ make pkg-config
  libcli11-dev nlohmann-json3-dev libfmt-dev libssh-dev catch2
  libcurl4-openssl-dev zlib1g-dev libssl-dev libsqlite3-dev
  asciidoctor
  dpkg-dev  # dpkg-shlibdeps: the Depends of cpack -G DEB (test package_deb)
  # the real Swift the integration tests run against
  swift swift-proxy swift-account swift-container swift-object memcached
  python3 attr curl
  rsync  # Swift's rsync replication, run over tape stubs by a test
  # the real sshd the ssh transport tests run against
  openssh-server openssh-client
  # the shells the completion tests run the completion scripts in
  bash zsh fish
  # several storage hosts on one machine (network namespaces, faults)
  iproute2 nftables
  # libFuzzer targets (test/fuzz)
  clang
  # the style checks (test/lint: .clang-format, .clang-tidy)
  clang-format clang-tidy
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "build.sh: installing ${missing[*]}"
  sudo_=""
  [[ $(id -u) -eq 0 ]] || sudo_=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo_ apt-get update -q
  $sudo_ apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j "$(nproc)"
