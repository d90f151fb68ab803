#!/usr/bin/env bash
# seglogd's background compaction must not stall the broker (docs/BROKER.md,
# "Log compaction").  In one run, twice: a compacted topic is written
# continuously by kcat (1 KiB values over 1000 keys) while a probe sends one
# message at a time (acks=1, one in flight, confluent-kafka) and times every
# round trip; first with the cleaner disabled (baseline), then with it
# running (log.cleaner.backoff.ms=100, min.cleanable.dirty.ratio=0.01).
# Prints probe p50/p99/max for both (ratio = baseline p99 / cleaner p99) and
# the cleaner's throughput from its log lines (input MB/s of the rounds).
# The probe runs until the writer is done (at least PROBES round trips).
# Usage: bench/12-broker-compaction.sh BUILD_DIR [MiB] [PROBES]
set -euo pipefail
BUILD=${1:-build}
MIB=${2:-256}
PROBES=${3:-3000}
SEGLOGD="$BUILD/brokerd/seglogd"
[ -x "$SEGLOGD" ] || { echo "bench-compaction: $SEGLOGD not built" >&2; exit 1; }
command -v kcat >/dev/null || { echo "bench-compaction: kcat missing" >&2; exit 1; }
dir=$(mktemp -d "$BUILD/bench-compaction.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
free_port() { /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
/usr/bin/python3 - "$dir/input" "$((MIB * 1024))" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
pad = "x" * 1000
with open(path, "w") as f:
    for i in range(n):
        f.write("k%03d:%09d%s\n" % (i % 1000, i, pad))
PY

run() { # run NAME ENABLE -> prints "p50 p99 max" and leaves the broker log in $dir/NAME.log
  local name=$1 enable=$2 port
  rm -rf "$dir/data"
  port=$(free_port)
  "$SEGLOGD" --override "listeners=PLAINTEXT://127.0.0.1:$port" \
    --override "metrics.listener=127.0.0.1:$(free_port)" --override "log.dirs=$dir/data" \
    --override "log.cleaner.enable=$enable" --override log.cleaner.backoff.ms=100 \
    2>"$dir/$name.log" &
  pid=$!
  sleep 0.5
  /usr/bin/python3 - "$port" <<'PY'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": "127.0.0.1:" + sys.argv[1]})
a.create_topics([NewTopic("bc", 1, 1, config={"cleanup.policy": "compact", "segment.bytes": "8388608",
                                             "min.cleanable.dirty.ratio": "0.01"})])["bc"].result(10)
a.create_topics([NewTopic("probe", 1, 1)])["probe"].result(10)
PY
  rm -f "$dir/written"
  { kcat -b "127.0.0.1:$port" -P -t bc -p 0 -K: -X linger.ms=5 <"$dir/input"; touch "$dir/written"; } &
  local writer=$!
  /usr/bin/python3 - "$port" "$PROBES" "$dir/written" <<'PY'
import os, sys, time
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": "127.0.0.1:" + sys.argv[1], "linger.ms": 0, "acks": 1})
done = []
def dr(err, msg):
    done.append(err)
p.produce("probe", b"warm", partition=0, on_delivery=dr)
p.flush(10)
lat = []
# Probe while the writer runs (the cleaner works on what it writes), at
# least PROBES times.
while len(lat) < int(sys.argv[2]) or not os.path.exists(sys.argv[3]):
    done.clear()
    t = time.perf_counter()
    p.produce("probe", b"x" * 100, partition=0, on_delivery=dr)
    while not done:
        p.poll(1)
    lat.append((time.perf_counter() - t) * 1000)
    if done[0] is not None:
        sys.exit("probe failed: %s" % done[0])
lat.sort()
print("%.3f %.3f %.3f" % (lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1]))
PY
  wait "$writer"
  kill -TERM "$pid"
  wait "$pid" || true
  pid=""
}

base=$(run off false)
busy=$(run on true)
rounds=$(grep -c "cleaner: bc-0 compacted" "$dir/on.log" || true)
mbps=$(grep "cleaner: bc-0 compacted" "$dir/on.log" |
  sed -n 's/.*segments (\([0-9]*\) bytes.*, \([0-9.]*\) ms$/\1 \2/p' |
  awk '{ b += $1; t += $2 } END { if (t > 0) printf "%.0f", b / 1e6 / (t / 1000); else print "n/a" }')
echo "# $MIB MiB of 1 KiB values over 1000 keys written by kcat while one-at-a-time probe produces run"
read -r b50 b99 bmax <<<"$base"
read -r c50 c99 cmax <<<"$busy"
awk -v b="$b99" -v c="$c99" -v p="$c50" -v m="$cmax" -v bp="$b50" -v bm="$bmax" 'BEGIN {
  printf "probe_p99[cleaner]: %.2f ms (ratio %.2f of probe_p99[no cleaner] %.2f ms)\n", c, b / c, b
  printf "probe_p50: %.2f ms with the cleaner, %.2f ms without; max %.1f / %.1f ms\n", p, bp, m, bm
}'
echo "cleaner: $rounds rounds during the run, ${mbps} MB/s of input per round"
