#!/usr/bin/env bash
# Runs every benchmark script in bench/ (bench/NN-*.sh) against the build dir
# given as $1 and prints their result lines; see docs/BENCHMARKS.md.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
for s in bench/[0-9]*.sh; do
  [ -e "$s" ] || continue
  echo "== $s"
  bash "$s" "$BUILD"
done
