#!/usr/bin/env bash
# 0144: incremental cooperative rebalancing: two confluent-kafka members
# with cooperative-sticky own 3 partitions each while a producer keeps
# writing; a third member joins.  Only the partitions that move to the
# newcomer are revoked, the others stay assigned (no stop-the-world), their
# owners keep receiving records while the newcomer waits for its assignment,
# and every record is delivered exactly once (lib/group_members.py coop).
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
timeout 150 "$BROKER_PY" "$L" coop "$B" t g0144 ||
  { tail -20 "$T/broker.log" >&2; broker_fail "cooperative-sticky join"; }
echo "PASS 0144"
