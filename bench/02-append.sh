#!/usr/bin/env bash
# Append throughput through the log API against plain write() of the same
# bytes in the same directory.  Usage: bench/02-append.sh BUILD_DIR [MiB] [reps]
# Target (docs/BENCHMARKS.md): log append >= 0.8 of write().
set -euo pipefail
BUILD=${1:-build}
PROG="$BUILD/bench/bench_append"
if [ ! -x "$PROG" ]; then
  echo "02-append: skipped: $PROG not built" >&2
  exit 0
fi
dir=$(mktemp -d "$BUILD/bench-append.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$PROG" "$dir" "${2:-1024}" "${3:-3}"
