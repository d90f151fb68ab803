#!/usr/bin/env bash
# 0211: `seglog groups reset-offsets` against seglogd, as kafka-consumer-groups
# --reset-offsets: 4 partitions of 10 records each, record i stamped
# now - 10 h + i h.  A dry run prints the plan and changes nothing; with
# --execute each way of choosing offsets is applied and checked through
# `groups describe` (--to-earliest, --to-latest, --to-offset N clamped to the
# log end, --shift-by +/-N clamped, --to-datetime, --by-duration,
# --to-current, per --topic T:P,... or --all-topics); a group consumer then
# resumes exactly at the reset offsets.  A group with an active member is
# refused (status 1, nothing changed), dry run included.
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
to() { timeout 60 "$@"; }
groups_create_topic t 4
now=$(date +%s%3N)
base=$((now - 10 * 3600000))
"$BROKER_PY" "$L" produce-ts "$B" t 4 10 "$base" 3600000
to "$S" consume -b "$B" -t t -G g -e -f '%s\n' >/dev/null
# committed offsets of g, "p:off ..." in partition order
committed() {
  to "$S" groups describe -b "$B" -g "${1:-g}" 2>/dev/null | awk 'NR > 1 { printf "%s:%s ", $3, $4 }' | sed 's/ $//'
}
reset() { to "$S" groups reset-offsets -b "$B" -g g "$@"; }
plan() { awk 'NR > 1 { printf "%s:%s ", $3, $4 }' | sed 's/ $//'; }
expect "start" "0:10 1:10 2:10 3:10" "$(committed)"

# dry run: the plan, nothing changed
out=$(reset --all-topics --to-earliest 2>"$T/err")
expect "dry-run header" "GROUP TOPIC PARTITION NEW-OFFSET" "$(echo "$out" | head -1 | tr -s ' ')"
expect "dry-run plan" "0:0 1:0 2:0 3:0" "$(echo "$out" | plan)"
grep -q "dry run" "$T/err" || broker_fail "dry-run notice: $(cat "$T/err")"
expect "dry run changed nothing" "0:10 1:10 2:10 3:10" "$(committed)"
expect "explicit --dry-run" "0:0 1:0 2:0 3:0" "$(reset --all-topics --to-earliest --dry-run 2>/dev/null | plan)"
expect "still unchanged" "0:10 1:10 2:10 3:10" "$(committed)"

reset --topic t:1,2 --to-offset 4 --execute >/dev/null 2>&1
expect "--to-offset 4 on t:1,2" "0:10 1:4 2:4 3:10" "$(committed)"
reset --topic t:1 --shift-by -3 --execute >/dev/null 2>&1
expect "--shift-by -3" "0:10 1:1 2:4 3:10" "$(committed)"
expect "--shift-by -5 clamps at the log start (plan)" "1:0" "$(reset --topic t:1 --shift-by -5 2>/dev/null | plan)"
expect "--shift-by 100 clamps at the log end (plan)" "2:10" "$(reset --topic t:2 --shift-by 100 2>/dev/null | plan)"
expect "--to-offset 99 clamps (plan)" "0:10" "$(reset --topic t:0 --to-offset 99 2>/dev/null | plan)"
expect "--to-current (plan)" "0:10 1:1 2:4 3:10" "$(reset --topic t --to-current 2>/dev/null | plan)"
# record i is at now-10h+i h: 5.5 h ago -> first record at/after it is i=5
dt=$(date -u -d "@$(((base + 5 * 3600000 - 1800000) / 1000))" +%Y-%m-%dT%H:%M:%S)
reset --topic t:0 --to-datetime "$dt" --execute >/dev/null 2>&1
expect "--to-datetime" "0:5 1:1 2:4 3:10" "$(committed)"
reset --topic t:3 --by-duration PT4H30M --execute >/dev/null 2>&1
expect "--by-duration PT4H30M" "0:5 1:1 2:4 3:6" "$(committed)"
expect "--by-duration P1D (plan)" "3:0" "$(reset --topic t:3 --by-duration P1D 2>/dev/null | plan)"
expect "--to-datetime in the future -> log end (plan)" "3:10" \
  "$(reset --topic t:3 --to-datetime 2099-01-01T00:00:00Z 2>/dev/null | plan)"
reset --all-topics --to-latest --execute >/dev/null 2>&1
expect "--to-latest" "0:10 1:10 2:10 3:10" "$(committed)"
reset --topic t:2 --to-earliest --execute >/dev/null 2>&1
reset --topic t:0 --to-offset 7 --execute >/dev/null 2>&1
expect "earliest + offset" "0:7 1:10 2:0 3:10" "$(committed)"

# a group consumer resumes at the reset offsets: 0:7-9 and 2:0-9
got=$(to "$S" consume -b "$B" -t t -G g -e -f '%p:%o\n' | sort -t: -k1,1n -k2,2n | tr '\n' ' ')
want="$(for o in 7 8 9; do printf '0:%s ' $o; done; for o in $(seq 0 9); do printf '2:%s ' $o; done)"
expect "resumed at the reset offsets" "$want" "$got"

# an active group is refused, dry run included, and nothing changes
groups_hold g t member-1
groups_wait_state g Stable 1
st() { local s=0; "$@" >/dev/null 2>"$T/err" || s=$?; echo "$s"; }
before=$(committed)
expect "refused --execute" 1 "$(st reset --all-topics --to-earliest --execute)"
grep -q "can only be reset if the group 'g' is inactive, but the current state is Stable" "$T/err" ||
  broker_fail "refusal message: $(cat "$T/err")"
expect "refused dry run" 1 "$(st reset --all-topics --to-earliest)"
groups_release g
groups_wait_state g Empty 0
expect "unchanged after refusal" "$before" "$(committed)"

# usage errors
expect "no reset kind" 2 "$(st "$S" groups reset-offsets -b "$B" -g g --all-topics)"
expect "no topics" 2 "$(st "$S" groups reset-offsets -b "$B" -g g --to-earliest)"
expect "two kinds" 2 "$(st "$S" groups reset-offsets -b "$B" -g g --all-topics --to-earliest --to-latest)"
expect "bad duration" 2 "$(st "$S" groups reset-offsets -b "$B" -g g --all-topics --by-duration 4h)"
expect "bad datetime" 2 "$(st "$S" groups reset-offsets -b "$B" -g g --all-topics --to-datetime yesterday)"
expect "bad topic spec" 2 "$(st "$S" groups reset-offsets -b "$B" -g g --topic t:x --to-earliest)"
expect "execute + dry-run" 2 "$(st "$S" groups reset-offsets -b "$B" -g g --all-topics --to-earliest --execute --dry-run)"
expect "missing partition" 1 "$(st reset --topic t:9 --to-earliest)"
expect "shift without committed offset" 1 "$(st to "$S" groups reset-offsets -b "$B" -g fresh --topic t --shift-by 1)"
echo "PASS 0211"
