#!/usr/bin/env bash
# 0143: the assignors: range, roundrobin and cooperative-sticky (librdkafka,
# confluent-kafka) and range, roundrobin, sticky (kafka-python), each as a
# group of three over a 6-partition topic (2 partitions each, every record
# exactly once), one group per assignor.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/broker.sh
source "$here/lib/broker.sh"
# shellcheck source=lib/groups.sh
source "$here/lib/groups.sh"
broker_init
L="$here/lib/group_members.py"

GROUPS_MOCK_TOPICS="a0:6 a1:6 a2:6 a3:6 a4:6"
groups_start "$T/broker.log"
i=0
for spec in ck:roundrobin ck:cooperative-sticky kp:roundrobin kp:sticky; do
  groups_create_topic "a$i" 6
  timeout 120 "$BROKER_PY" "$L" share "$B" "a$i" "g0143-$i" 6 300 "$spec" "$spec" "$spec" ||
    { tail -20 "$T/broker.log" >&2; broker_fail "assignor $spec"; }
  i=$((i + 1))
done
# range is 0140/0141; a mixed group that only shares roundrobin picks it
groups_create_topic a4 6
timeout 120 "$BROKER_PY" "$L" share "$B" a4 g0143-mix 6 300 ck:roundrobin kp:roundrobin ck:roundrobin ||
  { tail -20 "$T/broker.log" >&2; broker_fail "mixed roundrobin group"; }
echo "PASS 0143"
