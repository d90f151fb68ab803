#!/usr/bin/env bash
# Active-active A<->B with IdentityReplicationPolicy: names do not change, so
# only the provenance header (seglog.mirror.path) can stop a loop.  Both
# sides produce to "t"; in the end each side's "t" holds its own records once
# plus the other side's records exactly once, and the mirror counted the
# records it refused to send back (seglog_mirror_skipped_total).
set -euo pipefail
. "$(dirname "$0")/lib/mirror.sh"
mirror_init
mirror_two_brokers

mirror_py create "$BS_A" t 2
mirror_py create "$BS_B" t 2
MPORT=$(broker_free_port)
mirror_config "$T/mm.properties" "A->B.enabled = true" "B->A.enabled = true" \
  "replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy" \
  "emit.checkpoints.enabled = false" "emit.heartbeats.enabled = false" \
  "metrics.listener = 127.0.0.1:$MPORT"
mirror_start "$T/mm.properties" "$T/mirror.log"
mirror_py produce "$BS_A" t 2 3000 a
mirror_py produce "$BS_B" t 2 3000 b
mirror_py wait-count "$BS_A" t 6000 60 >/dev/null
mirror_py wait-count "$BS_B" t 6000 60 >/dev/null
sleep 3
metrics=$(curl -s "http://127.0.0.1:$MPORT/metrics")
kill -TERM "$MIRROR_PID"
broker_wait_exit "$MIRROR_PID" 30
for bs in "$BS_A" "$BS_B"; do
  c=$(mirror_py count "$bs" t)
  [ "$c" = 6000 ] || broker_fail "$bs has $c records in t, expected 6000 (a loop?)"
done
# Every key exactly once on each side.
"$BROKER_PY" -c 'import sys, collections
sys.path.insert(0, sys.argv[3])
import mirror_check as m
for bs in sys.argv[1:3]:
    keys = collections.Counter()
    for p, recs in m.read_all(bs, "t").items():
        for r in recs:
            keys[r[1]] += 1
    dup = [k for k, n in keys.items() if n != 1]
    if len(keys) != 6000 or dup:
        m.fail("%s: %d keys, duplicated: %r" % (bs, len(keys), dup[:5]))
print("ok: each side holds 6000 distinct records")' "$BS_A" "$BS_B" "$(dirname "$MIRROR_PY")"
skipped=$(echo "$metrics" | awk '/^seglog_mirror_skipped_total\{/ { s += $2 } END { print s }')
[ "$skipped" = 6000 ] || broker_fail "the mirror skipped $skipped records coming back, expected 6000"
echo "PASS"
