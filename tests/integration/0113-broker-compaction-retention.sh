#!/usr/bin/env bash
# 0113: the broker's log cleaner and per-topic retention.  A topic created
# with cleanup.policy=compact (low min.cleanable.dirty.ratio,
# delete.retention.ms=0) is compacted in the background: every key keeps only
# its latest value, tombstoned keys disappear after a later round; a topic
# switched to compact by AlterConfigs is compacted too (configs apply to open
# logs); log.cleaner.enable=false leaves a compacted topic alone; retention.ms
# set on one topic deletes that topic's old segments while a topic with the
# broker's default keeps them (both go through the same retention passes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }
ops() { timeout 30 "$BROKER_PY" "$here/lib/broker_topicconf_ops.py" "$PORT" "$@"; }
produce() { # produce TOPIC: KEY:VALUE lines on stdin, one batch each; '' values = null
  timeout 30 kcat -b "$B" -P -t "$1" -p 0 -K: -Z -X linger.ms=0 -X batch.num.messages=1 ||
    broker_fail "kcat -P $1"
}
dump() { timeout 20 kcat -b "$B" -C -t "$1" -p 0 -o beginning -e -q -Z -f '%k=%s\n'; }
rounds() { # rounds TOPIC: 5 rounds of k0..k9, then tombstones for k3 and k4
  for r in 1 2 3 4 5; do seq 0 9 | sed "s/.*/k&:v$r-&/"; done | produce "$1"
  printf 'k3:\nk4:\n' | produce "$1"
}
filler() { seq 1 15 | sed "s/.*/f&:filler-$RANDOM/" | produce "$1"; }
# deduplicated TOPIC: each k key once, with round 5's value; k3/k4 at most as NULL.
deduplicated() {
  local k
  k=$(dump "$1" | grep '^k' | sort)
  [ "$k" = "$(printf 'k0=v5-0\nk1=v5-1\nk2=v5-2\nk3=NULL\nk4=NULL\nk5=v5-5\nk6=v5-6\nk7=v5-7\nk8=v5-8\nk9=v5-9')" ] ||
    [ "$k" = "$(printf 'k0=v5-0\nk1=v5-1\nk2=v5-2\nk5=v5-5\nk6=v5-6\nk7=v5-7\nk8=v5-8\nk9=v5-9')" ]
}
CMP=(cleanup.policy=compact segment.bytes=1000 min.cleanable.dirty.ratio=0.01
  delete.retention.ms=0 file.delete.delay.ms=0)

broker_start "$T/broker.log" --override log.cleaner.backoff.ms=200 \
  --override log.retention.check.interval.ms=300 --override auto.create.topics.enable=false
B="127.0.0.1:$PORT"
ops create cmp 1 "${CMP[@]}"
ops create live 1 segment.bytes=1000
ops create r1 1 segment.bytes=1000 retention.ms=1000
ops create r2 1 segment.bytes=1000
rounds cmp
rounds live
filler cmp
filler live
[ "$(dump live | grep -c '^k')" = 52 ] || broker_fail "live before compaction: $(dump live | grep -c '^k')"

ok=0
for ((i = 0; i < 150; i++)); do
  if deduplicated cmp; then ok=1; break; fi
  sleep 0.2
done
[ $ok = 1 ] || broker_fail "cmp never compacted: $(dump cmp | tr '\n' ' ')"
# Tombstones go in a later round once delete.retention.ms (0) has passed; new
# data makes the log dirty enough for that round.
gone=0
for ((i = 0; i < 60; i++)); do
  if ! dump cmp | grep -q '^k[34]='; then gone=1; break; fi
  filler cmp
  sleep 0.3
done
[ $gone = 1 ] || broker_fail "tombstones never removed: $(dump cmp | grep '^k' | tr '\n' ' ')"
deduplicated cmp || broker_fail "cmp lost keys: $(dump cmp | grep '^k' | tr '\n' ' ')"
grep -q "cleaner: cmp-0 compacted" "$T/broker.log" || broker_fail "no cleaner log line"

# Switched to compact while open.
ops alter live "${CMP[@]}"
ok=0
for ((i = 0; i < 150; i++)); do
  if deduplicated live; then ok=1; break; fi
  sleep 0.2
done
[ $ok = 1 ] || broker_fail "live never compacted after the alter: $(dump live | grep -c '^k') k records"

# Retention on one topic only.
for t in r1 r2; do seq 1 40 | sed 's/.*/x&:payload-&-0123456789012345678901234567890123456789/' | produce $t; done
start=0
for ((i = 0; i < 150; i++)); do
  start=$(timeout 10 kcat -b "$B" -Q -t r1:0:-2 | sed -n 's/.*offset \([0-9]*\).*/\1/p')
  [ "${start:-0}" -gt 0 ] && break
  sleep 0.2
done
[ "${start:-0}" -gt 0 ] || broker_fail "retention.ms=1000 never deleted r1's segments"
s2=$(timeout 10 kcat -b "$B" -Q -t r2:0:-2 | sed -n 's/.*offset \([0-9]*\).*/\1/p')
[ "$s2" = 0 ] || broker_fail "r2 (broker default retention) lost segments: start $s2"
[ "$(dump r2 | wc -l)" = 40 ] || broker_fail "r2 records: $(dump r2 | wc -l)"
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "SIGTERM exit status $EXIT_STATUS"

# log.cleaner.enable=false: a compacted topic keeps its duplicates.
rm -rf "$T/data"
broker_start "$T/broker-off.log" --override log.cleaner.enable=false \
  --override log.cleaner.backoff.ms=100
B="127.0.0.1:$PORT"
ops create off 1 "${CMP[@]}"
rounds off
filler off
grep -q "log cleaner disabled" "$T/broker-off.log" || broker_fail "cleaner not reported disabled"
sleep 2 # 20 backoffs: an enabled cleaner compacts within one (above)
[ "$(dump off | grep -c '^k')" = 52 ] || broker_fail "off was compacted"
echo "PASS 0113"
