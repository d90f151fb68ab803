#!/usr/bin/env bash
# 0209: network mode against librdkafka's mock cluster (`seglog mock-cluster`):
# keyed produce into an auto-created topic (the mock gives it 4 partitions),
# consume -e with and without a consumer group (-G: a fresh group reads
# everything and -e ends it), offsets, perf produce/consume output lines.  (librdkafka 2.0's mock cluster does
# not answer CreateTopics, so topics create is tested against seglogd in
# 0207.)  Skips when
# seglog was built without librdkafka.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
if "$S" topics list -b 127.0.0.1:1 2>&1 | grep -q "built without librdkafka"; then
  echo "SKIP: seglog was built without librdkafka (network mode)"
  exit 77
fi
tmp=$(mktemp -d)
mc=
trap '[ -n "$mc" ] && kill "$mc" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
  if [ "$2" != "$3" ]; then
    printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3" >&2
    exit 1
  fi
}
mkfifo "$tmp/hold"
"$S" mock-cluster <"$tmp/hold" >"$tmp/boot" 2>"$tmp/mc.err" &
mc=$!
exec 3>"$tmp/hold"   # keeps the cluster's stdin open
for _ in $(seq 1 100); do [ -s "$tmp/boot" ] && break; sleep 0.05; done
B=$(head -1 "$tmp/boot")
[ -n "$B" ] || fail "mock-cluster printed no bootstrap servers: $(cat "$tmp/mc.err")"
to() { timeout 60 "$@"; }

(seq 1 20 | sed 's/^/k/; s/$/:v/') | to "$S" produce -b "$B" -t g -K:
want=$(seq 1 20 | sed 's/^/k/' | sort)
expect "consume -e" "$want" "$(to "$S" consume -b "$B" -t g -e -f '%k\n' | sort)"
# keys land where Java's partitioner puts them: compare with kafka-python's murmur2
/usr/bin/python3 - "$S" "$B" <<'PY' || exit 1
import subprocess, sys
from kafka.partitioner.default import murmur2
S, B = sys.argv[1], sys.argv[2]
out = subprocess.run([S, "consume", "-b", B, "-t", "g", "-e", "-f", "%p %k\n"],
                     capture_output=True, check=True, timeout=60).stdout.decode()
for line in out.splitlines():
    p, k = line.split()
    if int(p) != (murmur2(k.encode()) & 0x7fffffff) % 4:
        print("FAIL: %s in partition %s" % (k, p)); sys.exit(1)
PY
expect "group consume -e" "$want" "$(to "$S" consume -b "$B" -t g -G fresh -e -f '%k\n' | sort)"
expect "-G with -p" 2 "$(set +e; "$S" consume -b "$B" -t g -G x -p 0 2>/dev/null; echo $?)"
n=$(to "$S" offsets -b "$B" -t g | awk 'NR > 1 { s += $4 } END { print s }')
expect "offsets sum" 20 "$n"
# perf: kafka-producer-perf-test / kafka-consumer-perf-test output lines
out=$(to "$S" perf produce -b "$B" -t perf --num-records 5000 --record-size 100)
echo "$out" | grep -Eq '^5000 records sent, [0-9.]+ records/sec \([0-9.]+ MB/sec\), [0-9.]+ ms avg latency, [0-9.]+ ms max latency, [0-9]+ ms 50th, [0-9]+ ms 95th, [0-9]+ ms 99th, [0-9]+ ms 99.9th\.$' \
  || fail "perf produce line: $out"
out=$(to "$S" perf consume -b "$B" -t perf --num-records 5000)
expect "perf consume header" "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec" "$(echo "$out" | head -1)"
echo "$out" | sed -n 2p | grep -Eq '^[0-9-]+ [0-9:]+, [0-9-]+ [0-9:]+, 0\.4768, [0-9.]+, 5000, ' || fail "perf consume line: $out"
exec 3>&-
wait "$mc" || fail "mock-cluster exit status"
mc=
echo "0209: ok"
