#!/usr/bin/env bash
# 0212: `seglog groups delete` against seglogd: a group with an active member
# is refused (status 1, NON_EMPTY_GROUP explained) and still listed; once the
# member left (Empty) it is deleted, no longer listed, and describe says it
# does not exist; a consumer with that group id then starts over from its
# auto.offset.reset.  `delete --topic T:P` deletes only those committed
# offsets (OffsetDelete) and prints kafka-consumer-groups' status table.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/broker.sh
source "$here/lib/broker.sh"
# shellcheck source=lib/groups.sh
source "$here/lib/groups.sh"
broker_init
S="$SEGLOG_BUILD/kcat-tools/seglog"
L="$here/lib/group_members.py"
groups_start "$T/broker.log"
trap 'for p in "${GROUPS_HOLD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; broker_cleanup' EXIT
expect() {
  [ "$2" = "$3" ] || { printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3" >&2; exit 1; }
}
st() { local s=0; "$@" >/dev/null 2>"$T/err" || s=$?; echo "$s"; }
to() { timeout 60 "$@"; }
groups_create_topic t 2
groups_produce t 10
to "$S" consume -b "$B" -t t -G g -e -f '%s\n' >/dev/null
groups_hold g t m1
groups_wait_state g Stable 1
expect "delete active" 1 "$(st to "$S" groups delete -b "$B" -g g)"
grep -q "group 'g' could not be deleted: it is not empty" "$T/err" || broker_fail "refusal: $(cat "$T/err")"
to "$S" groups list -b "$B" | grep -q '^g ' || broker_fail "g vanished after a refused delete"
# offsets of a topic the active group subscribes to cannot be deleted
# (GROUP_SUBSCRIBED_TO_TOPIC, per partition, as Kafka)
st2=0
to "$S" groups delete -b "$B" -g g --topic t:0 >"$T/out" 2>"$T/err" || st2=$?
expect "delete subscribed offsets" 1 "$st2"
grep -q "^t  *0  *Error: .*subscribed" "$T/out" || broker_fail "status table: $(cat "$T/out")"
groups_release g
groups_wait_state g Empty 0
expect "delete" "deleted group 'g'" "$(to "$S" groups delete -b "$B" -g g)"
to "$S" groups list -b "$B" | grep -q '^g ' && broker_fail "g still listed after delete"
expect "describe deleted" 1 "$(st to "$S" groups describe -b "$B" -g g)"
grep -q "does not exist" "$T/err" || broker_fail "describe deleted: $(cat "$T/err")"
# its offsets went with it: the group starts from the beginning again
expect "offsets gone" 10 "$(to "$S" consume -b "$B" -t t -G g -e -f '%s\n' | wc -l)"
expect "delete missing" 1 "$(st to "$S" groups delete -b "$B" -g nope)"

# delete only some offsets (OffsetDelete): g now has 0:5 1:5 committed
expect "delete offsets" "TOPIC PARTITION STATUS
t 0 Successful" "$(to "$S" groups delete -b "$B" -g g --topic t:0 | tr -s ' ')"
expect "remaining offsets" "1:5" \
  "$(to "$S" groups describe -b "$B" -g g 2>/dev/null | awk 'NR > 1 { printf "%s:%s ", $3, $4 }' | sed 's/ $//')"
expect "delete offsets: two groups" 2 "$(st "$S" groups delete -b "$B" -g g -g h --topic t)"
echo "PASS 0212"
