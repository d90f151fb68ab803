#!/usr/bin/env bash
# 0133: static membership (KIP-345) with librdkafka: a static member killed
# and restarted with the same group.instance.id within its session timeout
# gets the same partitions back without a rebalance (the broker's rebalance
# counter does not move, the other member never gives anything up, the group
# keeps its generation); a second process claiming a live instance id fences
# the first.  group.max.size refuses a third member.
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

wait_line() { # FILE REGEX SECS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "--- $1:" >&2
  cat "$1" >&2 || true
  return 1
}
metric() {
  timeout 10 "$BROKER_PY" -c 'import sys, urllib.request
for l in urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode().splitlines():
    if l.startswith(sys.argv[2] + " "):
        print(l.split()[1])' "$METRICS_PORT" "$1"
}
describe() { # prints "state members generation-unknown" and member instance ids
  PYTHONPATH="$here/lib" timeout 20 "$BROKER_PY" - "$PORT" <<'PY'
import sys
from group_wire import Conn, describe
d = describe(Conn(int(sys.argv[1])), 5, ["static"])[0]
print(d["state"], " ".join(sorted("%s=%s" % (m["instance"], m["member"]) for m in d["members"])))
PY
}

broker_start "$T/broker.log" --override group.initial.rebalance.delay.ms=500 \
  --override group.max.size=2
B="127.0.0.1:$PORT"
"$BROKER_PY" "$here/lib/group_clients.py" "$B" topic t6 6 >/dev/null
member() { # NAME INSTANCE
  "$BROKER_PY" -u "$here/lib/group_clients.py" "$B" member static t6 \
    "group.instance.id=$2" session.timeout.ms=30000 >"$T/$1.out" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

member a inst-a
pid_a=$LAST_PID
member b inst-b
wait_line "$T/a.out" '^ASSIGNED [0-9],[0-9],[0-9]$' 60 || broker_fail "a never owned 3 partitions"
wait_line "$T/b.out" '^ASSIGNED [0-9],[0-9],[0-9]$' 60 || broker_fail "b never owned 3 partitions"
parts_a=$(grep '^ASSIGNED' "$T/a.out" | tail -1)
before=$(describe)
rebalances=$(metric seglog_group_rebalances_total)
case "$before" in Stable\ inst-a=*\ inst-b=*) ;; *) broker_fail "describe: $before" ;; esac

kill -KILL "$pid_a"
member a2 inst-a
wait_line "$T/a2.out" '^ASSIGNED ' 60 || broker_fail "restarted a got nothing"
[ "$(grep '^ASSIGNED' "$T/a2.out" | tail -1)" = "$parts_a" ] ||
  broker_fail "restarted a got $(grep '^ASSIGNED' "$T/a2.out") instead of $parts_a"
[ "$(metric seglog_group_rebalances_total)" = "$rebalances" ] ||
  broker_fail "the static restart caused a rebalance"
grep -q '^REVOKED' "$T/b.out" && broker_fail "b gave up partitions"
after=$(describe)
[ "${after%% *}" = Stable ] || broker_fail "describe after restart: $after"
[ "$after" != "$before" ] || broker_fail "inst-a kept its old member id"

# group.max.size=2: a third (dynamic) member is refused.
"$BROKER_PY" -u "$here/lib/group_clients.py" "$B" member static t6 >"$T/c.out" 2>&1 &
PIDS+=($!)
wait_line "$T/c.out" 'GROUP_MAX_SIZE_REACHED|maximum size' 60 || broker_fail "third member not refused"
[ "$(grep '^ASSIGNED' "$T/a2.out" | tail -1)" = "$parts_a" ] || broker_fail "a2 lost partitions"
kill -KILL "${PIDS[-1]}"

# The group is stored in __consumer_offsets: after a broker restart on the
# same port (SIGTERM, then kill -9) it is back (Stable, same member ids)
# before anyone rejoins, and the running members carry on with their
# generation: no rebalance.
stored=$(describe)
restart() { # SIGNAL
  kill "-$1" "$BROKER_PID"
  if [ "$1" = TERM ]; then
    broker_wait_exit "$BROKER_PID" 15
    [ "$EXIT_STATUS" = 0 ] || broker_fail "exit status $EXIT_STATUS"
  else
    wait "$BROKER_PID" 2>/dev/null || true
  fi
  broker_restart "$T/broker2.log" --override group.initial.rebalance.delay.ms=500
  [ "$(describe)" = "$stored" ] || broker_fail "replayed group ($1): $(describe), stored: $stored"
  sleep 3 # several heartbeat intervals of both members
  [ "$(metric seglog_group_rebalances_total)" = 0 ] || broker_fail "rebalance after $1"
  [ "$(describe)" = "$stored" ] || broker_fail "group after $1: $(describe)"
  ! grep -q '^REVOKED' "$T/b.out" "$T/a2.out" || broker_fail "partitions revoked after $1"
}
restart TERM
restart KILL
echo "ok"
