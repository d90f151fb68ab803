#!/usr/bin/env bash
# seglogd against librdkafka's in-memory mock cluster and loopback TCP, in the
# same run (docs/BENCHMARKS.md, "Broker"; issue 3):
#   - librdkafka's own rdkafka_performance (Debian's librdkafka-dev example,
#     compiled here against bench/rdperf/src, our stand-ins for the few private
#     librdkafka helpers it includes) produces MSGS 1 KiB messages to one
#     partition with acks=1, then acks=all, and consumes them back, against
#     seglogd (writing to disk under BUILD) and against `seglog mock-cluster`
#     (librdkafka's mock cluster, one broker, in its own process);
#   - the same acks=1 producer with librdkafka's default linger.ms (5) and
#     3*MSGS messages: rdkafka_performance sets linger.ms=1000 itself, so in
#     the runs above the last partial batch waits a second after the rest is
#     delivered, and most of each timed run is that wait (docs/BENCHMARKS.md,
#     "Broker produce, third look"); this run times the transfer itself;
#   - iperf3 measures loopback TCP bandwidth;
#   - produce latency (p50/p99, bench/rdperf/prodlat.c) at half of the
#     acks=1 peak message rate, against both, with the client's default
#     linger.ms and with linger.ms=0.
# Prints `name: value unit (ratio X.XX of BASELINE)` lines; best of REPS.
# Usage: bench/06-broker.sh BUILD_DIR [MSGS] [REPS]
# Environment: SEGLOG_FETCH_SENDFILE=0 runs seglogd with the copying Fetch
# path (docs/BROKER.md); BENCH_X="k=v ..." adds -X options to every client.
set -euo pipefail
BUILD=${1:-build}
MSGS=${2:-300000}
REPS=${3:-3}
SRCDIR=$(cd "$(dirname "$0")" && pwd)
SEGLOGD="$BUILD/brokerd/seglogd"
SEGLOG="$BUILD/kcat-tools/seglog"
for f in "$SEGLOGD" "$SEGLOG" "$BUILD/bench/prodflood"; do
  [ -x "$f" ] || { echo "bench-broker: $f not built" >&2; exit 1; }
done
for t in iperf3 jq cc kcat; do
  command -v "$t" > /dev/null || { echo "bench-broker: $t not installed" >&2; exit 1; }
done
BUILD=$(cd "$BUILD" && pwd)

# --- rdkafka_performance, compiled from the installed example ---
EX=/usr/share/doc/librdkafka-dev/examples/rdkafka_performance.c
PERF="$BUILD/bench/rdkafka_performance"
if [ ! -e "$EX" ] && [ -e "$EX.gz" ]; then
  mkdir -p "$BUILD/bench"
  gzip -dc "$EX.gz" > "$BUILD/bench/rdkafka_performance.c"
  EX="$BUILD/bench/rdkafka_performance.c"
fi
[ -e "$EX" ] || { echo "bench-broker: $EX missing (apt-get install librdkafka-dev)" >&2; exit 1; }
if [ ! -x "$PERF" ] || [ "$EX" -nt "$PERF" ] || [ "$SRCDIR/rdperf/src/rd.h" -nt "$PERF" ]; then
  mkdir -p "$BUILD/bench"
  # The example is librdkafka's code, not ours: built as shipped, warnings off.
  cc -O2 -w -I "$SRCDIR/rdperf/src" -o "$PERF" "$EX" -lrdkafka -lm
fi
PRODLAT="$BUILD/bench/prodlat"
FLOOD="$BUILD/bench/prodflood" # bench/prodflood.c, built with the project
if [ ! -x "$PRODLAT" ] || [ "$SRCDIR/rdperf/prodlat.c" -nt "$PRODLAT" ]; then
  cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -o "$PRODLAT" \
    "$SRCDIR/rdperf/prodlat.c" -lrdkafka
fi

