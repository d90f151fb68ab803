#!/usr/bin/env bash
# 0103: seglogd against hostile and unusual frames (lib/broker_hostile.py):
# bad sizes, unknown ApiKeys and versions, malformed bodies, pipelining, a
# client that never reads, half-sent large frames, 1000 idle connections.  The
# broker must answer or close each as Kafka does and keep serving, and still
# shut down cleanly afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
max=1048576
ulimit -n 4096 2>/dev/null || true # room for 1000 idle connections
broker_start "$T/broker.log" --override "socket.request.max.bytes=$max" \
  --override auto.create.topics.enable=false
timeout 300 "$BROKER_PY" "$here/lib/broker_hostile.py" "$PORT" "$METRICS_PORT" \
  "$BROKER_PID" "$max" || { tail -50 "$T/broker.log" >&2; broker_fail "hostile frames"; }
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "exit status $EXIT_STATUS after SIGTERM"
echo "PASS 0103"
