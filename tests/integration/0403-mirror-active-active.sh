#!/usr/bin/env bash
# Active-active A<->B with the default replication policy: both flows run in
# one seglog-mirror while both sides keep producing.  A's "t" reaches B as
# "A.t", B's "t" reaches A as "B.t", and nothing crosses twice: no "A.B.t" or
# "B.A.t" appears, each remote topic holds exactly the other side's records
# (no duplicates: an orderly stop, not a crash), and heartbeats flow both ways
# ("heartbeats" on each side; the other side's heartbeats as "A.heartbeats" /
# "B.heartbeats", never "B.A.heartbeats").
set -euo pipefail
. "$(dirname "$0")/lib/mirror.sh"
mirror_init
mirror_two_brokers

mirror_py create "$BS_A" t 3
mirror_py create "$BS_B" t 3
mirror_config "$T/mm.properties" "A->B.enabled = true" "B->A.enabled = true" \
  "emit.checkpoints.enabled = false" "refresh.topics.interval.seconds = 1"
mirror_start "$T/mm.properties" "$T/mirror.log"
for round in 0 1 2 3 4; do
  mirror_py produce "$BS_A" t 3 2000 a $((round * 2000))
  mirror_py produce "$BS_B" t 3 2000 b $((round * 2000))
  sleep 0.5
done
mirror_py wait-count "$BS_B" A.t 10000 60 >/dev/null
mirror_py wait-count "$BS_A" B.t 10000 60 >/dev/null
# Let a few more refreshes and heartbeats pass: a loop would show up now.
sleep 3
kill -TERM "$MIRROR_PID"
broker_wait_exit "$MIRROR_PID" 30

for bs in "$BS_A" "$BS_B"; do
  topics=$("$BROKER_PY" -c 'import sys
from confluent_kafka.admin import AdminClient
a = AdminClient({"bootstrap.servers": sys.argv[1]})
print(" ".join(sorted(a.list_topics(timeout=10).topics)))' "$bs")
  echo "$bs: $topics"
  case " $topics " in
  *" A.B."* | *" B.A."*) broker_fail "a topic crossed twice on $bs: $topics" ;;
  esac
done
[ "$(mirror_py count "$BS_A" t)" = 10000 ] || broker_fail "A's own t changed"
[ "$(mirror_py count "$BS_B" t)" = 10000 ] || broker_fail "B's own t changed"
mirror_py compare "$BS_A" t "$BS_B" A.t 0 A
mirror_py compare "$BS_B" t "$BS_A" B.t 0 B
[ "$(mirror_py count "$BS_B" A.heartbeats)" -gt 0 ] || broker_fail "no A.heartbeats on B"
[ "$(mirror_py count "$BS_A" B.heartbeats)" -gt 0 ] || broker_fail "no B.heartbeats on A"
echo "PASS"
