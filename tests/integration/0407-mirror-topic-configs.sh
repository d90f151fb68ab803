#!/usr/bin/env bash
# Target topics get the source topic's configs before the first record:
# configs set on the source topic (DescribeConfigs source DYNAMIC_TOPIC_CONFIG)
# are passed in CreateTopics on the target, except those in
# config.properties.exclude; a compacted topic stays compacted.
set -euo pipefail
. "$(dirname "$0")/lib/mirror.sh"
mirror_init
mirror_two_brokers

mirror_create_configured "$BS_A" kv 3 cleanup.policy=compact retention.ms=123456 \
  segment.bytes=1048576
mirror_py produce "$BS_A" kv 3 300
mirror_config "$T/mm.properties" "A->B.enabled = true" "emit.checkpoints.enabled = false" \
  "config.properties.exclude = segment\\\\.bytes"
mirror_start "$T/mm.properties" "$T/mirror.log"
mirror_py wait-count "$BS_B" A.kv 300 60 >/dev/null
got=$(mirror_py configs "$BS_B" A.kv)
echo "A.kv on B: $got"
[ "$got" = "cleanup.policy=compact retention.ms=123456" ] || broker_fail "configs on B: $got"
grep -q 'topic.created.*remote=A.kv.*configs="cleanup.policy=compact,retention.ms=123456"' \
  "$T/mirror.log" || broker_fail "topic.created event lacks the configs"
kill -TERM "$MIRROR_PID"
broker_wait_exit "$MIRROR_PID" 30
mirror_py compare "$BS_A" kv "$BS_B" A.kv 0 A
echo "PASS"
