#!/usr/bin/env bash
# 0139: offsets.retention.minutes expiry (lib/offsets_expiry.py) with the
# lowest retention Kafka accepts (1 minute) and a 500 ms check interval:
# commit-time retention for simple groups and v2 retention times, time since
# Empty for consumer groups, unsubscribed topics of Stable groups (KIP-496);
# then a restart replays the tombstones (nothing comes back).  About 75 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }
ARGS=(--override group.initial.rebalance.delay.ms=0 --override offsets.retention.minutes=1
  --override offsets.retention.check.interval.ms=500 --override num.partitions=1)
broker_start "$T/broker.log" "${ARGS[@]}"
PYTHONPATH="$here/lib" timeout 30 "$BROKER_PY" - "$PORT" <<'PY' || broker_fail "topics"
import sys
from broker_wire import connect, metadata_v1, recv_frame
s = connect(int(sys.argv[1]))
s.sendall(metadata_v1(1, ["xt", "other"]))
recv_frame(s)
PY
PYTHONPATH="$here/lib" timeout 200 "$BROKER_PY" "$here/lib/offsets_expiry.py" "$PORT" ||
  { grep -v 'closing connection' "$T/broker.log" | tail -30 >&2; broker_fail "expiry"; }
grep -q 'expired offsets removed' "$T/broker.log" || broker_fail "no expiry logged"
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
broker_start "$T/broker2.log" "${ARGS[@]}" --override offsets.retention.minutes=10080
PYTHONPATH="$here/lib" timeout 30 "$BROKER_PY" - "$PORT" <<'PY' || broker_fail "after restart"
import sys
from group_wire import Conn
from offsets_wire import offset_fetch
c = Conn(int(sys.argv[1]))
for g in ("ret", "simple", "emp"):
    got = offset_fetch(c, 6, g, None)[1]
    assert got == {}, "%s came back: %r" % (g, got)
got = offset_fetch(c, 6, "act", None)[1]
assert sorted(got) == [("xt", 0)] and got[("xt", 0)][0] == 4, "act after restart %r" % got
PY
echo "0139 ok"
