#!/usr/bin/env bash
# Offline seglog CLI throughput against cat, in the same run (docs/CLI.md):
#   produce: `seglog produce` of 1 KiB lines vs `cat lines > file`
#            (and vs `cat lines > file && sync file`, since produce fsyncs at close)
#   consume: `seglog consume -e > /dev/null` vs `cat segments > /dev/null`
# Targets: both ratios >= 0.5.  Best of REPS runs, page cache warm.
# Usage: bench/05-cli.sh BUILD_DIR [MiB] [REPS]  (bench/run-all.sh runs it)
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
t_cat_w=$(for _ in $(seq "$REPS"); do rm -f "$dir/copy"; a=$(now); cat "$dir/lines" > "$dir/copy"; b=$(now); awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f\n", b - a }'; done | best)
t_cat_ws=$(for _ in $(seq "$REPS"); do rm -f "$dir/copy"; a=$(now); cat "$dir/lines" > "$dir/copy"; sync "$dir/copy"; b=$(now); awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f\n", b - a }'; done | best)
rm -f "$dir/copy"
t_prod=$(for _ in $(seq "$REPS"); do rm -rf "$dir/logs"; a=$(now); "$S" produce -d "$dir/logs" -t bench < "$dir/lines"; b=$(now); awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f\n", b - a }'; done | best)
cat "$dir"/logs/bench-0/*.log > /dev/null
t_cat_r=$(for _ in $(seq "$REPS"); do a=$(now); cat "$dir"/logs/bench-0/*.log > /dev/null; b=$(now); awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f\n", b - a }'; done | best)
t_cons=$(for _ in $(seq "$REPS"); do a=$(now); "$S" consume -d "$dir/logs" -t bench -e > /dev/null; b=$(now); awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f\n", b - a }'; done | best)
"$S" consume -d "$dir/logs" -t bench -e | cmp -s - "$dir/lines" || { echo "bench-cli: consume output differs from the input" >&2; exit 1; }
# name: value unit (ratio X.XX of BASELINE), as the other bench scripts print
line() { # name seconds baseline-name baseline-seconds
  awk -v n="$1" -v t="$2" -v bn="$3" -v bt="$4" -v mib="$MIB" \
    'BEGIN { printf "%s: %.0f MiB/s (ratio %.2f of %s)\n", n, mib / t, bt / t, bn }'
}
echo "# $MIB MiB of 1 KiB lines, best of $REPS; produce fsyncs at close, cat does not"
line "cat>file" "$t_cat_w" "cat>file" "$t_cat_w"
line "seglog_produce" "$t_prod" "cat>file" "$t_cat_w"
line "seglog_produce(vs cat+sync)" "$t_prod" "cat>file+sync" "$t_cat_ws"
line "cat_segments" "$t_cat_r" "cat_segments" "$t_cat_r"
line "seglog_consume-e" "$t_cons" "cat_segments" "$t_cat_r"
