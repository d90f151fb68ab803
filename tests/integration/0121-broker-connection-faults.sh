#!/usr/bin/env bash
# 0121: connection faults: clients that disconnect mid-request, mid-response
# and with pipelined requests outstanding leave nothing behind and damage no
# data; a broker out of file descriptors (RLIMIT_NOFILE 64) refuses the
# connections it cannot hold without spinning, says so in one WARN line, and
# serves again once clients leave (lib/broker_connections.py).  1000 idle
# connections and a client that never reads are in 0103.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }

broker_start "$T/normal.log"
timeout 120 "$BROKER_PY" "$here/lib/broker_connections.py" normal "$PORT" "$METRICS_PORT" \
  "$BROKER_PID" || { tail -20 "$T/normal.log" >&2; broker_fail "disconnect faults"; }
kill -0 "$BROKER_PID" || broker_fail "seglogd died"
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "seglogd exited with $EXIT_STATUS"

# The same seglogd under a hard descriptor limit of 64 (it cannot raise it).
cat >"$T/lowfd.sh" <<SH
#!/bin/sh
ulimit -n 64
exec "$SEGLOGD" "\$@"
SH
chmod +x "$T/lowfd.sh"
SEGLOGD="$T/lowfd.sh"
rm -rf "$T/data"
# (__consumer_offsets with one partition: its 50 by default hold more
# descriptors than the limit.)
broker_start "$T/lowfd.log" --override offsets.topic.num.partitions=1
timeout 120 "$BROKER_PY" "$here/lib/broker_connections.py" lowfd "$PORT" "$METRICS_PORT" \
  "$BROKER_PID" || { tail -20 "$T/lowfd.log" >&2; broker_fail "descriptor shortage"; }
warns=$(grep -c 'WARN .*RLIMIT_NOFILE' "$T/lowfd.log" || true)
[ "$warns" -ge 1 ] && [ "$warns" -le 3 ] ||
  { cat "$T/lowfd.log" >&2; broker_fail "$warns WARN lines about the descriptor limit, expected 1-3"; }
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "seglogd exited with $EXIT_STATUS after the shortage"
echo "PASS 0121"
