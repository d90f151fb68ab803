#!/usr/bin/env bash
# 0102: real clients see seglogd as a Kafka broker: kcat -L lists it and the
# topics found in log.dirs (leader, replicas, ISR = this node); kafka-python's
# client, consumer and admin client read its ApiVersions and metadata;
# confluent-kafka's AdminClient.list_topics() sees the cluster id written in
# meta.properties; the Prometheus endpoint counts the requests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
"$BROKER_PY" -c 'import kafka, confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks kafka-python or confluent-kafka"; exit 77; }

# Partition directories in Kafka's layout, as a previous run would leave them.
mkdir -p "$T/data/orders-0" "$T/data/orders-1" "$T/data/orders-2" "$T/data/events-0" \
  "$T/data/gone-0.0123456789abcdef-delete" "$T/data/not_a_partition"
printf '0\n2\n0 0\n4 120\n' >"$T/data/orders-1/leader-epoch-checkpoint"

broker_start "$T/broker.log" --override node.id=7 --override auto.create.topics.enable=false
cid=$(sed -n 's/^cluster.id=//p' "$T/data/meta.properties")
[ ${#cid} = 22 ] || broker_fail "cluster id '$cid' is not a 22-character base64 UUID"

out=$(timeout 20 kcat -b "127.0.0.1:$PORT" -L -m 10) || broker_fail "kcat -L failed"
echo "$out"
grep -q "broker 7 at 127.0.0.1:$PORT (controller)" <<<"$out" || broker_fail "broker not listed"
grep -q 'topic "orders" with 3 partitions' <<<"$out" || broker_fail "orders not listed"
grep -q 'topic "events" with 1 partitions' <<<"$out" || broker_fail "events not listed"
grep -q 'partition 1, leader 7, replicas: 7, isrs: 7' <<<"$out" || broker_fail "partition line"
if grep -qE 'gone|not_a_partition' <<<"$out"; then broker_fail "non-partition dirs listed"; fi
out=$(timeout 20 kcat -b "127.0.0.1:$PORT" -L -t nosuch -m 10) || true
grep -q 'Unknown topic or partition' <<<"$out" || broker_fail "unknown topic: $out"

timeout 120 "$BROKER_PY" "$here/lib/broker_clients.py" "$PORT" "$METRICS_PORT" "$cid" ||
  { cat "$T/broker.log" >&2; broker_fail "client checks"; }

kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 10
[ "$EXIT_STATUS" = 0 ] || broker_fail "exit status $EXIT_STATUS after SIGTERM"
echo "PASS 0102"
