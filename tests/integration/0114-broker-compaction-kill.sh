#!/usr/bin/env bash
# 0114: kill -9 while the broker's cleaner compacts.  A compacted topic with
# small segments is written in bursts; after each burst the broker is killed
# a moment later (at varying points of its compaction rounds) and restarted.
# At the end every key's last record is the last value acknowledged for it,
# offsets only grow, the topic keeps its config, and once the cleaner has
# caught up each key appears once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }
ops() { timeout 30 "$BROKER_PY" "$here/lib/broker_topicconf_ops.py" "$PORT" "$@"; }
ARGS=(--override log.cleaner.backoff.ms=20 --override auto.create.topics.enable=false)

broker_start "$T/broker-0.log" "${ARGS[@]}"
ops create kc 1 cleanup.policy=compact segment.bytes=2000 min.cleanable.dirty.ratio=0.01 \
  file.delete.delay.ms=0
delays=(0.05 0.15 0.3 0.1 0.5 0.02)
for it in 0 1 2 3 4 5; do
  for r in 0 1 2 3; do seq 0 39 | sed "s/.*/k&:v$it-$r-&/"; done |
    timeout 30 kcat -b "127.0.0.1:$PORT" -P -t kc -p 0 -K: -X linger.ms=0 \
      -X batch.num.messages=7 -X acks=all || broker_fail "kcat -P burst $it"
  sleep "${delays[$it]}"
  kill -KILL "$BROKER_PID"
  broker_wait_exit "$BROKER_PID" 15
  broker_start "$T/broker-$((it + 1)).log" "${ARGS[@]}"
done
[ "$(ops overrides kc | tr '\n' ' ')" = "cleanup.policy=compact file.delete.delay.ms=0 min.cleanable.dirty.ratio=0.01 segment.bytes=2000 " ] ||
  broker_fail "config after the kills: $(ops overrides kc)"

check_latest() { # the last record of every key is the last acknowledged value
  timeout 30 kcat -b "127.0.0.1:$PORT" -C -t kc -p 0 -o beginning -e -q -f '%o %k %s\n' >"$T/dump"
  "$BROKER_PY" - "$T/dump" "$1" <<'PY'
import sys
last, prev, count = {}, -1, {}
for line in open(sys.argv[1]):
    off, key, val = line.split()
    off = int(off)
    assert off > prev, "offsets go back at %d" % off
    prev = off
    if key.startswith("k"):
        last[key] = val
        count[key] = count.get(key, 0) + 1
want = {"k%d" % i: "v5-3-%d" % i for i in range(40)}
assert last == want, "latest values differ: %r" % sorted(set(last.items()) ^ set(want.items()))[:6]
if sys.argv[2] == "dedup":
    assert max(count.values()) == 1, "still duplicated: %r" % {k: c for k, c in count.items() if c > 1}
PY
}
check_latest any || broker_fail "after the kills"
filler() {
  seq 0 39 | sed 's/.*/f&:filler/' |
    timeout 30 kcat -b "127.0.0.1:$PORT" -P -t kc -p 0 -K: -X linger.ms=0 -X batch.num.messages=7 ||
    broker_fail "kcat -P filler"
}
ok=0
for ((i = 0; i < 60; i++)); do
  if check_latest dedup 2>/dev/null; then ok=1; break; fi
  filler # the active segment is never cleaned: roll the last keys out of it
  sleep 0.2
done
[ $ok = 1 ] || { check_latest dedup || true; broker_fail "never fully compacted"; }
grep -h "cleaner: kc-0 compacted" "$T"/broker-*.log | head -3
echo "PASS 0114"
