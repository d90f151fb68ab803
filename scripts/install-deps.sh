#!/usr/bin/env bash
# Installs the Debian packages seglog needs to build, test and benchmark.
# Idempotent and quiet when everything is already present; run as root or with sudo.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  libuv1-dev libfuse3-dev fuse3 libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev
  libssl-dev libcmocka-dev librdkafka-dev
  python3 python3-kafka python3-snappy python3-lz4 python3-zstandard python3-xxhash
  python3-confluent-kafka kcat iperf3 jq
)
# Node.js (for the kafkajs tests) may come from another packager: only ask Debian
# for it when no node is on the PATH.
command -v node >/dev/null 2>&1 || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
