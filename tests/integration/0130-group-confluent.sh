#!/usr/bin/env bash
# 0130: three confluent-kafka consumers in one group over a 6-partition topic
# (lib/group_clients.py share ccc): each gets 2 partitions, every record
# arrives exactly once; when one closes, the other two take over its
# partitions without waiting for its session timeout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: python3-confluent-kafka is not installed"; exit 77; }

broker_start "$T/broker.log" --override group.initial.rebalance.delay.ms=1000
timeout 240 "$BROKER_PY" "$here/lib/group_clients.py" "127.0.0.1:$PORT" share ccc ||
  { tail -40 "$T/broker.log" >&2; broker_fail "confluent-kafka group"; }
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "exit status $EXIT_STATUS"
echo "ok"
