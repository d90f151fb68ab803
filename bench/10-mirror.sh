#!/usr/bin/env bash
# seglog-mirror throughput and latency between two local seglogd instances
# (issue #7: mirror throughput >= 1.0x a `kcat -C | kcat -P` pipe between the
# same brokers, same run; replication latency p99 at half of peak).
#   source: topic "src" on broker A, P partitions, N keyed records of ~100 B
#   pipe:   kcat -C -b A -t src -e -f '%k\t%s\n' | kcat -P -b B -t pipeR -K '\t'
#   mirror: seglog-mirror A->B (topics = src, into A.src on a fresh broker B
#           per rep), from process start until B acknowledged all N records
#           (seglog_mirror_records_total on its metrics endpoint)
#   mirror+lz4: the same with B.producer.compression.type = lz4 (the
#           mirror's default is MM2's: none, like the pipe's kcat -P)
#   latency: the mirror runs; a producer writes to "lat" at half the measured
#           mirror rate for 10 s with CreateTime = send time; consumers on A
#           and B (10-mirror-latency.py, partition 0) give source, end-to-end and
#           replication (arrival on B - arrival on A) p50/p99/max
# The pipe loses partitions and headers (kcat's line format): it is the
# floor the issue names, not an equivalent copy.
# Usage: bench/10-mirror.sh BUILD_DIR [RECORDS] [REPS] [PARTITIONS]
set -euo pipefail
BUILD=${1:-build}
N=${2:-1000000}
REPS=${3:-3}
P=${4:-6}
M="$BUILD/mirror/seglog-mirror"
D="$BUILD/brokerd/seglogd"
PY=/usr/bin/python3
for x in "$M" "$D"; do [ -x "$x" ] || { echo "bench-mirror: $x not built" >&2; exit 1; }; done
command -v kcat >/dev/null || { echo "bench-mirror: kcat not installed" >&2; exit 1; }
dir=$(mktemp -d "$BUILD/bench-mirror.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { "$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
BPORT=
start_broker() { # NAME: sets BPORT
  local mport
  BPORT=$(free_port)
  mport=$(free_port)
  "$D" --override "listeners=PLAINTEXT://127.0.0.1:$BPORT" \
    --override "metrics.listener=127.0.0.1:$mport" --override "log.dirs=$dir/$1" \
    --override log.level=warn 2>"$dir/$1.log" &
  pids+=($!)
  for _ in $(seq 100); do kcat -b "127.0.0.1:$BPORT" -L -m 1 >/dev/null 2>&1 && break; sleep 0.1; done
}
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", b - a }'; }
mirror_conf() { # FILE B TOPIC METRICSPORT [EXTRA...]
  local f=$1 b=$2 t=$3 mp=$4
  shift 4
  {
    echo "clusters = A, B"
    echo "A.bootstrap.servers = $A"
    echo "B.bootstrap.servers = $b"
    echo "A->B.enabled = true"
    echo "A->B.topics = $t"
    echo "emit.checkpoints.enabled = false"
    # Progress on the (fresh) target: syncs on A would say a later rep's
    # fresh B already has everything.
    echo "offset-syncs.topic.location = target"
    echo "metrics.listener = 127.0.0.1:$mp"
    local l
    for l in "$@"; do echo "$l"; done
  } >"$f"
}

start_broker a
A=127.0.0.1:$BPORT
"$PY" - "$A" "$N" "$P" <<'PY'
import sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
bs, n, parts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
a = AdminClient({"bootstrap.servers": bs})
for f in a.create_topics([NewTopic("src", parts, 1)]).values():
    f.result(30)
p = Producer({"bootstrap.servers": bs, "linger.ms": 20, "batch.num.messages": 10000,
              "queue.buffering.max.messages": 2000000})
pad = b"x" * 88
for i in range(n):
    while True:
        try:
            p.produce("src", key=b"k%09d" % i, value=b"%09d" % i + pad, partition=i % parts)
            break
        except BufferError:
            p.poll(0.05)
    if i % 10000 == 0:
        p.poll(0)
p.flush(120)
PY

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at start"
t_pipe=() t_mirror=() t_lz4=()
MT=
mirror_time() { # REP VARIANT [EXTRA...]: one mirror run to a fresh B; sets MT (seconds)
  local r=$1 v=$2 mp a b c mpid deadline
  shift 2
  start_broker "b$r$v"
  mp=$(free_port)
  mirror_conf "$dir/mm$r$v.properties" "127.0.0.1:$BPORT" src "$mp" "$@"
  a=$(now)
  "$M" "$dir/mm$r$v.properties" 2>>"$dir/mirror.log" &
  mpid=$!
  pids+=("$mpid")
  deadline=$(($(date +%s) + 600))
  while :; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "bench-mirror: mirror did not finish" >&2; exit 1; }
    c=$(curl -s "http://127.0.0.1:$mp/" 2>/dev/null |
      awk '/^seglog_mirror_records_total\{/ { s += $2 } END { print s + 0 }' || true)
    [ "$c" -ge "$N" ] && break
    kill -0 "$mpid" 2>/dev/null || { tail "$dir/mirror.log" >&2; exit 1; }
    sleep 0.02
  done
  b=$(now)
  kill -TERM "$mpid"
  wait "$mpid" || true
  MT=$(el "$a" "$b")
}
for r in $(seq "$REPS"); do
  start_broker "b$r"
  B=127.0.0.1:$BPORT
  a=$(now)
  kcat -C -b "$A" -t src -o beginning -e -q -f '%k\t%s\n' 2>>"$dir/err" |
    kcat -P -b "$B" -t "pipe$r" -K '\t' 2>>"$dir/err"
  b=$(now)
  t_pipe+=("$(el "$a" "$b")")
  got=$(kcat -C -b "$B" -t "pipe$r" -o beginning -e -q -f '\n' 2>/dev/null | wc -l)
  [ "$got" = "$N" ] || { echo "bench-mirror: pipe copied $got of $N" >&2; exit 1; }

  mirror_time "$r" d
  t_mirror+=("$MT")
  mirror_time "$r" z "B.producer.compression.type = lz4"
  t_lz4+=("$MT")
