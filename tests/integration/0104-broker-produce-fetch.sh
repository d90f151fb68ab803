#!/usr/bin/env bash
# 0104: produce and consume through seglogd.  kcat: every codec, keys (-K),
# headers (-H), offsets of several forms (-o beginning/end/N/-N/s@ts), -Q, -e;
# kafka-python and confluent-kafka (lib/broker_produce_fetch.py); then the data
# survives a SIGTERM restart and a kill -9 restart (recovery keeps every
# acknowledged record).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
"$BROKER_PY" -c 'import kafka, confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks kafka-python or confluent-kafka"; exit 77; }

broker_start "$T/broker.log" --override num.partitions=3
B="127.0.0.1:$PORT"

# kcat, each codec: 3 keyed records with headers into partition 1.
expected=$(printf 'k1|v-one|h1=a\nk2|v-two|h1=b\nk3|v-three|h1=c')
for codec in none gzip snappy lz4 zstd; do
  t="kc-$codec"
  for i in 1 2 3; do
    v=$(sed -n "${i}p" <<<"v-one
v-two
v-three")
    h=$(sed -n "${i}p" <<<"a
b
c")
    printf 'k%s:%s\n' "$i" "$v" | timeout 20 kcat -b "$B" -P -t "$t" -p 1 -K: -H "h1=$h" -z "$codec" ||
      broker_fail "kcat -P $codec"
  done
  got=$(timeout 20 kcat -b "$B" -C -t "$t" -p 1 -o beginning -e -q -f '%k|%s|%h\n') ||
    broker_fail "kcat -C $codec"
  [ "$got" = "$expected" ] || broker_fail "$codec: got '$got'"
done

# Offsets in several forms.
seq 0 9 | timeout 20 kcat -b "$B" -P -t kc-off -p 0 || broker_fail "kcat -P kc-off"
off() { timeout 20 kcat -b "$B" -C -t kc-off -p 0 -e -q -f '%o ' "$@"; }
[ "$(off -o beginning)" = "0 1 2 3 4 5 6 7 8 9 " ] || broker_fail "-o beginning: $(off -o beginning)"
[ "$(off -o 7)" = "7 8 9 " ] || broker_fail "-o 7"
[ "$(off -o -3)" = "7 8 9 " ] || broker_fail "-o -3"
[ "$(off -o end)" = "" ] || broker_fail "-o end"
[ "$(off -o s@0)" = "0 1 2 3 4 5 6 7 8 9 " ] || broker_fail "-o s@0"
q=$(timeout 20 kcat -b "$B" -Q -t kc-off:0:0) || broker_fail "kcat -Q"
grep -q 'kc-off \[0\] offset 0' <<<"$q" || broker_fail "-Q by timestamp: $q"
[ "$(timeout 20 kcat -b "$B" -L -t kc-off | grep -c 'partition [0-9]')" = 3 ] ||
  broker_fail "auto-created topic does not have num.partitions partitions"

timeout 180 "$BROKER_PY" "$here/lib/broker_produce_fetch.py" "$PORT" ||
  { tail -30 "$T/broker.log" >&2; broker_fail "client produce/fetch"; }

# Restart after SIGTERM: everything is still there, the shutdown was clean.
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "SIGTERM exit status $EXIT_STATUS"
[ -f "$T/data/.kafka_cleanshutdown" ] || broker_fail "no clean-shutdown marker"
broker_start "$T/broker2.log" --override num.partitions=3
grep -q "clean shutdown" "$T/broker2.log" || broker_fail "restart did not see a clean shutdown"
got=$(timeout 20 kcat -b "127.0.0.1:$PORT" -C -t kc-zstd -p 1 -o beginning -e -q -f '%k|%s|%h\n')
[ "$got" = "$expected" ] || broker_fail "after SIGTERM restart: '$got'"

# kill -9 right after acknowledged produces: recovery keeps them all.
seq 100 199 | timeout 20 kcat -b "127.0.0.1:$PORT" -P -t kc-crash -p 0 -X acks=all ||
  broker_fail "kcat -P kc-crash"
kill -KILL "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 10
broker_start "$T/broker3.log" --override num.partitions=3
grep -q "unclean" "$T/broker3.log" || broker_fail "restart after kill -9 did not recover"
got=$(timeout 20 kcat -b "127.0.0.1:$PORT" -C -t kc-crash -p 0 -o beginning -e -q -f '%s ')
[ "$got" = "$(seq -s ' ' 100 199) " ] || broker_fail "after kill -9: '$got'"
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "final SIGTERM exit status $EXIT_STATUS"
echo "PASS 0104"
