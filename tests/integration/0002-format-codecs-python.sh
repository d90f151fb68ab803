#!/usr/bin/env bash
# 0002-format-codecs-python: libseglog's codecs (slcodec) against kafka-python,
# python-lz4, python-snappy, zstandard and gzip/zlib, in both directions,
# byte-identical.  The checks are in the .py beside this script.
# Env: SEGLOG_BUILD (build dir, tools in $SEGLOG_BUILD/tests), SEGLOG_SRC.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
slcodec=${SEGLOG_BUILD:?SEGLOG_BUILD is not set}/tests/slcodec
py=/usr/bin/python3
if [ ! -x "$slcodec" ]; then
  echo "skip: $slcodec is not built"
  exit 77
fi
if ! "$py" -c 'import kafka.codec, lz4.frame, snappy, zstandard' 2>/dev/null; then
  echo "skip: $py lacks python3-kafka, python3-lz4, python3-snappy or python3-zstandard"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seglog-0002.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$py" "$here/0002-format-codecs-python.py" "$slcodec" "$tmp"
