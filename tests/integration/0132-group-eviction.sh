#!/usr/bin/env bash
# 0132: a consumer killed with SIGKILL (no LeaveGroup) is evicted when its
# session.timeout.ms expires: the surviving member of the group then owns
# every partition, and DescribeGroups lists one member.  A plain close of a
# cooperative-sticky member hands its partitions over too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: python3-confluent-kafka is not installed"; exit 77; }
PIDS=()
cleanup_members() {
  local p
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  broker_cleanup
}
trap cleanup_members EXIT

# wait_line FILE REGEX SECS: waits until FILE has a line matching REGEX.
wait_line() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "--- $1:" >&2
  cat "$1" >&2 || true
  return 1
}

broker_start "$T/broker.log" --override group.initial.rebalance.delay.ms=500
B="127.0.0.1:$PORT"
"$BROKER_PY" "$here/lib/group_clients.py" "$B" topic t6 6 >/dev/null
member() { # NAME GROUP [K=V...]
  local name=$1
  shift
  "$BROKER_PY" -u "$here/lib/group_clients.py" "$B" member "$1" t6 "${@:2}" >"$T/$name.out" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

member a evict session.timeout.ms=6000
pid_a=$LAST_PID
member b evict session.timeout.ms=6000
wait_line "$T/a.out" '^ASSIGNED [0-9],[0-9],[0-9]$' 60 || broker_fail "a never owned 3 partitions"
wait_line "$T/b.out" '^ASSIGNED [0-9],[0-9],[0-9]$' 60 || broker_fail "b never owned 3 partitions"
kill -KILL "$pid_a"
wait_line "$T/b.out" '^ASSIGNED 0,1,2,3,4,5$' 60 || broker_fail "b never took over a's partitions"
PYTHONPATH="$here/lib" timeout 20 "$BROKER_PY" - "$PORT" <<'PY' || broker_fail "describe after eviction"
import sys
from group_wire import Conn, describe
d = describe(Conn(int(sys.argv[1])), 5, ["evict"])[0]
sys.exit(0 if d["state"] == "Stable" and len(d["members"]) == 1 else "describe: %r" % d)
PY

# cooperative-sticky (incremental rebalancing): when a second member joins,
# the first gives up only the 3 partitions that move, never all 6, and keeps
# consuming the others; when the second closes, the first gets them back.
member c coop partition.assignment.strategy=cooperative-sticky
wait_line "$T/c.out" '^ASSIGNED 0,1,2,3,4,5$' 60 || broker_fail "c never owned 6 partitions"
member d coop partition.assignment.strategy=cooperative-sticky
pid_d=$LAST_PID
wait_line "$T/d.out" '^ASSIGNED [0-9],[0-9],[0-9]$' 60 || broker_fail "d never owned 3 partitions"
wait_line "$T/c.out" '^REVOKED [0-9],[0-9],[0-9]$' 10 || broker_fail "c did not revoke 3 partitions"
! grep -Eq '^REVOKED ([0-9],){3,}' "$T/c.out" || broker_fail "c revoked more than 3 partitions"
kill -TERM "$pid_d"
wait_line "$T/d.out" '^CLOSED$' 30 || broker_fail "d did not close"
wait_line "$T/c.out" '^ASSIGNED [0-9],[0-9],[0-9]$' 30 || broker_fail "c did not get d's partitions back"
echo "ok"
