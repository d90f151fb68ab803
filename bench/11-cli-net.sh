#!/usr/bin/env bash
# Network mode of the seglog CLI against kcat, same broker, same run
# (issue #4: network produce and consume through seglog reach >= 0.8 of kcat).
#   produce: N MiB of 1 KiB lines from a file, `kcat -P -t T -p 0 -l FILE`
#            vs `seglog produce -b B -t T -p 0 -l FILE` (both librdkafka, acks=all
#            default for seglog, `-X acks=all` given to kcat too)
#   consume: `kcat -C -e -t T -p 0 -o beginning > /dev/null`
#            vs `seglog consume -b B -t T -p 0 -e > /dev/null`
# One seglogd on a temp dir and a free port; best of REPS runs, each into a
# fresh topic so that both tools write and read the same amount.
# Usage: bench/11-cli-net.sh BUILD_DIR [MiB] [REPS]
set -euo pipefail
BUILD=${1:-build}
MIB=${2:-256}
REPS=${3:-3}
S="$BUILD/kcat-tools/seglog"
D="$BUILD/brokerd/seglogd"
for x in "$S" "$D"; do [ -x "$x" ] || { echo "bench-cli-net: $x not built" >&2; exit 1; }; done
command -v kcat >/dev/null || { echo "bench-cli-net: kcat not installed" >&2; exit 1; }
dir=$(mktemp -d "$BUILD/bench-cli-net.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
port=$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
mport=$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$D" --override "listeners=PLAINTEXT://127.0.0.1:$port" \
  --override "metrics.listener=127.0.0.1:$mport" --override "log.dirs=$dir/data" \
  --override log.level=warn 2>"$dir/broker.log" &
pid=$!
B=127.0.0.1:$port
for _ in $(seq 100); do kcat -b "$B" -L -m 1 >/dev/null 2>&1 && break; sleep 0.1; done
/usr/bin/python3 - "$dir/lines" "$((MIB * 1024))" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
pad = b"x" * 1014
with open(path, "wb") as f:
    for i in range(n):
        f.write(b"%09d" % i + pad + b"\n")
PY
now() { date +%s.%N; }
best() { sort -g | head -1; }
el() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", b - a }'; }
n=0
t_kp=() t_sp=() t_kc=() t_sc=()
for r in $(seq "$REPS"); do
  a=$(now); kcat -b "$B" -P -t "k$r" -p 0 -X acks=all -l "$dir/lines" 2>>"$dir/err"; b=$(now)
  t_kp+=("$(el "$a" "$b")")
  a=$(now); "$S" produce -b "$B" -t "s$r" -p 0 -l "$dir/lines" 2>>"$dir/err"; b=$(now)
  t_sp+=("$(el "$a" "$b")")
  a=$(now); kcat -b "$B" -C -t "k$r" -p 0 -o beginning -e -q > /dev/null 2>>"$dir/err"; b=$(now)
  t_kc+=("$(el "$a" "$b")")
  a=$(now); "$S" consume -b "$B" -t "s$r" -p 0 -e > /dev/null 2>>"$dir/err"; b=$(now)
  t_sc+=("$(el "$a" "$b")")
done
# Both topics hold every line.
want=$((MIB * 1024))
for t in k1 s1; do
  got=$("$S" offsets -b "$B" -t "$t" -p 0 2>/dev/null | awk '{print $NF}' | tail -1)
  [ "$got" = "$want" ] || echo "bench-cli-net: warning: topic $t ends at '$got', want $want" >&2
done
kp=$(printf '%s\n' "${t_kp[@]}" | best); sp=$(printf '%s\n' "${t_sp[@]}" | best)
kc=$(printf '%s\n' "${t_kc[@]}" | best); sc=$(printf '%s\n' "${t_sc[@]}" | best)
line() { awk -v n="$1" -v t="$2" -v bn="$3" -v bt="$4" -v mib="$MIB" \
  'BEGIN { printf "%s: %.0f MiB/s (ratio %.2f of %s)\n", n, mib / t, bt / t, bn }'; }
echo "# $MIB MiB of 1 KiB lines over loopback to one seglogd, best of $REPS"
line kcat_produce "$kp" kcat_produce "$kp"
line seglog_produce "$sp" kcat_produce "$kp"
line kcat_consume "$kc" kcat_consume "$kc"
line seglog_consume "$sc" kcat_consume "$kc"
