#!/usr/bin/env bash
# 0147: committed offsets survive a broker restart, after SIGTERM and after
# kill -9.  A confluent-kafka group member reads part of a 2-partition topic,
# commits synchronously (the commit is acknowledged before the broker goes
# down) and closes; after the restart OffsetFetch (confluent-kafka's
# committed()) returns the same offsets, `seglog groups describe` shows them,
# and a new member of the group resumes exactly there (first record received
# is the committed offset, nothing before it, nothing skipped).  Repeated with
# a kafka-python member committing before kill -9.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/broker.sh
source "$here/lib/broker.sh"
# shellcheck source=lib/groups.sh
source "$here/lib/groups.sh"
broker_init
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ "${SEGLOG_GROUP_TESTS_ON_MOCK:-0}" = 1 ] && { echo "SKIP: restarts need seglogd (the mock cluster forgets everything)"; exit 77; }
groups_start "$T/broker.log"
groups_create_topic t 2
groups_produce t 100
expect() {
  [ "$2" = "$3" ] || { printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3" >&2; exit 1; }
}
# step CLIENT N: a member of g reads N records per partition from where the
# group stands, commits synchronously, closes; prints "p:committed ...".
step() {
  timeout 90 "$BROKER_PY" - "$B" "$1" "$2" <<'PY'
import sys, time
b, client, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
got = {0: [], 1: []}
end = time.monotonic() + 60
if client == "ck":
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": b, "group.id": "g", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "heartbeat.interval.ms": 500})
    c.subscribe(["t"])
    while min(len(v) for v in got.values()) < n and time.monotonic() < end:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        if len(got[m.partition()]) < n:
            got[m.partition()].append(m.offset())
    offs = [TopicPartition("t", p, got[p][-1] + 1) for p in (0, 1) if got[p]]
    c.commit(offsets=offs, asynchronous=False)
    check = c.committed([TopicPartition("t", 0), TopicPartition("t", 1)], timeout=30)
    c.close()
else:
    from kafka import KafkaConsumer, TopicPartition as KTP
    from kafka.structs import OffsetAndMetadata
    c = KafkaConsumer(bootstrap_servers=b, group_id="g", enable_auto_commit=False,
                      auto_offset_reset="earliest", heartbeat_interval_ms=500)
    c.subscribe(["t"])
    while min(len(v) for v in got.values()) < n and time.monotonic() < end:
        for tp, recs in c.poll(timeout_ms=200, max_records=1).items():
            for r in recs:
                if len(got[tp.partition]) < n:
                    got[tp.partition].append(r.offset)
    c.commit({KTP("t", p): OffsetAndMetadata(got[p][-1] + 1, "") for p in (0, 1) if got[p]})
    c.close()
for p in (0, 1):
    if len(got[p]) < n:
        sys.exit("FAIL: partition %d: %d of %d records" % (p, len(got[p]), n))
    if got[p] != list(range(got[p][0], got[p][0] + n)):
        sys.exit("FAIL: partition %d: offsets %s not consecutive" % (p, got[p]))
print("%d:%d %d:%d first %d:%d %d:%d" % (0, got[0][-1] + 1, 1, got[1][-1] + 1, 0, got[0][0], 1, got[1][0]))
PY
}
committed() {
  timeout 60 "$S" groups describe -b "$B" -g g 2>/dev/null | awk 'NR > 1 { printf "%s:%s ", $3, $4 }' | sed 's/ $//'
}
restart() {
  kill "-$1" "$BROKER_PID"
  broker_wait_exit "$BROKER_PID" 20
  broker_start "$T/broker-$1.log"
  B="127.0.0.1:$PORT"
}
out=$(step ck 10) || broker_fail "first member: $out"
expect "first member" "0:10 1:10 first 0:0 1:0" "$out"
expect "committed" "0:10 1:10" "$(committed)"
restart TERM
expect "committed after SIGTERM" "0:10 1:10" "$(committed)"
out=$(step ck 15) || broker_fail "member after SIGTERM: $out"
expect "resumed after SIGTERM" "0:25 1:25 first 0:10 1:10" "$out"
out=$(step kp 5) || broker_fail "kafka-python member: $out"
expect "kafka-python member" "0:30 1:30 first 0:25 1:25" "$out"
restart KILL
expect "committed after kill -9" "0:30 1:30" "$(committed)"
out=$(step ck 20) || broker_fail "member after kill -9: $out"
expect "resumed after kill -9" "0:50 1:50 first 0:30 1:30" "$out"
restart KILL
expect "committed after the second kill -9" "0:50 1:50" "$(committed)"
groups_produce t 20 more
out=$(step kp 1) || broker_fail "kafka-python after the second kill -9: $out"
expect "kafka-python resumed after kill -9" "0:51 1:51 first 0:50 1:50" "$out"
echo "PASS 0147"
