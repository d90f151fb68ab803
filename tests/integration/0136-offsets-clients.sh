#!/usr/bin/env bash
# 0136: committed offsets through real clients (lib/offsets_clients.py):
# kafka-python 2.0.2 and confluent-kafka (librdkafka 2.0.2) commit and read
# each other's offsets in a simple group (assign, generation -1) and as
# members of real groups; kafka-python's admin lists them; a new member
# resumes at the committed offsets.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka, kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka or kafka-python"; exit 77; }

broker_start "$T/broker.log" --override group.initial.rebalance.delay.ms=0
timeout 30 "$BROKER_PY" - "$PORT" <<'PY' || broker_fail "produce"
import sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
bs = "127.0.0.1:%s" % sys.argv[1]
ac = AdminClient({"bootstrap.servers": bs})
ac.create_topics([NewTopic("ct", 3, 1)])["ct"].result(10)
p = Producer({"bootstrap.servers": bs})
for i in range(30):
    p.produce("ct", value=b"r%d" % i, partition=i % 3)
assert p.flush(10) == 0
PY
timeout 150 "$BROKER_PY" "$here/lib/offsets_clients.py" "$PORT" ||
  { tail -30 "$T/broker.log" >&2; broker_fail "clients"; }
echo "0136 ok"
