#!/usr/bin/env bash
# 0214: `seglog consume -G GROUP` against seglogd commits what it printed and
# nothing else: -c 3 -e prints 3 records and the group's committed offsets add
# up to 3; the next -e run prints exactly the other records (together every
# record once); records produced later are printed by the next run and
# nothing else; a run with nothing new prints nothing and ends (-e).
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/broker.sh
source "$here/lib/broker.sh"
# shellcheck source=lib/groups.sh
source "$here/lib/groups.sh"
broker_init
S="$SEGLOG_BUILD/kcat-tools/seglog"
groups_start "$T/broker.log"
expect() {
  [ "$2" = "$3" ] || { printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3" >&2; exit 1; }
}
to() { timeout 60 "$@"; }
groups_create_topic t 2
groups_produce t 10 a
committed_sum() {
  to "$S" groups describe -b "$B" -g g 2>/dev/null |
    awk 'NR > 1 && $4 != "-" { s += $4 } END { print s + 0 }'
}
to "$S" consume -b "$B" -t t -G g -e -c 3 -f '%s\n' >"$T/first"
expect "-c 3 printed" 3 "$(wc -l <"$T/first")"
expect "-c 3 committed" 3 "$(committed_sum)"
to "$S" consume -b "$B" -t t -G g -e -f '%s\n' >"$T/second"
expect "second run" 7 "$(wc -l <"$T/second")"
expect "together once" "$(seq 0 9 | sed 's/^/a/' | sort)" "$(sort "$T/first" "$T/second")"
expect "all committed" 10 "$(committed_sum)"
groups_produce t 4 b
expect "new records only" "b0 b1 b2 b3" "$(to "$S" consume -b "$B" -t t -G g -e -f '%s\n' | sort | tr '\n' ' ' | sed 's/ $//')"
expect "nothing new" "" "$(to "$S" consume -b "$B" -t t -G g -e -f '%s\n')"
expect "committed at the end" 14 "$(committed_sum)"
echo "PASS 0214"
