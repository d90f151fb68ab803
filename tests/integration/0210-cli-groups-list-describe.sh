#!/usr/bin/env bash
# 0210: `seglog groups list` and `groups describe` against seglogd with three
# groups: "done" (a seglog consume -G that read everything: Empty, consumer
# protocol, lag 0), "idle" (offsets committed without joining: Empty, no
# protocol type, known lags) and "live" (two confluent-kafka members: Stable,
# range, 2 partitions each).  Checks the list (and --state filter), the
# offsets view (committed offset, log end offset, lag, owner), the members
# view (client ids, hosts, decoded assignments), the state view (coordinator,
# assignor, state, member count), a missing group, and usage errors.
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
groups_produce t 40
to "$S" consume -b "$B" -t t -G done -e -f '%s\n' >/dev/null
"$BROKER_PY" "$L" commit "$B" idle t 0:3 1:4 2:5 3:6
groups_hold live t live-a live-b
groups_wait_state live Stable 2

expect "list" "GROUP STATE  PROTOCOL-TYPE
done  Empty  consumer
idle  Empty  -
live  Stable consumer" "$(to "$S" groups list -b "$B")"
expect "list --state" "GROUP STATE  PROTOCOL-TYPE
live  Stable consumer" "$(to "$S" groups list -b "$B" --state Stable)"
expect "list --state Empty,Dead" "done idle" \
  "$(to "$S" groups list -b "$B" --state Empty,Dead | awk 'NR > 1 { print $1 }' | tr '\n' ' ' | sed 's/ $//')"

# offsets view of the idle group: committed, log end 10, lag, no owner
expect "describe idle" "GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
idle t 0 3 10 7 - - -
idle t 1 4 10 6 - - -
idle t 2 5 10 5 - - -
idle t 3 6 10 4 - - -" "$(to "$S" groups describe -b "$B" -g idle 2>"$T/err" | tr -s ' ')"
grep -q "consumer group 'idle' has no active members" "$T/err" || broker_fail "no-members notice: $(cat "$T/err")"
expect "describe done (lag 0)" "0 0 0 0" \
  "$(to "$S" groups describe -b "$B" -g done --offsets 2>/dev/null | awk 'NR > 1 { print $6 }' | tr '\n' ' ' | sed 's/ $//')"

# members view: two members, 2 partitions each, assignments decoded
to "$S" groups describe -b "$B" -g live --members --verbose >"$T/members"
expect "members header" "GROUP CONSUMER-ID GROUP-INSTANCE-ID HOST CLIENT-ID #PARTITIONS ASSIGNMENT" \
  "$(head -1 "$T/members" | tr -s ' ')"
expect "members" "live-a 2 /127.0.0.1 -
live-b 2 /127.0.0.1 -" "$(awk 'NR > 1 { print $5, $6, $4, $3 }' "$T/members" | sort)"
expect "assignments cover t" "t(0,1) t(2,3)" "$(awk 'NR > 1 { print $7 }' "$T/members" | sort | tr '\n' ' ' | sed 's/ $//')"
awk 'NR > 1 && $2 !~ /^live-[ab]-/ { exit 1 }' "$T/members" || broker_fail "member ids: $(cat "$T/members")"
expect "members brief header" "GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS" \
  "$(to "$S" groups describe -b "$B" -g live --members | head -1 | tr -s ' ')"

# offsets view of the live group: each partition's owner is the member whose
# assignment holds it
to "$S" groups describe -b "$B" -g live >"$T/offsets"
"$BROKER_PY" - "$T/members" "$T/offsets" <<'PY'
import sys
owner = {}
for line in open(sys.argv[1]).read().splitlines()[1:]:
    f = line.split()
    parts = f[6][2:-1].split(",")
    for p in parts:
        owner[int(p)] = (f[1], f[3], f[4])
rows = [l.split() for l in open(sys.argv[2]).read().splitlines()[1:]]
if sorted(int(r[2]) for r in rows) != [0, 1, 2, 3]:
    sys.exit("FAIL: offsets rows %s" % rows)
for r in rows:
    if (r[6], r[7], r[8]) != owner[int(r[2])] or r[4] != "10":
        sys.exit("FAIL: row %s, owner %s" % (r, owner[int(r[2])]))
PY

# state view
expect "state" "live 127.0.0.1:$PORT (1) range Stable 2" \
  "$(to "$S" groups describe -b "$B" -g live --state | awk 'NR > 1' | tr -s ' ')"
expect "all groups" "done Empty 0
idle Empty 0
live Stable 2" "$(to "$S" groups describe -b "$B" --all-groups --state | awk 'NR > 1 { print $1, $(NF-1), $NF }' | sort)"

st() { local s=0; "$@" >/dev/null 2>"$T/err" || s=$?; echo "$s"; }
expect "missing group" 1 "$(st to "$S" groups describe -b "$B" -g nope)"
grep -q "consumer group 'nope' does not exist" "$T/err" || broker_fail "missing group message: $(cat "$T/err")"
expect "no -b" 2 "$(st "$S" groups list)"
expect "-d" 2 "$(st "$S" groups describe -d "$T/data" -g live)"
expect "no group" 2 "$(st "$S" groups describe -b "$B")"
expect "bad subcommand" 2 "$(st "$S" groups frobnicate -b "$B")"
expect "bad state" 2 "$(st "$S" groups list -b "$B" --state Sleepy)"
groups_release live
groups_wait_state live Empty 0
echo "PASS 0210"
