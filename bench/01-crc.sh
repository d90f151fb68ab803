#!/usr/bin/env bash
# CRC-32C throughput (hardware and portable paths) against memcpy bandwidth of
# the same bytes.  Usage: bench/01-crc.sh BUILD_DIR [MiB] [reps]
# Target (docs/BENCHMARKS.md): >= 8 GB/s for the hardware path.
set -euo pipefail
BUILD=${1:-build}
PROG="$BUILD/bench/bench_crc"
if [ ! -x "$PROG" ]; then
  echo "01-crc: skipped: $PROG not built" >&2
  exit 0
fi
"$PROG" "${2:-64}" "${3:-8}"
