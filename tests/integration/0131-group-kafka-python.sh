#!/usr/bin/env bash
# 0131: the same with three kafka-python consumers, then with a group mixing
# two confluent-kafka consumers and one kafka-python consumer (both sides vote
# for "range").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka, kafka' 2>/dev/null ||
  { echo "SKIP: python3-kafka or python3-confluent-kafka is not installed"; exit 77; }

broker_start "$T/broker.log" --override group.initial.rebalance.delay.ms=1000
for clients in kkk cck; do
  timeout 240 "$BROKER_PY" "$here/lib/group_clients.py" "127.0.0.1:$PORT" share "$clients" ||
    { tail -40 "$T/broker.log" >&2; broker_fail "group of $clients"; }
done
echo "ok"
