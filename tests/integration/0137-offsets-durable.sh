#!/usr/bin/env bash
# 0137: committed offsets survive SIGTERM and kill -9: a confluent-kafka
# group member commits, the broker stops (cleanly, then with SIGKILL right
# after the commit is acknowledged), and after each restart the offset is
# served again and a new member resumes there.  `seglog dump` decodes the
# group's __consumer_offsets partition (OffsetCommitValue v3,
# GroupMetadataValue v3).  Corrupt records written into that partition are
# logged with partition and offset and skipped at the next start.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }
SEGLOG="$SEGLOG_BUILD/kcat-tools/seglog"
SLTOOL="$SEGLOG_BUILD/tests/sltool"
[ -x "$SEGLOG" ] && [ -x "$SLTOOL" ] || broker_fail "seglog or sltool not built"

ARGS=(--override group.initial.rebalance.delay.ms=0 --override offsets.topic.num.partitions=10)
broker_start "$T/broker.log" "${ARGS[@]}"
py() { timeout 60 "$BROKER_PY" - "$PORT" "$@"; }
LOG="$T/broker.log"
fail() {
  grep -v 'closing connection' "$LOG" | tail -20 >&2
  broker_fail "$@"
}

py <<'PY' || broker_fail "produce"
import sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
bs = "127.0.0.1:%s" % sys.argv[1]
ac = AdminClient({"bootstrap.servers": bs})
ac.create_topics([NewTopic("dt", 1, 1)])["dt"].result(10)
p = Producer({"bootstrap.servers": bs})
for i in range(20):
    p.produce("dt", value=b"r%d" % i, partition=0)
assert p.flush(10) == 0
PY

# member COMMIT_AT [EXPECT_FIRST]: a group member of "dur" reads from the
# committed offset (checks it is EXPECT_FIRST), then commits COMMIT_AT.
cat >"$T/member.py" <<'PY'
import sys, time
from confluent_kafka import Consumer, KafkaException, TopicPartition
bs, commit_at = "127.0.0.1:%s" % sys.argv[1], int(sys.argv[2])
expect_first = int(sys.argv[3]) if len(sys.argv) > 3 else None
c = Consumer({"bootstrap.servers": bs, "group.id": "dur", "enable.auto.commit": False,
              "auto.offset.reset": "earliest"})
c.subscribe(["dt"])
first, end = None, time.time() + 30
while first is None and time.time() < end:
    m = c.poll(1.0)
    if m is not None and not m.error():
        first = m.offset()
assert first is not None, "no record"
assert expect_first is None or first == expect_first, "resumed at %d, not %d" % (first, expect_first)
# A commit that meets a rebalance fails as in Kafka; none is expected here,
# but say so rather than fail on a retriable error.
for attempt in range(3):
    try:
        c.commit(offsets=[TopicPartition("dt", 0, commit_at)], asynchronous=False)
        break
    except KafkaException as e:
        print("commit attempt %d: %s" % (attempt, e), file=sys.stderr)
        if attempt == 2 or not e.args[0].retriable():
            raise
        c.poll(1.0)
got = c.committed([TopicPartition("dt", 0)], timeout=20)[0].offset
assert got == commit_at, "committed %r" % got
c.close()
print("committed", commit_at)
PY
committed() {
  py <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": "127.0.0.1:%s" % sys.argv[1], "group.id": "dur"})
print(c.committed([TopicPartition("dt", 0)], timeout=20)[0].offset)
c.close()
PY
}

timeout 60 "$BROKER_PY" "$T/member.py" "$PORT" 5 0 || fail "first member"
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "exit status $EXIT_STATUS"
LOG="$T/broker2.log"
broker_start "$LOG" "${ARGS[@]}"
[ "$(committed)" = 5 ] || fail "after SIGTERM: committed $(committed)"
timeout 60 "$BROKER_PY" "$T/member.py" "$PORT" 12 5 || fail "member after SIGTERM"
kill -KILL "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
LOG="$T/broker3.log"
broker_start "$LOG" "${ARGS[@]}"
[ "$(committed)" = 12 ] || fail "after kill -9: committed $(committed)"
timeout 60 "$BROKER_PY" "$T/member.py" "$PORT" 13 12 || fail "member after kill -9"

# The group's partition: Kafka's abs(hashCode("dur")) % 10.
part=$("$BROKER_PY" -c 'h = 0
for ch in "dur": h = (h * 31 + ord(ch)) & 0xffffffff
h = h - (1 << 32) if h >= 1 << 31 else h
print(0 if h == -(1 << 31) else abs(h) % 10)')
pdir="$T/data/__consumer_offsets-$part"
[ -d "$pdir" ] || broker_fail "no $pdir"
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
"$SEGLOG" dump --print-data-log "$pdir" >"$T/dump.txt" || broker_fail "seglog dump"
grep -q '"group":"dur","topic":"dt","partition":0' "$T/dump.txt" ||
  broker_fail "no offset key in the dump: $(head -20 "$T/dump.txt")"
grep -q 'payload: {"version":3,"data":{"offset":13,"leaderEpoch":' "$T/dump.txt" ||
  broker_fail "no OffsetCommitValue v3 with offset 13: $(grep payload "$T/dump.txt" | tail -3)"
grep -q 'key: {"type":2,"data":{"group":"dur"}}' "$T/dump.txt" ||
  broker_fail "no GroupMetadataKey in the dump"
grep -q '"protocolType":"consumer"' "$T/dump.txt" ||
  broker_fail "no GroupMetadataValue decoded: $(grep '"type":2' "$T/dump.txt" | tail -2)"

# Corrupt records appended offline: a key that does not decode, an offset key
# with a truncated value, a key of the newer coordinator (version 5: ignored,
# not an error), and a valid commit after them.
"$BROKER_PY" - "$T/corrupt.jsonl" <<'PY'
import base64, struct, sys
def s(x): return struct.pack(">h", len(x)) + x
b64 = lambda b: base64.b64encode(b).decode()
key = struct.pack(">h", 1) + s(b"dur") + s(b"dt") + struct.pack(">i", 0)
good = struct.pack(">h", 3) + struct.pack(">qi", 17, -1) + s(b"") + struct.pack(">q", 1)
lines = [
    {"timestamp": 1, "key": b64(b"\x00\x01\x00\x09x"), "value": b64(b"zz")},
    {"timestamp": 1, "key": b64(key), "value": b64(struct.pack(">hq", 3, 1))},
    {"timestamp": 1, "key": b64(struct.pack(">h", 5) + s(b"dur")), "value": b64(b"\x00")},
    {"timestamp": 1, "key": b64(key), "value": b64(good)},
]
import json
with open(sys.argv[1], "w") as f:
    for l in lines:
        f.write(json.dumps(l) + "\n")
PY
"$SLTOOL" append "$pdir" <"$T/corrupt.jsonl" >/dev/null || broker_fail "sltool append"
broker_start "$T/broker4.log" "${ARGS[@]}"
[ "$(grep -c "__consumer_offsets-$part offset [0-9]*: record skipped" "$T/broker4.log")" = 2 ] ||
  broker_fail "skipped records not logged: $(grep -i skip "$T/broker4.log")"
grep -q '__consumer_offsets replayed: .* 2 skipped' "$T/broker4.log" ||
  broker_fail "replay summary: $(grep replayed "$T/broker4.log")"
[ "$(committed)" = 17 ] || broker_fail "after corrupt records: committed $(committed)"
echo "0137 ok"
