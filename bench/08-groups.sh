#!/usr/bin/env bash
# Consumer groups (issue #5): time for a 10-member group to stabilise after one
# member joins (nine stable members, a tenth subscribes; until all ten hold
# their new assignment), measured against seglogd and against librdkafka's
# mock cluster (`seglog mock-cluster`) in the same invocation; the ratio is
# mock/seglogd (> 1: seglogd faster).  Clients: confluent-kafka (librdkafka
# 2.0.2) in one Python process, heartbeat.interval.ms=100, range assignor,
# 20 partitions (bench/08-groups.py).  Commits/s: bench/08-commit.sh.
# docs/BENCHMARKS.md, "Consumer groups: stabilisation after a join".
# Usage: bench/08-groups.sh BUILD_DIR [ROUNDS] [MOCK_ROUNDS]
set -euo pipefail
BUILD=${1:-build}
ROUNDS=${2:-5}
MROUNDS=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
S="$BUILD/kcat-tools/seglog"
D="$BUILD/brokerd/seglogd"
PY=/usr/bin/python3
for x in "$S" "$D"; do [ -x "$x" ] || { echo "bench-groups: $x not built" >&2; exit 1; }; done
dir=$(mktemp -d "$BUILD/bench-groups.XXXXXX")
pid= mc=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  [ -n "$mc" ] && kill "$mc" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
freeport() { $PY -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
port=$(freeport) mport=$(freeport)
"$D" --override "listeners=PLAINTEXT://127.0.0.1:$port" \
  --override "metrics.listener=127.0.0.1:$mport" --override "log.dirs=$dir/data" \
  --override log.level=warn 2>"$dir/broker.log" &
pid=$!
SB=127.0.0.1:$port
for _ in $(seq 100); do "$S" topics list -b "$SB" >/dev/null 2>&1 && break; sleep 0.1; done
"$S" topics create -b "$SB" -t stab --partitions 20 >/dev/null
mkfifo "$dir/hold"
"$S" mock-cluster --topic stab:20 <"$dir/hold" >"$dir/boot" 2>"$dir/mock.log" &
mc=$!
exec 9>"$dir/hold"
for _ in $(seq 100); do [ -s "$dir/boot" ] && break; sleep 0.05; done
MB=$(head -1 "$dir/boot")
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
s_stab=$($PY "$here/08-groups.py" stabilise "$SB" stab 20 "$ROUNDS")
m_stab=$($PY "$here/08-groups.py" stabilise "$MB" stab 20 "$MROUNDS")
exec 9>&-
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); librdkafka $($PY -c 'import confluent_kafka as c; print(c.libversion()[0])')"
echo "seglogd: $s_stab"
echo "mock:    $m_stab"
sm=$(echo "$s_stab" | field median_ms) mm=$(echo "$m_stab" | field median_ms)
awk -v s="$sm" -v m="$mm" 'BEGIN { printf "10-member group stabilises after a join: seglogd %.0f ms, mock %.0f ms (medians), ratio mock/seglogd %.2f\n", s, m, (s > 0 ? m / s : 0) }'
