#!/usr/bin/env bash
# 0105: seglogd's periodic log work: with small segments and
# log.retention.bytes the retention pass deletes the oldest segments (the log
# start offset moves, consumers from "beginning" start there; with
# log.segment.delete.delay.ms=0 no *.deleted files stay), and the root
# checkpoints (high watermarks) are written while the broker runs; DeleteRecords,
# OffsetForLeaderEpoch (also on a new, empty partition: Kafka records the
# leader epoch at creation), DescribeCluster and DescribeLogDirs answer exactly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }

broker_start "$T/broker.log" --override log.segment.bytes=1024 \
  --override log.retention.bytes=2048 --override log.retention.check.interval.ms=200 \
  --override log.segment.delete.delay.ms=0
B="127.0.0.1:$PORT"
for i in $(seq 1 60); do printf 'payload-%0100d\n' "$i"; done |
  timeout 20 kcat -b "$B" -P -t ret -p 0 -X linger.ms=0 -X batch.num.messages=1 ||
  broker_fail "kcat -P"

start=0
for ((i = 0; i < 100; i++)); do
  start=$(timeout 10 kcat -b "$B" -Q -t ret:0:-2 | sed -n 's/.*offset \([0-9]*\).*/\1/p')
  [ "${start:-0}" -gt 0 ] && break
  sleep 0.1
done
[ "${start:-0}" -gt 0 ] || broker_fail "retention never moved the log start offset"
first=$(timeout 20 kcat -b "$B" -C -t ret -p 0 -o beginning -e -q -f '%o\n' | head -1)
[ "$first" = "$start" ] || broker_fail "first offset $first, log start offset $start"
last=$(timeout 20 kcat -b "$B" -C -t ret -p 0 -o -1 -e -q -f '%o %s\n')
[ "$last" = "59 $(printf 'payload-%0100d' 60)" ] || broker_fail "last record: $last"
grep -q "retention deleted" "$T/broker.log" || broker_fail "no retention log line"
# log.segment.delete.delay.ms=0 (Kafka's broker default of file.delete.delay.ms):
# deleted segments leave no *.deleted files behind (the default keeps them 60 s).
left=$(find "$T/data/ret-0" -name '*.deleted' | wc -l)
[ "$left" = 0 ] || broker_fail "$left *.deleted files left with log.segment.delete.delay.ms=0"

for ((i = 0; i < 200; i++)); do
  grep -q '^ret 0 60$' "$T/data/replication-offset-checkpoint" 2>/dev/null && break
  sleep 0.05
done
grep -q '^ret 0 60$' "$T/data/replication-offset-checkpoint" ||
  broker_fail "high watermark checkpoint not written"
# Rolled segments are fsync'd by the upkeep's tick on the thread pool, not
# by the produce request that rolled them; the recovery point then moves to
# the active segment's base, and the next root checkpoint records it.
rp=0
for ((i = 0; i < 300; i++)); do
  rp=$(sed -n 's/^ret 0 \([0-9]*\)$/\1/p' "$T/data/recovery-point-offset-checkpoint" 2>/dev/null)
  [ "${rp:-0}" -gt 50 ] && break
  sleep 0.05
done
[ "${rp:-0}" -gt 50 ] || broker_fail "recovery point of ret-0 is ${rp:-none}, not past the rolled segments"
# DeleteRecords moves the log start offset further; OffsetForLeaderEpoch and
# DescribeCluster answer exactly (lib/broker_records.py).
cid=$(sed -n 's/^cluster.id=//p' "$T/data/meta.properties")
# A new topic that nothing was written to: its leader epoch was recorded when
# it was created (Kafka's makeLeader), as the checkpoint file shows.
timeout 20 kcat -b "$B" -L -t fresh > /dev/null || broker_fail "kcat -L -t fresh"
printf '0\n1\n0 0\n' | cmp -s - "$T/data/fresh-0/leader-epoch-checkpoint" ||
  broker_fail "fresh-0/leader-epoch-checkpoint: $(cat "$T/data/fresh-0/leader-epoch-checkpoint" 2>&1)"
LOG_DIR="$T/data" timeout 60 "$BROKER_PY" "$here/lib/broker_records.py" "$PORT" ret "$cid" fresh ||
  broker_fail "DeleteRecords/OffsetForLeaderEpoch/DescribeCluster"
first=$(timeout 20 kcat -b "$B" -C -t ret -p 0 -o beginning -e -q -f '%o\n' | head -1)
[ "$first" = 50 ] || broker_fail "after DeleteRecords the first offset is $first"
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "SIGTERM exit status $EXIT_STATUS"
echo "PASS 0105"
