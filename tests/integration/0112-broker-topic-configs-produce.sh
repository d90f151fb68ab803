#!/usr/bin/env bash
# 0112: a topic's configs govern Produce, live and after restarts:
# compression.type per topic (kcat sends uncompressed batches; a zstd topic
# stores zstd, its neighbour keeps the producer's codec; switched to gzip by
# AlterConfigs without a restart), max.message.bytes -> MESSAGE_TOO_LARGE
# (kafka-python, also for partitions added later, raised live, kept after a
# kill -9), min.insync.replicas (acks=all refused above the one-node ISR),
# message.timestamp.type=LogAppendTime.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
"$BROKER_PY" -c 'import kafka, confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks kafka-python or confluent-kafka"; exit 77; }
ops() { timeout 30 "$BROKER_PY" "$here/lib/broker_topicconf_ops.py" "$PORT" "$@"; }

# codecs DIR: the codec of every batch in the partition's first segment.
codecs() {
  "$BROKER_PY" - "$1/00000000000000000000.log" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
pos, out = 0, []
while pos + 23 <= len(d):
    base, blen = struct.unpack(">qi", d[pos:pos + 12])
    out.append(str(struct.unpack(">h", d[pos + 21:pos + 23])[0] & 7))
    pos += 12 + blen
print(" ".join(out))
PY
}

broker_start "$T/broker.log"
B="127.0.0.1:$PORT"
ops create zt 1 compression.type=zstd
ops create pt 1
for t in zt pt; do
  seq 1 20 | timeout 20 kcat -b "$B" -P -t "$t" -p 0 -z none || broker_fail "kcat -P $t"
done
[ "$(codecs "$T/data/zt-0" | tr ' ' '\n' | sort -u | tr -d '\n')" = 4 ] ||
  broker_fail "zt codecs: $(codecs "$T/data/zt-0")"
[ "$(codecs "$T/data/pt-0" | tr ' ' '\n' | sort -u | tr -d '\n')" = 0 ] ||
  broker_fail "pt codecs: $(codecs "$T/data/pt-0")"
ops alter zt compression.type=gzip
seq 21 30 | timeout 20 kcat -b "$B" -P -t zt -p 0 -z none || broker_fail "kcat -P zt"
[ "$(codecs "$T/data/zt-0" | awk '{print $NF}')" = 1 ] ||
  broker_fail "zt after the alter: $(codecs "$T/data/zt-0")"
[ "$(timeout 20 kcat -b "$B" -C -t zt -p 0 -o beginning -e -q | tr '\n' ' ')" = "$(seq 1 30 | tr '\n' ' ')" ] ||
  broker_fail "zt read back"

timeout 120 "$BROKER_PY" "$here/lib/broker_topicconf_produce.py" "$PORT" before ||
  broker_fail "produce checks"
kill -KILL "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
broker_start "$T/broker2.log"
timeout 120 "$BROKER_PY" "$here/lib/broker_topicconf_produce.py" "$PORT" after ||
  broker_fail "produce checks after kill -9"
echo "PASS 0112"
