#!/usr/bin/env bash
# seglogd against librdkafka's in-memory mock cluster and loopback TCP, in the
# same run (docs/BENCHMARKS.md, "Broker"; issue 3):
#   - librdkafka's own rdkafka_performance (Debian's librdkafka-dev example,
#     compiled here against bench/rdperf/src, our stand-ins for the few private
#     librdkafka helpers it includes) produces MSGS 1 KiB messages to one
#     partition with acks=1, then acks=all, and consumes them back, against
#     seglogd (writing to disk under BUILD) and against `seglog mock-cluster`
#     (librdkafka's mock cluster, one broker, in its own process);
#   - iperf3 measures loopback TCP bandwidth;
#   - produce latency (p50/p99, rdkafka_performance -l -A) at half of the
#     acks=1 peak message rate, against both.
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
for f in "$SEGLOGD" "$SEGLOG"; do
  [ -x "$f" ] || { echo "bench-broker: $f not built" >&2; exit 1; }
done
for t in iperf3 jq cc; do
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
  --override "log.dirs=$dir/data" 2> "$dir/seglogd.log" &
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
  out=$(timeout 120 "$PERF" "$mode" -t "$topic" -p 0 -b "$brokers" -q "${XOPTS[@]}" "$@" 2>&1) || {
    echo "bench-broker: rdkafka_performance $mode $* against $brokers failed:" >&2
    echo "$out" >&2
    exit 1
  }
  # "... in 1170ms: 170859 msgs/s and 174.96 MB/s" / "consumed in 266ms: 751385 msgs/s (769.42 MB/s)"
  echo "$out" | grep -E "(delivered|consumed)" | grep -v " 0 delivered" | tail -1 |
    sed -E 's/.*: ([0-9]+) msgs\/s[^0-9]*([0-9.]+) MB\/s.*/\1 \2/'
}

best() { sort -k2 -g -r | head -1; }

# measure TARGET BROKERS: sets R_<target>_{p1,pall,c} = "msgs/s MB/s"
measure() {
  local name=$1 b=$2 r p1 pall c
  p1=$(for r in $(seq "$REPS"); do perf_run -P "$b" "a1-$r" -s 1024 -c "$MSGS" -a 1; done | best)
  pall=$(for r in $(seq "$REPS"); do perf_run -P "$b" "all-$r" -s 1024 -c "$MSGS" -a -1; done | best)
  c=$(for r in $(seq $((REPS * 5))); do perf_run -C "$b" "a1-1" -o "-$WINDOW" -c "$WINDOW"; done | best)
  eval "R_${name}_p1=\"$p1\"; R_${name}_pall=\"$pall\"; R_${name}_c=\"$c\""
}

# latency NAME BROKERS RATE: prints "p50_ms p99_ms" of produce latency at RATE msgs/s.
latency() {
  local name=$1 b=$2 rate=$3 n
  n=$((rate * 6)) # about 6 s; the first second (connection set-up) is not counted
  perf_run -P "$b" "lat-$name" -s 1024 -c "$n" -a 1 -r "$rate" -l -A "$dir/lat-$name" > /dev/null
  tail -n +$((rate + 1)) "$dir/lat-$name" | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan"; exit }
    i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
    i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
    printf "%.2f %.2f\n", v[i50] / 1000, v[i99] / 1000 }'
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

# The mock keeps only the newest ~5 MiB of a partition, so consume is
# compared over the last WINDOW messages (both brokers, same topic contents);
# seglogd is also timed consuming all MSGS.
WINDOW=3500
measure mock "$MOCK"
measure seglogd "$SD"
R_seglogd_call=$(for r in $(seq "$REPS"); do perf_run -C "$SD" "a1-$r" -o beginning -c "$MSGS"; done | best)

# Half of the slower acks=1 peak, so both brokers can keep up.
peak=$(printf '%s\n%s\n' "${R_mock_p1% *}" "${R_seglogd_p1% *}" | sort -n | head -1)
half=$((peak / 2))
L_mock=$(latency mock "$MOCK" "$half")
L_seglogd=$(latency seglogd "$SD" "$half")

fetch_mode=sendfile
[ "${SEGLOG_FETCH_SENDFILE:-1}" = 0 ] && fetch_mode=copy
echo "# produce: $MSGS messages of 1024 bytes to one partition, best of $REPS; consume: the last $WINDOW of them, best of $((REPS * 5)) ([all]: all $MSGS); MB = 10^6 bytes"
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
line "mock_produce[acks=all]" "$R_mock_pall" "mock_produce[acks=all]" "$R_mock_pall"
line "seglogd_produce[acks=all]" "$R_seglogd_pall" "mock_produce[acks=all]" "$R_mock_pall"
line "mock_consume" "$R_mock_c" "mock_consume" "$R_mock_c"
line "seglogd_consume" "$R_seglogd_c" "mock_consume" "$R_mock_c"
line "seglogd_consume[all]" "$R_seglogd_call" "seglogd_consume[all]" "$R_seglogd_call"
echo "mock_produce_latency[acks=1,$half msgs/s]: p50 ${L_mock% *} ms, p99 ${L_mock#* } ms"
echo "seglogd_produce_latency[acks=1,$half msgs/s]: p50 ${L_seglogd% *} ms, p99 ${L_seglogd#* } ms"
