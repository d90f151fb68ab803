#!/usr/bin/env bash
# 0140: three confluent-kafka consumers in one group over a 6-partition topic:
# once the group is stable each owns 2 partitions, and together they receive
# every record produced afterwards exactly once, each from a partition it owns
# (lib/group_members.py share).  Against seglogd; skips only when its
# ApiVersions lacks JoinGroup (lib/groups.sh).
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
timeout 120 "$BROKER_PY" "$L" share "$B" t g0140 6 600 ck:range ck:range ck:range ||
  { tail -20 "$T/broker.log" >&2; broker_fail "three confluent-kafka members"; }
echo "PASS 0140"
