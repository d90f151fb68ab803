#!/usr/bin/env bash
# 0003: libseglog writes (sltool build for every codec, sltool append into a
# partition directory with several segments); kafka-python must read it all
# identically with valid CRCs, and the indexes must point at real batches.
# The checks are in lib/t0003_kafka_python_reads_seglog.py.
set -euo pipefail

: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
sltool="$SEGLOG_BUILD/tests/sltool"

if ! "$py" -c 'import kafka' 2>/dev/null; then
  echo "SKIP: $py cannot import kafka (install python3-kafka)"
  exit 77
fi
if [ ! -x "$sltool" ]; then
  echo "FAIL: $sltool is not built" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$py" "$here/lib/t0003_kafka_python_reads_seglog.py" "$sltool" "$tmp"
