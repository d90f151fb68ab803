#!/usr/bin/env bash
# 0001: kafka-python writes magic 0/1/2 batches with every codec; libseglog
# (sltool dump) must read every record and header field identically, with
# valid CRCs.  The checks are in lib/t0001_read_kafka_python_batches.py.
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

"$py" "$here/lib/t0001_read_kafka_python_batches.py" "$sltool" "$tmp"
