#!/usr/bin/env bash
# 0138: deletions and compaction of __consumer_offsets.  DeleteGroups of a
# group with offsets writes tombstones for its offsets and metadata (seen in
# `seglog dump`) and nothing comes back after a restart; many commits of the
# same partitions roll small segments that the cleaner compacts (the topic is
# created cleanup.policy=compact), and the replay of the compacted log still
# gives the latest offsets; a kill -9 during those commits loses no
# acknowledged commit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }
SEGLOG="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$SEGLOG" ] || broker_fail "seglog not built"
ARGS=(--override group.initial.rebalance.delay.ms=0 --override offsets.topic.num.partitions=1
  --override offsets.topic.segment.bytes=4096 --override log.cleaner.backoff.ms=50
  --override log.cleaner.min.cleanable.ratio=0.01 --override num.partitions=2)
broker_start "$T/broker.log" "${ARGS[@]}"
export PYTHONPATH="$here/lib"

timeout 60 "$BROKER_PY" - "$PORT" <<'PY' || broker_fail "delete group"
import sys, time
from broker_wire import connect, metadata_v1, recv_frame
from confluent_kafka import Consumer, TopicPartition
from group_wire import Conn, delete_groups, list_groups
from offsets_wire import offset_commit, offset_fetch
port = int(sys.argv[1])
s = connect(port)
s.sendall(metadata_v1(1, ["dt"]))
recv_frame(s)
# A real consumer group with offsets, closed (Empty), then deleted.
c = Consumer({"bootstrap.servers": "127.0.0.1:%d" % port, "group.id": "doomed",
              "enable.auto.commit": False})
c.subscribe(["dt"])
end = time.time() + 30
while not c.assignment() and time.time() < end:
    c.poll(0.2)
c.commit(offsets=[TopicPartition("dt", 0, 3), TopicPartition("dt", 1, 4)], asynchronous=False)
c.close()
w = Conn(port)
assert offset_fetch(w, 6, "doomed", None)[1][("dt", 1)][0] == 4
offset_commit(w, 8, "keep", {("dt", 0): (9, "", -1)})
r = delete_groups(w, 2, ["doomed"])
assert r == {"doomed": 0}, "DeleteGroups %r" % r
assert offset_fetch(w, 6, "doomed", None)[1] == {}, "offsets survive DeleteGroups"
assert "doomed" not in {g["group"] for g in list_groups(w, 2)[1]}
PY
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
"$SEGLOG" dump --print-data-log "$T/data/__consumer_offsets-0" >"$T/dump1.txt" ||
  broker_fail "dump"
# Three tombstones: the two offsets and the group metadata.
[ "$(grep -c '"group":"doomed".*payload: null$' "$T/dump1.txt")" = 3 ] ||
  broker_fail "tombstones: $(grep doomed "$T/dump1.txt")"
broker_start "$T/broker2.log" "${ARGS[@]}"
timeout 30 "$BROKER_PY" - "$PORT" <<'PY' || broker_fail "after restart"
import sys
from group_wire import Conn, list_groups
from offsets_wire import offset_fetch
c = Conn(int(sys.argv[1]))
assert offset_fetch(c, 6, "doomed", None)[1] == {}, "doomed came back"
assert offset_fetch(c, 6, "keep", None)[1][("dt", 0)][0] == 9
assert "doomed" not in {g["group"] for g in list_groups(c, 2)[1]}
PY

# Many commits of the same two partitions: small segments, compacted.  The
# commits go on while the broker is killed; every acknowledged one survives.
cat >"$T/commits.py" <<'PY'
import sys
from group_wire import Conn
from offsets_wire import offset_commit
c = Conn(int(sys.argv[1]))
last = int(sys.argv[2])
with open(sys.argv[3], "a") as acked:
    for i in range(last + 1, last + 1 + int(sys.argv[4])):
        e = offset_commit(c, 8, "busy", {("dt", 0): (i, "x" * 40, -1), ("dt", 1): (i, "", -1)})
        assert e == {("dt", 0): 0, ("dt", 1): 0}, e
        acked.write("%d\n" % i)
        acked.flush()
PY
timeout 60 "$BROKER_PY" "$T/commits.py" "$PORT" 0 "$T/acked" 1500 || broker_fail "commits"
timeout 60 "$BROKER_PY" "$T/commits.py" "$PORT" 1500 "$T/acked" 100000 2>/dev/null &
cpid=$!
# Kill while the commits go on: once some past 1500 are acknowledged.
for ((i = 0; i < 300; i++)); do
  [ "$(tail -1 "$T/acked")" -gt 1520 ] 2>/dev/null && break
  kill -0 "$cpid" 2>/dev/null || break
  sleep 0.1
done
kill -KILL "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
wait "$cpid" 2>/dev/null || true
last=$(tail -1 "$T/acked")
[ "$last" -gt 1500 ] || broker_fail "no commits during the kill window"
broker_start "$T/broker3.log" "${ARGS[@]}"
segments() { ls "$T/data/__consumer_offsets-0" | grep -c '\.log$'; }
records() {
  "$SEGLOG" dump --deep-iteration "$T/data/__consumer_offsets-0" 2>/dev/null | grep -c '^| offset:'
}
# The cleaner compacts the rolled segments (cleanup.policy=compact).
for ((i = 0; i < 200; i++)); do
  n=$(records)
  [ "$n" -lt 200 ] && break
  sleep 0.1
done
[ "$(records)" -lt 200 ] || broker_fail "not compacted: $(records) records in $(segments) segments"
timeout 30 "$BROKER_PY" - "$PORT" "$last" <<'PY' || broker_fail "latest after kill -9"
import sys
from group_wire import Conn
from offsets_wire import offset_fetch
c = Conn(int(sys.argv[1]))
got = offset_fetch(c, 6, "busy", {"dt": [0, 1]})[1]
last = int(sys.argv[2])
# The last acknowledged commit, or the one in flight when the broker died.
assert got[("dt", 0)][0] in (last, last + 1) and got[("dt", 1)][0] == got[("dt", 0)][0], \
    "busy %r, last acknowledged %d" % (got, last)
PY
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
broker_start "$T/broker4.log" "${ARGS[@]}"
grep -q '__consumer_offsets replayed: .* 0 skipped' "$T/broker4.log" ||
  broker_fail "replay of the compacted log: $(grep replayed "$T/broker4.log")"
timeout 30 "$BROKER_PY" - "$PORT" "$last" <<'PY' || broker_fail "latest after compaction + restart"
import sys
from group_wire import Conn
from offsets_wire import offset_fetch
c = Conn(int(sys.argv[1]))
got = offset_fetch(c, 6, "busy", {"dt": [0, 1]})[1]
assert got[("dt", 0)][0] in (int(sys.argv[2]), int(sys.argv[2]) + 1), got
assert offset_fetch(c, 6, "keep", None)[1][("dt", 0)][0] == 9
assert offset_fetch(c, 6, "doomed", None)[1] == {}
PY
echo "0138 ok"