done
best() { printf '%s\n' "$@" | sort -g | head -1; }
tp=$(best "${t_pipe[@]}")
tm=$(best "${t_mirror[@]}")
tz=$(best "${t_lz4[@]}")
rate_p=$(awk -v n="$N" -v t="$tp" 'BEGIN { printf "%.0f", n / t }')
rate_m=$(awk -v n="$N" -v t="$tm" 'BEGIN { printf "%.0f", n / t }')
echo "mirror-throughput records=$N partitions=$P reps=$REPS pipe_s=$tp mirror_s=$tm" \
  "pipe_rps=$rate_p mirror_rps=$rate_m ratio=$(awk -v a="$tp" -v b="$tm" 'BEGIN { printf "%.2f", a / b }')"
echo "mirror-throughput[lz4] mirror_s=$tz" \
  "mirror_rps=$(awk -v n="$N" -v t="$tz" 'BEGIN { printf "%.0f", n / t }')" \
  "ratio=$(awk -v a="$tp" -v b="$tz" 'BEGIN { printf "%.2f", a / b }')"
echo "machine: load $(cut -d' ' -f1-3 /proc/loadavg) after the throughput runs"

# Latency at half of the measured peak, the mirror running continuously.
start_broker blat
B=127.0.0.1:$BPORT
mp=$(free_port)
mirror_conf "$dir/mmlat.properties" "$B" lat "$mp" "refresh.topics.interval.seconds = 1" \
  "B.producer.linger.ms = 1" "A.consumer.fetch.wait.max.ms = 5"
"$PY" -c 'import sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": sys.argv[1]})
for f in a.create_topics([NewTopic("lat", int(sys.argv[2]), 1)]).values():
    f.result(30)' "$A" "$P"
"$M" "$dir/mmlat.properties" 2>>"$dir/mirror.log" &
pids+=($!)
sleep 2
"$PY" "$(dirname "$0")/10-mirror-latency.py" "$A" "$B" "$((rate_m / 2))" "$P" A.lat
# The mirror's own view: source timestamp to target acknowledgement, p99 as
# the upper bound of its histogram bucket.
curl -s "http://127.0.0.1:$mp/" | awk '
  /^seglog_mirror_latency_ms_bucket/ { match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); n++; b[n] = le; c[n] = $2 }
  /^seglog_mirror_latency_ms_count/ { tot = $2 }
  END { for (i = 1; i <= n; i++) if (c[i] >= 0.99 * tot) { p99 = b[i]; break }
        for (i = 1; i <= n; i++) if (c[i] >= 0.50 * tot) { p50 = b[i]; break }
        printf "mirror-latency-histogram records=%d p50_le_ms=%s p99_le_ms=%s\n", tot, p50, p99 }'
echo "machine: load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
