#!/usr/bin/env bash
# 0145: kcat's balanced consumer (-G): two kcat processes join one group over
# a 6-partition topic; once both report their assignment (3 partitions each,
# disjoint), 300 records are produced; together the two print every record
# exactly once, each from a partition kcat said it was assigned.  Then a third
# kcat with the same group started after the others stopped (offsets
# committed) prints nothing old: it resumes at the committed offsets.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/broker.sh
source "$here/lib/broker.sh"
# shellcheck source=lib/groups.sh
source "$here/lib/groups.sh"
broker_init
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
GROUPS_MOCK_TOPICS="t:6"
groups_start "$T/broker.log"
groups_create_topic t 6
KPIDS=()
kcat_stop() {
  local p
  for p in "${KPIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${KPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  KPIDS=()
}
trap 'kcat_stop; broker_cleanup' EXIT
for k in 1 2; do
  kcat -u -b "$B" -G g0145 -X auto.offset.reset=earliest -X enable.auto.commit=true \
    -X auto.commit.interval.ms=200 -f '%p %o %s\n' t >"$T/k$k.out" 2>"$T/k$k.err" &
  KPIDS+=($!)
done
# The last "assigned:" line of each kcat: 3 partitions, together all 6.
assigned() {
  { grep 'rebalanced.*assigned:' "$T/k$1.err" || true; } | tail -1 |
    { grep -o '\[[0-9]*\]' || true; } | tr -d '[]' | sort -n | tr '\n' ' '
}
ok=
for _ in $(seq 1 600); do
  a1=$(assigned 1) a2=$(assigned 2)
  if [ "$(echo "$a1" | wc -w)" = 3 ] && [ "$(echo "$a2" | wc -w)" = 3 ] &&
     [ "$(echo "$a1 $a2" | tr ' ' '\n' | grep . | sort -u | wc -l)" = 6 ]; then
    ok=1
    break
  fi
  sleep 0.1
done
[ -n "$ok" ] || { cat "$T"/k*.err >&2; broker_fail "two kcat -G members did not share the 6 partitions"; }
groups_produce t 300 v
for _ in $(seq 1 600); do
  [ "$(cat "$T/k1.out" "$T/k2.out" | wc -l)" -ge 300 ] && break
  sleep 0.1
done
sleep 1
kcat_stop
[ "$(assigned 1)" = "$a1" ] && [ "$(assigned 2)" = "$a2" ] ||
  broker_fail "the assignment changed in a steady group: '$a1'/'$a2' -> '$(assigned 1)'/'$(assigned 2)'"
"$BROKER_PY" - "$T/k1.out" "$T/k2.out" "$a1" "$a2" <<'PY'
import sys
got = []
for f, owned in ((sys.argv[1], sys.argv[3]), (sys.argv[2], sys.argv[4])):
    own = {int(x) for x in owned.split()}
    for line in open(f):
        p, o, v = line.split()
        if int(p) not in own:
            sys.exit("FAIL: %s printed partition %s, assigned %s" % (f, p, sorted(own)))
        got.append(v)
want = {"v%d" % i for i in range(300)}
if len(got) != len(set(got)):
    sys.exit("FAIL: %d records printed twice" % (len(got) - len(set(got))))
if set(got) != want:
    sys.exit("FAIL: missing %s" % sorted(want - set(got))[:5])
PY
# A later member resumes at the committed offsets: nothing printed again
# until new records arrive.
groups_produce t 6 late
timeout 60 kcat -b "$B" -G g0145 -X auto.offset.reset=earliest -e -f '%s\n' t \
  >"$T/k3.out" 2>"$T/k3.err" || true
got=$(sort "$T/k3.out" | tr '\n' ' ')
[ "$got" = "late0 late1 late2 late3 late4 late5 " ] ||
  { cat "$T/k3.err" >&2; broker_fail "kcat -G resumed wrongly: printed '$got'"; }
echo "PASS 0145"
