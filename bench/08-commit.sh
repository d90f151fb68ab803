#!/usr/bin/env bash
# Offset-commit throughput of seglogd's group coordinator (docs/GROUPS.md,
# "Storage"): one confluent-kafka consumer (librdkafka), member of a group
# with one partition assigned, commits synchronously in a loop (one
# OffsetCommit per call, each appended to __consumer_offsets before the
# answer).  Baseline in the same run: the same client against librdkafka's
# in-process mock cluster (test.mock.num.brokers=1), which keeps commits in
# memory.  Best of REPS runs of SECONDS each.
# Usage: bench/08-commit.sh BUILD_DIR [SECONDS] [REPS]  (bench/run-all.sh runs it)
set -euo pipefail
BUILD=${1:-build}
SECS=${2:-5}
REPS=${3:-3}
PY=/usr/bin/python3
D="$BUILD/brokerd/seglogd"
[ -x "$D" ] || { echo "bench-commit: $D not built" >&2; exit 1; }
"$PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "bench-commit: $PY lacks confluent-kafka" >&2; exit 1; }
dir=$(mktemp -d "$BUILD/bench-commit.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
cat >"$dir/commit.py" <<'PY'
import sys, time
from confluent_kafka import Consumer, Producer, TopicPartition
target, secs = sys.argv[1], float(sys.argv[2])
conf = {"test.mock.num.brokers": 1} if target == "mock" else {"bootstrap.servers": target}
p = Producer(conf)
p.produce("bench", value=b"x", partition=0)
p.flush(10)
c = Consumer(dict(conf, **{"group.id": "bench", "enable.auto.commit": False,
                           "auto.offset.reset": "earliest", "log_level": 3}))
c.subscribe(["bench"])
end = time.time() + 30
while not c.assignment() and time.time() < end:
    c.poll(0.1)
assert c.assignment(), "no partition assigned"
n, t0 = 0, time.time()
while time.time() - t0 < secs:
    n += 1
    c.commit(offsets=[TopicPartition("bench", 0, n)], asynchronous=False)
dt = time.time() - t0
got = c.committed([TopicPartition("bench", 0)], timeout=10)[0].offset
assert got == n, "committed %r, last commit %d" % (got, n)
c.close()
print("%.1f" % (n / dt))
PY
port=$("$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
mport=$("$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$D" --override "listeners=PLAINTEXT://127.0.0.1:$port" \
  --override "metrics.listener=127.0.0.1:$mport" --override "log.dirs=$dir/data" \
  --override group.initial.rebalance.delay.ms=0 --override num.partitions=1 2>"$dir/broker.log" &
pid=$!
for ((i = 0; i < 100; i++)); do
  "$PY" -c 'import socket, sys
s = socket.socket(); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))))' "$port" && break
  sleep 0.05
done
best() { sort -g | tail -1; }
mock=$(for _ in $(seq "$REPS"); do timeout 120 "$PY" "$dir/commit.py" mock "$SECS" 2>/dev/null; done | best)
sd=$(for _ in $(seq "$REPS"); do timeout 120 "$PY" "$dir/commit.py" "127.0.0.1:$port" "$SECS" 2>/dev/null; done | best)
echo "# one confluent-kafka $("$PY" -c 'import confluent_kafka as c; print(c.libversion()[0])') consumer, synchronous commits of one partition, best of $REPS x ${SECS}s"
awk -v m="$mock" -v s="$sd" 'BEGIN {
  printf "commit[mock_cluster]: %.0f commits/s (ratio 1.00 of commit[mock_cluster])\n", m
  printf "commit[seglogd]: %.0f commits/s (ratio %.2f of commit[mock_cluster])\n", s, s / m }'
