#!/usr/bin/env bash
# seglog-mirror between two seglogd instances (A and B on loopback): 100,000
# keyed records with headers and timestamps across 6 partitions of A's
# "orders" reach B's "A.orders" identical, partition by partition and in
# order (checked with confluent-kafka), each with the provenance path header
# "A".  The mirror's offset syncs and heartbeats are then decoded with MM2's
# Java layouts (mirror_check.py decode-internal), and the metrics endpoint
# reports the records.  An orderly restart copies nothing again.
set -euo pipefail
. "$(dirname "$0")/lib/mirror.sh"
mirror_init
mirror_two_brokers

N=100000
mirror_py create "$BS_A" orders 6
mirror_py produce "$BS_A" orders 6 "$N"
MPORT=$(broker_free_port)
mirror_config "$T/mm.properties" "A->B.enabled = true" "emit.checkpoints.enabled = false" \
  "metrics.listener = 127.0.0.1:$MPORT"
mirror_start "$T/mm.properties" "$T/mirror.log"
mirror_py wait-count "$BS_B" A.orders "$N" 90 >/dev/null || { cat "$T/mirror.log" >&2; exit 1; }
[ "$(mirror_py partitions "$BS_B" A.orders)" = 6 ] || broker_fail "A.orders does not have 6 partitions"
mirror_py compare "$BS_A" orders "$BS_B" A.orders 0 A

broker_wait_port "$MPORT" 5 || broker_fail "metrics port not open"
metrics=$(curl -s "http://127.0.0.1:$MPORT/metrics")
total=$(echo "$metrics" | awk '/^seglog_mirror_records_total\{/ { s += $2 } END { print s }')
[ "$total" = "$N" ] || broker_fail "metrics count $total records, expected $N"
echo "$metrics" | grep -q '^seglog_mirror_latency_ms_count{source="A",target="B"} ' ||
  broker_fail "no latency histogram"

# The internal topics carry MM2's encodings (a sync every offset.lag.max
# records at least; heartbeats every second).
sleep 1.5
mirror_py decode-internal "$BS_A" "$BS_B" orders A.orders

# Orderly stop and restart: the progress read back from the offset syncs
# means nothing is copied twice.
kill -TERM "$MIRROR_PID"
broker_wait_exit "$MIRROR_PID" 30
[ "$EXIT_STATUS" = 0 ] || { cat "$T/mirror.log" >&2; broker_fail "mirror exited with $EXIT_STATUS"; }
mirror_py produce "$BS_A" orders 6 600 "" "$N"
mirror_start "$T/mm.properties" "$T/mirror.log"
mirror_py wait-count "$BS_B" A.orders $((N + 600)) 60 >/dev/null
sleep 1
[ "$(mirror_py count "$BS_B" A.orders)" = $((N + 600)) ] || broker_fail "records copied twice after restart"
mirror_py compare "$BS_A" orders "$BS_B" A.orders 0 A
echo "PASS"
