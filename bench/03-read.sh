#!/usr/bin/env bash
# Reading a segment back from the page cache with batch framing and CRC-32C
# validation, against a plain read() of the same file.
# Usage: bench/03-read.sh BUILD_DIR [MiB] [reps]
# Target (docs/BENCHMARKS.md): validated read >= 0.7 of plain read().
set -euo pipefail
BUILD=${1:-build}
PROG="$BUILD/bench/bench_read"
if [ ! -x "$PROG" ]; then
  echo "03-read: skipped: $PROG not built" >&2
  exit 0
fi
# The segment lives next to the build, on the same filesystem as the build dir.
dir=$(mktemp -d "$BUILD/bench-read.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$PROG" "$dir" "${2:-1024}" "${3:-5}"
