#!/usr/bin/env bash
# 0141: as 0140 with three kafka-python consumers (range assignor).
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
timeout 120 "$BROKER_PY" "$L" share "$B" t g0141 6 600 kp:range kp:range kp:range ||
  { tail -20 "$T/broker.log" >&2; broker_fail "three kafka-python members"; }
echo "PASS 0141"
