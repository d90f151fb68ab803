#!/usr/bin/env bash
# 0135: OffsetCommit 0-8, OffsetFetch 0-8 and OffsetDelete 0 request by
# request over raw frames (lib/offsets_protocol.py): every version commits
# and reads back, Kafka's per-partition and group errors, null topics, several
# groups at once, generation checks against a real member; then the same
# offsets after a restart (replay of __consumer_offsets).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init

ARGS=(--override group.initial.rebalance.delay.ms=0 --override num.partitions=3)
broker_start "$T/broker.log" "${ARGS[@]}"
# Topic "t" with 3 partitions (auto-created by Metadata).
PYTHONPATH="$here/lib" timeout 30 "$BROKER_PY" - "$PORT" <<'PY' || broker_fail "create t"
import sys
from broker_wire import connect, metadata_v1, recv_frame
s = connect(int(sys.argv[1]))
s.sendall(metadata_v1(1, ["t"]))
recv_frame(s)
PY
PYTHONPATH="$here/lib" timeout 120 "$BROKER_PY" "$here/lib/offsets_protocol.py" "$PORT" ||
  { tail -30 "$T/broker.log" >&2; broker_fail "offsets protocol"; }

# After a clean restart the same offsets are served from the replay.
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "exit status $EXIT_STATUS"
broker_start "$T/broker2.log" "${ARGS[@]}"
grep -q '__consumer_offsets replayed: .* 0 skipped' "$T/broker2.log" ||
  broker_fail "replay line: $(grep replayed "$T/broker2.log")"
PYTHONPATH="$here/lib" timeout 30 "$BROKER_PY" - "$PORT" <<'PY' || broker_fail "after restart"
import sys
from group_wire import Conn
from offsets_wire import offset_fetch
c = Conn(int(sys.argv[1]))
for v in range(9):
    if v == 5:  # deleted in 0135's OffsetDelete step
        continue
    err, got = offset_fetch(c, 6, "simple-v%d" % v, {"t": [0, 1]})
    want = {("t", 0): (100 + v, "meta-%d" % v, 7 if v >= 6 else -1, 0),
            ("t", 1): (200 + v, "", 8 if v >= 6 else -1, 0)}
    assert got == want, "v%d after restart: %r" % (v, got)
err, got = offset_fetch(c, 6, "simple-v5", None)
assert got == {}, "deleted offsets came back: %r" % (got,)
err, got = offset_fetch(c, 6, "active", {"t": [0]})
assert got[("t", 0)][0] == 18, "active group after restart: %r" % (got,)
PY
echo "0135 ok"
