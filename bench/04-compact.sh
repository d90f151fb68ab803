#!/usr/bin/env bash
# Compaction throughput (MB/s of input segments cleaned) through the cleaner
# API, against a plain copy of the same segment files as the baseline.
# Usage: bench/04-compact.sh BUILD_DIR [MiB] [reps]
set -euo pipefail
BUILD=${1:-build}
PROG="$BUILD/bench/bench_compact"
if [ ! -x "$PROG" ]; then
  echo "04-compact: skipped: the cleaner API (seglog/cleaner.h) is not in this tree yet," \
    "so there is no bench_compact to run"
  exit 0
fi
dir=$(mktemp -d "$BUILD/bench-compact.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$PROG" "$dir" "${2:-256}" "${3:-3}"
