#!/usr/bin/env bash
# 0110: per-topic configs through the admin APIs: confluent-kafka's
# AdminClient creates topics with configs (unknown keys, bad values and
# conflicting keys refused with INVALID_CONFIG in Kafka's words), describes
# them (DYNAMIC_TOPIC_CONFIG / STATIC_BROKER_CONFIG / DEFAULT_CONFIG sources
# and synonyms) and alters them (the whole set replaced; ValidateOnly; a
# BROKER resource refused as on a static-config broker); kafka-python's admin
# client alters and describes; raw IncrementalAlterConfigs v0/v1 (SET,
# DELETE, APPEND, SUBTRACT), CreateTopics v5/v7 (the created configs in the
# answer) and DescribeConfigs v3 (documentation, types).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import kafka, confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks kafka-python or confluent-kafka"; exit 77; }

broker_start "$T/broker.log" --override log.segment.bytes=1048576
timeout 120 "$BROKER_PY" "$here/lib/broker_topicconf.py" "$PORT" ||
  { tail -20 "$T/broker.log" >&2; broker_fail "topic config checks"; }
grep -q '^cfg-a/retention.ms=777$' "$T/data/seglog-topic-configs.properties" ||
  broker_fail "the stored file lacks cfg-a's retention.ms"
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "SIGTERM exit status $EXIT_STATUS"
echo "PASS 0110"
