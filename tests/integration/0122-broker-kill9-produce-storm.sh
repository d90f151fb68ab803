#!/usr/bin/env bash
# 0122: kill -9 in the middle of a produce storm (confluent-kafka, acks=all,
# 3 partitions) loses no acknowledged record: after a restart on the same log
# directory every acknowledged record is read back at its offset, in order,
# and the log keeps growing from there (lib/broker_kill_storm.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }

broker_start "$T/b1.log" --override num.partitions=3
timeout 120 "$BROKER_PY" "$here/lib/broker_kill_storm.py" produce "$PORT" "$BROKER_PID" \
  "$T/acked.json" || { tail -20 "$T/b1.log" >&2; broker_fail "produce storm"; }
wait "$BROKER_PID" 2>/dev/null || true
kill -0 "$BROKER_PID" 2>/dev/null && broker_fail "seglogd survived SIGKILL?"

broker_start "$T/b2.log"
grep -q "unclean" "$T/b2.log" || { cat "$T/b2.log" >&2; broker_fail "no recovery after kill -9"; }
timeout 120 "$BROKER_PY" "$here/lib/broker_kill_storm.py" verify "$PORT" "$T/acked.json" ||
  { tail -20 "$T/b2.log" >&2; broker_fail "acknowledged records after kill -9"; }
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "seglogd exited with $EXIT_STATUS"
echo "PASS 0122"
