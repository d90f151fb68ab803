#!/usr/bin/env bash
# 0134: the group coordinator request by request over raw frames
# (lib/group_protocol.py): every advertised version of FindCoordinator,
# JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups and
# DeleteGroups; Kafka's errors; KIP-394; a rebalance while another member
# heartbeats; static members; group.max.size; hostile sizes; then the
# metrics and a clean SIGTERM with a JoinGroup parked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init

broker_start "$T/broker.log" --override group.initial.rebalance.delay.ms=0 \
  --override group.max.size=3
PYTHONPATH="$here/lib" timeout 120 "$BROKER_PY" "$here/lib/group_protocol.py" "$PORT" ||
  { tail -30 "$T/broker.log" >&2; broker_fail "group protocol"; }

metrics=$(timeout 10 "$BROKER_PY" -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode())' \
  "$METRICS_PORT")
echo "$metrics" | grep -q '^seglog_groups{state="Stable"} [1-9]' ||
  broker_fail "no Stable group in the metrics"
echo "$metrics" | grep -q '^seglog_group_rebalances_total [1-9]' ||
  broker_fail "no rebalance counted"

# A JoinGroup parked in a group's initial delay is answered at SIGTERM.
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "exit status $EXIT_STATUS"
broker_start "$T/broker2.log" --override group.initial.rebalance.delay.ms=60000
PYTHONPATH="$here/lib" timeout 30 "$BROKER_PY" - "$PORT" "$BROKER_PID" <<'EOF' ||
import os, signal, sys
from group_wire import Conn, join_send, join_recv
c = Conn(int(sys.argv[1]))
corr = join_send(c, 3, "parked")
os.kill(int(sys.argv[2]), signal.SIGTERM)
r = join_recv(c, 3, corr)
sys.exit(0 if r["error"] == 16 else "parked join answered %r" % r)  # NOT_COORDINATOR
EOF
  broker_fail "parked JoinGroup at shutdown"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "exit status $EXIT_STATUS after parked join"
echo "ok"
