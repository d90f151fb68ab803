#!/usr/bin/env bash
# kill -9 of seglog-mirror mid-stream, several times, then a final run:
# nothing is lost and duplicates stay within the documented bound
# (docs/MIRROR.md "Delivery"): per partition and per crash at most
# mirror.window.records source offsets are copied again, because a record is
# only produced while its offset is within the window past the last durable
# offset sync, and a restart resumes one past the last sync.
set -euo pipefail
. "$(dirname "$0")/lib/mirror.sh"
mirror_init
KEEP_LOG=${KEEP_LOG:-}
mirror_two_brokers

N=150000
PARTS=6
WINDOW=3000
mirror_py create "$BS_A" events "$PARTS"
mirror_py produce "$BS_A" events "$PARTS" "$N"
conf() { # [EXTRA...]: the mirror's config, with the extra lines
  mirror_config "$T/mm.properties" "A->B.enabled = true" "emit.checkpoints.enabled = false" \
    "mirror.window.records = $WINDOW" "offset.lag.max = 100" \
    "A.consumer.fetch.max.bytes = 65536" "A.consumer.message.max.bytes = 32768" \
    "A.consumer.max.partition.fetch.bytes = 16384" "$@"
}
progress() { # PORT: "ACKED LAG" of the running mirror (its metrics), or "0 1"
  curl -s "http://127.0.0.1:$1/" 2>/dev/null |
    awk '/^seglog_mirror_records_total\{/ { a += $2 } /^seglog_mirror_lag_records\{/ { l += $2; n++ }
         END { print a + 0, (n ? l : 1) }' || echo 0 1
}

# Each run is killed once it has copied at least $step records of its own
# (read from its metrics), so the kills land mid-stream however fast the
# machine; a run that catches up first (lag 0) is killed all the same.
kills=0
midstream=0
step=10000
for _ in 1 2 3 4; do
  MPORT=$(broker_free_port)
  conf "metrics.listener = 127.0.0.1:$MPORT"
  mirror_start "$T/mm.properties" "$T/mirror.log"
  deadline=$(($(date +%s) + 60))
  while read -r acked lag < <(progress "$MPORT") &&
    [ "$acked" -lt "$step" ] && ! { [ "$acked" -gt 0 ] && [ "$lag" -eq 0 ]; }; do
    kill -0 "$MIRROR_PID" 2>/dev/null || { cat "$T/mirror.log" >&2; broker_fail "the mirror exited by itself"; }
    [ "$(date +%s)" -lt "$deadline" ] || broker_fail "the mirror made no progress in 60 s"
    sleep 0.01
  done
  kill -KILL "$MIRROR_PID"
  wait "$MIRROR_PID" 2>/dev/null || true
  kills=$((kills + 1))
  c=$(mirror_py count "$BS_B" A.events)
  echo "after kill $kills: $c records on B"
  if [ "$c" -gt 0 ] && [ "$c" -lt "$N" ]; then
    midstream=$((midstream + 1))
  fi
done
[ "$midstream" -gt 0 ] || broker_fail "no kill landed mid-stream (the mirror finished too early)"

conf
mirror_start "$T/mm.properties" "$T/mirror.log"
mirror_py wait-count "$BS_B" A.events "$N" 120 >/dev/null || { tail -20 "$T/mirror.log" >&2; exit 1; }
# Wait until the mirror has caught up (its lag is zero): the count may keep
# rising by duplicates for a moment.
sleep 2
mirror_py compare "$BS_A" events "$BS_B" A.events $((kills * PARTS * WINDOW)) A
grep -c 'syncs.loaded' "$T/mirror.log" >/dev/null
[ -n "$KEEP_LOG" ] && cp "$T/mirror.log" "$KEEP_LOG"
echo "PASS ($kills kills, $midstream mid-stream)"
