#!/usr/bin/env bash
# seglogfs (docs/FUSE.md) against the CLI, measured in the same run:
#   offline: `cat data > /dev/null` of one MiB-sized partition through the
#            mount vs `seglog consume -d -e > /dev/null` of the same partition
#            (target ratio >= 0.5); the first `stat data` (index build) and a
#            stat of an indexed partition
#   broker:  the same partition served by seglogd: `cat data` through
#            `seglogfs -b` vs `seglog consume -b -e` (both librdkafka)
#   ls:      `ls` and `ls -R` of TOPICS one-partition topics, offline and
#            through `seglogfs -b` (target: `ls` under a second)
# Best of REPS, page cache warm.
# Usage: bench/09-fuse.sh BUILD_DIR [MiB] [REPS] [TOPICS]
set -euo pipefail
BUILD=${1:-build}
MIB=${2:-1024}
REPS=${3:-3}
TOPICS=${4:-1000}
S="$BUILD/kcat-tools/seglog"
FS="$BUILD/fuse/seglogfs"
D="$BUILD/brokerd/seglogd"
for x in "$S" "$FS" "$D"; do [ -x "$x" ] || { echo "bench-fuse: $x not built" >&2; exit 1; }; done
[ -e /dev/fuse ] || { echo "bench-fuse: /dev/fuse is missing" >&2; exit 1; }
dir=$(mktemp -d "$BUILD/bench-fuse.XXXXXX")
dir=$(cd "$dir" && pwd)
pids=()
mounts=()
cleanup() {
  set +e # every step runs even when an earlier one finds nothing to do
  for m in "${mounts[@]}"; do mountpoint -q "$m" && fusermount3 -u "$m" 2>/dev/null; done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
now() { date +%s.%N; }
best() { sort -g | head -1; }
timed() { # prints the best wall time of REPS runs of "$@"
  for _ in $(seq "$REPS"); do
    a=$(now)
    "$@"
    b=$(now)
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f\n", b - a }'
  done | best
}
once() { local a b; a=$(now); "$@"; b=$(now); awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f\n", b - a }'; }
mount_fs() { # MOUNTPOINT ARGS...
  local m=$1
  shift
  mkdir -p "$m"
  "$FS" -f "$@" "$m" 2>>"$dir/fs.log" &
  pids+=($!)
  mounts+=("$m")
  for _ in $(seq 150); do mountpoint -q "$m" && return 0; sleep 0.1; done
  echo "bench-fuse: mount $m failed: $(cat "$dir/fs.log")" >&2
  exit 1
}
free_port() { /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
start_broker() { # LOGDIR: sets B
  local port mport
  port=$(free_port)
  mport=$(free_port)
  "$D" --override "listeners=PLAINTEXT://127.0.0.1:$port" \
    --override "metrics.listener=127.0.0.1:$mport" --override "log.dirs=$1" \
    --override log.level=warn 2>>"$dir/broker.log" &
  pids+=($!)
  B=127.0.0.1:$port
  for _ in $(seq 300); do kcat -b "$B" -L -m 1 >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench-fuse: seglogd did not start" >&2
  exit 1
}
line() { # name seconds baseline-name baseline-seconds bytes
  awk -v n="$1" -v t="$2" -v bn="$3" -v bt="$4" -v by="$5" \
    'BEGIN { printf "%s: %.0f MiB/s %.3f s (ratio %.2f of %s)\n", n, by / 1048576 / t, t, bt / t, bn }'
}

# One partition of MIB MiB of 1 KiB lines.
/usr/bin/python3 - "$dir/lines" "$((MIB * 1024))" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
pad = b"x" * 1014
with open(path, "wb") as f:
    for i in range(n):
        f.write(b"%09d" % i + pad + b"\n")
PY
"$S" produce -d "$dir/logs" -t bench -p 0 <"$dir/lines"
bytes=$(stat -c %s "$dir/lines")
rm -f "$dir/lines"
cat "$dir"/logs/bench-0/*.log >/dev/null

M=$dir/mnt
mount_fs "$M" "$dir/logs"
stat_data() { stat -c %s "$M/bench/0/data" >/dev/null; }
t_stat1=$(once stat_data)
t_stat2=$(once stat_data)
[ "$(stat -c %s "$M/bench/0/data")" = "$bytes" ] || { echo "bench-fuse: size differs" >&2; exit 1; }
cat_data() { cat "$M/bench/0/data" >/dev/null; }
consume_d() { "$S" consume -d "$dir/logs" -t bench -p 0 -e >/dev/null; }
t_cat=$(timed cat_data)
t_cons=$(timed consume_d)
fusermount3 -u "$M"

# The same partition through seglogd.
start_broker "$dir/logs"
mount_fs "$M" -b "$B"
cat_b() { cat "$M/bench/0/data" >/dev/null; }
consume_b() { "$S" consume -b "$B" -t bench -p 0 -e >/dev/null; }
t_bstat1=$(once stat_data)
t_bcat=$(timed cat_b)
t_bcons=$(timed consume_b)
fusermount3 -u "$M"
kill -TERM "${pids[-2]}" 2>/dev/null || true
wait "${pids[-2]}" 2>/dev/null || true

# TOPICS topics of one partition (one record each).
for i in $(seq 1 "$TOPICS"); do
  mkdir -p "$dir/many/t$i-0"
done
for i in $(seq 1 "$TOPICS"); do echo "r$i"; done >"$dir/one"
/usr/bin/python3 - "$dir/many" "$S" "$TOPICS" <<'PY'
import os, shutil, subprocess, sys
d, s, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.rmtree(d)
subprocess.run([s, "produce", "-d", d, "-t", "t1", "-p", "0"], input=b"r1\n", check=True)
for i in range(2, n + 1):   # copies of the first partition dir, renamed
    shutil.copytree(os.path.join(d, "t1-0"), os.path.join(d, "t%d-0" % i))
PY
mount_fs "$M" "$dir/many"
ls_root() { ls "$M" >/dev/null; }
ls_r() { ls -R "$M" >/dev/null; }
t_ls=$(timed ls_root)
t_lsr=$(timed ls_r)
n=$(ls "$M" | wc -l)
fusermount3 -u "$M"
start_broker "$dir/many"
mount_fs "$M" -b "$B"
t_bls=$(timed ls_root)
t_blsr=$(timed ls_r)
nb=$(ls "$M" | grep -vc "^__")
fusermount3 -u "$M"
[ "$n" = "$TOPICS" ] && [ "$nb" = "$TOPICS" ] || { echo "bench-fuse: ls shows $n / $nb topics" >&2; exit 1; }

echo "# $MIB MiB partition of 1 KiB lines, best of $REPS, page cache warm; $TOPICS topics for ls (broker mode: plus the internal topics seglogd creates)"
line "consume-d-e" "$t_cons" "consume-d-e" "$t_cons" "$bytes"
line "fuse_cat_data" "$t_cat" "consume-d-e" "$t_cons" "$bytes"
line "consume-b-e" "$t_bcons" "consume-b-e" "$t_bcons" "$bytes"
line "fuse-b_cat_data" "$t_bcat" "consume-b-e" "$t_bcons" "$bytes"
printf 'fuse_first_stat_data: %.3f s (index build over %d MiB); second stat %.4f s\n' "$t_stat1" "$MIB" "$t_stat2"
printf 'fuse-b_first_stat_data: %.3f s\n' "$t_bstat1"
printf 'fuse_ls_%d_topics: %.3f s, ls -R %.3f s\n' "$TOPICS" "$t_ls" "$t_lsr"
printf 'fuse-b_ls_%d_topics: %.3f s, ls -R %.3f s\n' "$TOPICS" "$t_bls" "$t_blsr"
