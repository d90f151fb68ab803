#!/usr/bin/env bash
# Offline seglog CLI throughput against cat, in the same run (docs/CLI.md):
#   produce: `seglog produce` of 1 KiB lines vs `cat lines > file`
#            (and vs `cat lines > file && sync file`, since produce fsyncs at close)
#   consume: `seglog consume -e > /dev/null` vs `cat segments > /dev/null`
# Targets: both ratios >= 0.5.  Best of REPS runs, page cache warm.
# Usage: kcat-tools/bench-cli.sh BUILD_DIR [MiB] [REPS]
set -euo pipefail
BUILD=${1:-build}
MIB=${2:-1024}
REPS=${3:-3}
S="$BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "bench-cli: $S not built" >&2; exit 1; }
dir=$(mktemp -d "$BUILD/bench-cli.XXXXXX")
trap 'rm -rf "$dir"' EXIT
lines=$((MIB * 1024))
/usr/bin/python3 - "$dir/lines" "$lines" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
pad = b"x" * 1014
with open(path, "wb") as f:
    for i in range(n):
        f.write(b"%09d" % i + pad + b"\n")
PY
now() { date +%s.%N; }
best() { sort -g | head -1; }
t_cat_w=$(for _ in $(seq "$REPS"); do rm -f "$dir/copy"; a=$(now); cat "$dir/lines" > "$dir/copy"; b=$(now); echo "$b - $a" | bc; done | best)
t_cat_ws=$(for _ in $(seq "$REPS"); do rm -f "$dir/copy"; a=$(now); cat "$dir/lines" > "$dir/copy"; sync "$dir/copy"; b=$(now); echo "$b - $a" | bc; done | best)
rm -f "$dir/copy"
t_prod=$(for _ in $(seq "$REPS"); do rm -rf "$dir/logs"; a=$(now); "$S" produce -d "$dir/logs" -t bench < "$dir/lines"; b=$(now); echo "$b - $a" | bc; done | best)
cat "$dir"/logs/bench-0/*.log > /dev/null
t_cat_r=$(for _ in $(seq "$REPS"); do a=$(now); cat "$dir"/logs/bench-0/*.log > /dev/null; b=$(now); echo "$b - $a" | bc; done | best)
t_cons=$(for _ in $(seq "$REPS"); do a=$(now); "$S" consume -d "$dir/logs" -t bench -e > /dev/null; b=$(now); echo "$b - $a" | bc; done | best)
"$S" consume -d "$dir/logs" -t bench -e | cmp -s - "$dir/lines" || { echo "bench-cli: consume output differs from the input" >&2; exit 1; }
mbs() { echo "scale=0; $MIB / $1" | bc; }
printf 'produce  %5d MiB of 1 KiB lines: seglog %.3fs (%s MiB/s), cat>file %.3fs, cat>file+sync %.3fs  ratio %.2f (vs cat+sync %.2f)\n' \
  "$MIB" "$t_prod" "$(mbs "$t_prod")" "$t_cat_w" "$t_cat_ws" "$(echo "$t_cat_w / $t_prod" | bc -l)" "$(echo "$t_cat_ws / $t_prod" | bc -l)"
printf 'consume  %5d MiB partition:       seglog -e %.3fs (%s MiB/s), cat segments %.3fs  ratio %.2f\n' \
  "$MIB" "$t_cons" "$(mbs "$t_cons")" "$t_cat_r" "$(echo "$t_cat_r / $t_cons" | bc -l)"
