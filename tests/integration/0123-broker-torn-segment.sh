#!/usr/bin/env bash
# 0123: a damaged log tail on restart (fault scenarios 4 and 6).  After a
# kill -9: partition 0 gets 37 garbage bytes appended to its active segment,
# partition 1 loses the last 10 bytes of it (a torn batch), partition 2 loses
# its .index and .timeindex files.  The restarted broker truncates 0 and 1 to
# their last valid batch with a WARN naming the partition, rebuilds 2's
# indexes, serves every remaining record in order, and appends after them.
# Garbage after a clean shutdown stops the start with one ERROR line; the
# start after that recovers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }
H="$here/lib/broker_torn_tail.py"

broker_start "$T/b1.log" --override num.partitions=3
timeout 60 "$BROKER_PY" "$H" produce "$PORT" torn 3 500 0 || broker_fail "produce"
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true

active() { ls "$T/data/torn-$1"/*.log | sort | tail -1; }
head -c 37 /dev/urandom >>"$(active 0)"
size=$(stat -c %s "$(active 1)")
truncate -s $((size - 10)) "$(active 1)"
rm -f "$T/data/torn-2"/*.index "$T/data/torn-2"/*.timeindex

broker_start "$T/b2.log"
for p in 0 1; do
  grep -E "WARN .*torn-$p" "$T/b2.log" | grep -qiE "truncat|corrupt|invalid" ||
    { cat "$T/b2.log" >&2; broker_fail "no WARN line about torn-$p's damaged tail"; }
done
n0=$(timeout 60 "$BROKER_PY" "$H" read "$PORT" torn 0) || broker_fail "read torn-0"
n1=$(timeout 60 "$BROKER_PY" "$H" read "$PORT" torn 1) || broker_fail "read torn-1"
n2=$(timeout 60 "$BROKER_PY" "$H" read "$PORT" torn 2) || broker_fail "read torn-2"
[ "$n0" = 500 ] || broker_fail "torn-0 has $n0 records, not 500 (garbage after them only)"
[ "$n1" -lt 500 ] && [ "$n1" -ge 400 ] ||
  broker_fail "torn-1 has $n1 records: expected all but its torn last batch"
[ "$n2" = 500 ] || broker_fail "torn-2 has $n2 records after losing its indexes"
ls "$T/data/torn-2"/*.index >/dev/null || broker_fail "torn-2's index was not rebuilt"

# Appends continue right after the valid records.
"$BROKER_PY" - "$PORT" "$n1" <<'PY' || broker_fail "appends after the truncation"
import sys
from confluent_kafka import Producer
port, n1 = int(sys.argv[1]), int(sys.argv[2])
got = []
p = Producer({"bootstrap.servers": "127.0.0.1:%d" % port, "acks": "all"})
for part in (0, 1):
    first = 500 if part == 0 else n1
    for i in range(first, first + 20):
        p.produce("torn", value=b"r%07d" % i, partition=part,
                  on_delivery=lambda e, m: got.append((m.partition(), m.offset(),
                                                       m.value()) if e is None else None))
p.flush(30)
ok = all(g is not None and g[1] == int(g[2][1:]) for g in got) and len(got) == 40
sys.exit(0 if ok else 1)
PY
n0=$(timeout 60 "$BROKER_PY" "$H" read "$PORT" torn 0) || broker_fail "read torn-0 again"
n1b=$(timeout 60 "$BROKER_PY" "$H" read "$PORT" torn 1) || broker_fail "read torn-1 again"
[ "$n0" = 520 ] && [ "$n1b" = $((n1 + 20)) ] || broker_fail "after appends: $n0 and $n1b records"
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "seglogd exited with $EXIT_STATUS"

# Garbage after a clean shutdown: recovery is skipped (Kafka's rule), the
# segment does not load, and seglogd stops at start with one ERROR line naming
# the file and byte (Kafka takes the log directory offline); the next start
# recovers (the failed one consumed the marker).
head -c 37 /dev/urandom >>"$(active 0)"
broker_run_expect_fail "$T/b3.log" --override "listeners=PLAINTEXT://127.0.0.1:0" \
  --override "metrics.listener=127.0.0.1:0" --override "log.dirs=$T/data"
[ "$(grep -c ERROR "$T/b3.log")" = 1 ] && grep -q "ERROR .*torn-0/.*\.log: at byte" "$T/b3.log" ||
  { cat "$T/b3.log" >&2; broker_fail "no single ERROR line naming the damaged segment"; }
# The failed start consumed the marker (libseglog removes it when it opens
# the directory), so simply starting again runs recovery.
[ ! -e "$T/data/.kafka_cleanshutdown" ] || broker_fail "the clean-shutdown marker is still there"
broker_start "$T/b4.log"
grep -q "WARN .*recovery of torn-0 truncated" "$T/b4.log" || broker_fail "no recovery WARN"
n0=$(timeout 60 "$BROKER_PY" "$H" read "$PORT" torn 0) || broker_fail "read torn-0 at last"
[ "$n0" = 520 ] || broker_fail "torn-0 has $n0 records after the second recovery, not 520"
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "seglogd exited with $EXIT_STATUS"
echo "PASS 0123"
