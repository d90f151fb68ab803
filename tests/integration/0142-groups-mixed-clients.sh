#!/usr/bin/env bash
# 0142: as 0140 with a mixed group: confluent-kafka, kafka-python and
# confluent-kafka members agree on the range protocol and share the topic.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/broker.sh
source "$here/lib/broker.sh"
# shellcheck source=lib/groups.sh
source "$here/lib/groups.sh"
broker_init
L="$here/lib/group_members.py"

GROUPS_MOCK_TOPICS="t:6"
groups_start "$T/broker.log"
groups_create_topic t 6
timeout 120 "$BROKER_PY" "$L" share "$B" t g0142 6 600 ck:range kp:range ck:range ||
  { tail -20 "$T/broker.log" >&2; broker_fail "mixed group"; }
echo "PASS 0142"