dir=$(mktemp -d "$BUILD/bench-broker.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2> /dev/null || true
    wait "$p" 2> /dev/null || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
wait_port() {
  local i
  for ((i = 0; i < 200; i++)); do
    if /usr/bin/python3 -c 'import socket, sys
s = socket.socket(); s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"; then
      return 0
    fi
    sleep 0.05
  done
  echo "bench-broker: nothing listens on $1" >&2
  exit 1
}

# --- the two brokers ---
SD_PORT=$(free_port)
SD_METRICS=$(free_port)
"$SEGLOGD" --override "listeners=PLAINTEXT://127.0.0.1:$SD_PORT" \
  --override "metrics.listener=127.0.0.1:$SD_METRICS" \
  --override "log.dirs=$dir/data" --override num.partitions=4 2> "$dir/seglogd.log" &
PIDS+=($!)
wait_port "$SD_PORT"
SD="127.0.0.1:$SD_PORT"

mkfifo "$dir/mock.in"
"$SEGLOG" mock-cluster < "$dir/mock.in" > "$dir/mock.out" 2> "$dir/mock.err" &
PIDS+=($!)
exec 9> "$dir/mock.in" # the mock serves until this closes
for ((i = 0; i < 200; i++)); do
  [ -s "$dir/mock.out" ] && break
  sleep 0.05
done
MOCK=$(head -1 "$dir/mock.out")
[ -n "$MOCK" ] || { echo "bench-broker: mock cluster did not start" >&2; cat "$dir/mock.err" >&2; exit 1; }

XOPTS=()
for x in ${BENCH_X:-}; do XOPTS+=(-X "$x"); done

# perf_run MODE BROKERS TOPIC ARGS... : prints "msgs/s MB/s" (MB = 10^6 bytes).
perf_run() {
  local mode=$1 brokers=$2 topic=$3 out
  shift 3
  out=$(timeout 120 "$PERF" "$mode" -t "$topic" -b "$brokers" -q "${XOPTS[@]}" "$@" 2>&1) || {
    echo "bench-broker: rdkafka_performance $mode $* against $brokers failed:" >&2
    echo "$out" >&2
    exit 1
  }
  # "... in 1170ms: 170859 msgs/s and 174.96 MB/s" / "consumed in 266ms: 751385 msgs/s (769.42 MB/s)"
  echo "$out" | grep -E "(delivered|consumed)" | grep -v " 0 delivered" | tail -1 |
    sed -E 's/.*: ([0-9]+) msgs\/s[^0-9]*([0-9.]+) MB\/s.*/\1 \2/'
}

best() { sort -k2 -g -r | head -1; }

# flood BROKERS TOPIC ACKS: prodflood (bench/prodflood.c), MSGS 1 KiB
# records in pre-built 1000-record batches, 8 requests in flight: the
# broker's own ceiling, which one rdkafka_performance producer cannot reach.
flood() {
  timeout 120 "$FLOOD" "$1" "$2" 0 "$MSGS" 1024 1000 8 "$3" || {
    echo "bench-broker: prodflood against $1 failed" >&2
    exit 1
  }
}

# drop TARGET TOPIC: deletes a produce repetition's topic on seglogd, so that
# its dirty pages are gone before the next repetition.  Otherwise each run
# writes into a page cache still holding the previous runs' unwritten
# megabytes, and once those near the kernel's dirty limit every writer is
# throttled to the disk's write-back rate: the later repetitions would measure
# the disk, not the broker (docs/BENCHMARKS.md).  The mock keeps ~5 MiB.
drop() {
  [ "$1" = seglogd ] || return 0
  "$SEGLOG" topics delete -b "$SD" -t "$2" > /dev/null 2>&1 || {
    echo "bench-broker: cannot delete topic $2 on seglogd" >&2
    exit 1
  }
}

# precreate BROKERS TOPIC...: creates the topics through a Metadata request
# (auto-creation, as the producer would), before the timed run: the figure is
# produce throughput, not topic creation.  rdkafka_performance's clock starts
# before its first Metadata request, and seglogd's creation of 4 partitions
# (directories, index files, partition.metadata, fsyncs: 15-35 ms here) would
# otherwise count against it, while the mock creates in memory.
precreate() {
  local b=$1 t
  shift
  for t in "$@"; do
    timeout 30 kcat -L -b "$b" -t "$t" > /dev/null 2>&1 || {
      echo "bench-broker: cannot create topic $t on $b" >&2
      exit 1
    }
  done
}

# produce_reps: REPS rounds; each round runs every producer against the mock
# and then against seglogd (rdkafka_performance acks=1 and acks=all, prodflood
# acks=1 and acks=all), so both brokers see the same machine state, however
# it drifts over the run.  Each result is appended to $dir/res.<name>.
produce_reps() {
  local r t b
  for r in $(seq "$REPS"); do
    for t in mock seglogd; do
      b=$MOCK
      [ $t = seglogd ] && b=$SD
      precreate "$b" "a1-$r" "all-$r" "l5-$r"
      perf_run -P "$b" "a1-$r" -p 0 -s 1024 -c "$MSGS" -a 1 >> "$dir/res.${t}_p1"
      drop $t "a1-$r"
      perf_run -P "$b" "all-$r" -p 0 -s 1024 -c "$MSGS" -a -1 >> "$dir/res.${t}_pall"
      drop $t "all-$r"
      perf_run -P "$b" "l5-$r" -p 0 -s 1024 -c $((MSGS * 3)) -a 1 -X linger.ms=5 >> "$dir/res.${t}_p5"
      drop $t "l5-$r"
      flood "$b" "fl1-$r" 1 >> "$dir/res.${t}_f1"
      drop $t "fl1-$r"
      flood "$b" "flall-$r" -1 >> "$dir/res.${t}_fall"
      drop $t "flall-$r"
    done
  done
}
# res NAME: the best "msgs/s MB/s" of $dir/res.NAME
res() { best < "$dir/res.$1"; }
# median_ratio A B: the median over rounds of A's MB/s / B's MB/s
median_ratio() {
  paste -d' ' "$dir/res.$1" "$dir/res.$2" | awk '{ print ($4 > 0 ? $2 / $4 : 0) }' |
    sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# consume TARGET BROKERS: sets R_<target>_c = "msgs/s MB/s"
consume() {
  local name=$1 b=$2 r c
  # MSGS messages spread over the 4 partitions
  for r in 0 1 2 3; do perf_run -P "$b" cons -p "$r" -s 1024 -c $((MSGS / 4)) -a 1 > /dev/null; done
  c=$(for r in $(seq $((REPS * 3))); do
    perf_run -C "$b" cons -p 0 -p 1 -p 2 -p 3 -o "-$WINDOW" -c $((WINDOW * 4))
  done | best)
  eval "R_${name}_c=\"$c\""
}

# latency BROKERS TOPIC RATE [k=v...]: prints "p50 p99 max n failed rate" (ms)
# of produce latency at RATE msgs/s (acks=1), 5 s after 1 s of warm-up.
# rdkafka_performance's own -r/-l pacing busy-polls a core and falls behind
# the rate on this machine, so bench/rdperf/prodlat.c does this part.
latency() {
  local b=$1 topic=$2 rate=$3
  shift 3
  timeout 60 "$PRODLAT" "$b" "$topic" "$rate" 5 1 "$@" || {
    echo "bench-broker: prodlat against $b failed" >&2
    exit 1
  }
}

# --- loopback TCP ---
IP_PORT=$(free_port)
iperf3 -s -p "$IP_PORT" > /dev/null 2>&1 &
PIDS+=($!)
TCP_MBS=
for ((i = 0; i < 50; i++)); do # (a probe connection would confuse iperf3)
  if iperf3 -c 127.0.0.1 -p "$IP_PORT" -t 3 -J > "$dir/iperf3.json" 2> /dev/null &&
    jq -e '.end.sum_received.bits_per_second' "$dir/iperf3.json" > /dev/null 2>&1; then
    TCP_MBS=$(jq '.end.sum_received.bits_per_second / 8 / 1e6' "$dir/iperf3.json")
    break
  fi
  sleep 0.1
done
[ -n "$TCP_MBS" ] || { echo "bench-broker: iperf3 failed" >&2; exit 1; }

# The mock keeps only the newest ~5 MiB of a partition (and auto-creates
# topics with 4 partitions; seglogd gets num.partitions=4 to match), so
# consume is compared over the last WINDOW messages of each of 4 partitions;
# seglogd is also timed consuming all MSGS of one partition.
WINDOW=3500
produce_reps
R_mock_p1=$(res mock_p1) R_seglogd_p1=$(res seglogd_p1)
R_mock_pall=$(res mock_pall) R_seglogd_pall=$(res seglogd_pall)
R_mock_p5=$(res mock_p5) R_seglogd_p5=$(res seglogd_p5)
F1_mock=$(res mock_f1) F1_seglogd=$(res seglogd_f1)
Fall_mock=$(res mock_fall) Fall_seglogd=$(res seglogd_fall)
consume mock "$MOCK"
consume seglogd "$SD"
perf_run -P "$SD" all1 -p 0 -s 1024 -c "$MSGS" -a 1 > /dev/null
R_seglogd_call=$(for r in $(seq "$REPS"); do perf_run -C "$SD" all1 -p 0 -o beginning -c "$MSGS"; done | best)
drop seglogd all1

# Half of the slower acks=1 peak, so both brokers can keep up.
peak=$(printf '%s\n%s\n' "${R_mock_p1% *}" "${R_seglogd_p1% *}" | sort -n | head -1)
half=$((peak / 2))
L_mock=$(latency "$MOCK" lat "$half")
L_seglogd=$(latency "$SD" lat "$half")
L0_mock=$(latency "$MOCK" lat0 "$half" linger.ms=0)
L0_seglogd=$(latency "$SD" lat0 "$half" linger.ms=0)

fetch_mode=sendfile
[ "${SEGLOG_FETCH_SENDFILE:-1}" = 0 ] && fetch_mode=copy
echo "# produce: $MSGS messages of 1024 bytes to one partition, best of $REPS rounds (each round: mock, then seglogd); consume: the last $WINDOW of each of 4 partitions, best of $((REPS * 3)) ([all]: $MSGS from one partition); MB = 10^6 bytes"
rdver=$({ "$PERF" 2>&1 || true; } | sed -n 's/^librdkafka version \([^ ]*\).*/\1/p')
echo "# seglogd: log.dirs under the build dir, Fetch path: $fetch_mode; mock: seglog mock-cluster; librdkafka $rdver"
awk -v v="$TCP_MBS" 'BEGIN { printf "loopback_tcp[iperf3]: %.0f MB/s\n", v }'
line() { # name "msgs MB" baseline-name "msgs MB"
  awk -v n="$1" -v a="$2" -v bn="$3" -v b="$4" -v tcp="$TCP_MBS" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    printf "%s: %.1f MB/s %d msgs/s (ratio %.2f of %s; %.3f of loopback_tcp)\n",
      n, x[2], x[1], (y[2] > 0 ? x[2] / y[2] : 0), bn, x[2] / tcp }'
}
line "mock_produce[acks=1]" "$R_mock_p1" "mock_produce[acks=1]" "$R_mock_p1"
line "seglogd_produce[acks=1]" "$R_seglogd_p1" "mock_produce[acks=1]" "$R_mock_p1"
echo "  (median over $REPS rounds of seglogd/mock: $(median_ratio seglogd_p1 mock_p1))"
line "mock_produce[acks=all]" "$R_mock_pall" "mock_produce[acks=all]" "$R_mock_pall"
line "seglogd_produce[acks=all]" "$R_seglogd_pall" "mock_produce[acks=all]" "$R_mock_pall"
echo "  (median over $REPS rounds of seglogd/mock: $(median_ratio seglogd_pall mock_pall))"
line "mock_produce[acks=1,linger.ms=5]" "$R_mock_p5" "mock_produce[acks=1,linger.ms=5]" "$R_mock_p5"
line "seglogd_produce[acks=1,linger.ms=5]" "$R_seglogd_p5" "mock_produce[acks=1,linger.ms=5]" "$R_mock_p5"
echo "  (median over $REPS rounds of seglogd/mock: $(median_ratio seglogd_p5 mock_p5); $((MSGS * 3)) messages)"
line "mock_produce_flood[acks=1]" "$F1_mock" "mock_produce_flood[acks=1]" "$F1_mock"
line "seglogd_produce_flood[acks=1]" "$F1_seglogd" "mock_produce_flood[acks=1]" "$F1_mock"
line "mock_produce_flood[acks=all]" "$Fall_mock" "mock_produce_flood[acks=all]" "$Fall_mock"
line "seglogd_produce_flood[acks=all]" "$Fall_seglogd" "mock_produce_flood[acks=all]" "$Fall_mock"
line "mock_consume" "$R_mock_c" "mock_consume" "$R_mock_c"
line "seglogd_consume" "$R_seglogd_c" "mock_consume" "$R_mock_c"
line "seglogd_consume[all]" "$R_seglogd_call" "seglogd_consume[all]" "$R_seglogd_call"
lat() { # name "p50 p99 max n failed rate"
  awk -v n="$1" -v l="$2" 'BEGIN { split(l, x, " ")
    printf "%s: p50 %.2f ms, p99 %.2f ms, max %.1f ms (%d messages, %d/s achieved)\n",
      n, x[1], x[2], x[3], x[4], x[6] }'
}
lat "mock_produce_latency[acks=1,$half/s]" "$L_mock"
lat "seglogd_produce_latency[acks=1,$half/s]" "$L_seglogd"
lat "mock_produce_latency[acks=1,linger.ms=0,$half/s]" "$L0_mock"
lat "seglogd_produce_latency[acks=1,linger.ms=0,$half/s]" "$L0_seglogd"
