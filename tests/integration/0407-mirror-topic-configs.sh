#!/usr/bin/env bash
# Target topics get the source topic's configs before the first record:
# configs set on the source topic (DescribeConfigs source DYNAMIC_TOPIC_CONFIG)
# are passed in CreateTopics on the target, except those in
# config.properties.exclude; a compacted topic stays compacted.
set -euo pipefail
. "$(dirname "$0")/lib/mirror.sh"
mirror_init
mirror_two_brokers

cfgs() { # BS TOPIC: prints name=value of the topic's explicitly set configs
  "$BROKER_PY" -c 'import sys
from confluent_kafka.admin import AdminClient, ConfigResource
a = AdminClient({"bootstrap.servers": sys.argv[1]})
for f in a.describe_configs([ConfigResource("topic", sys.argv[2])]).values():
    for k, v in sorted(f.result(10).items()):
        if v.source == 1:
            print("%s=%s" % (k, v.value))' "$1" "$2"
}

if ! "$BROKER_PY" -c 'import sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": sys.argv[1]})
for f in a.create_topics([NewTopic("kv", 3, 1, config={"cleanup.policy": "compact",
    "retention.ms": "123456", "segment.bytes": "1048576"})]).values():
    f.result(10)' "$BS_A" 2>"$T/create.err"; then
  cat "$T/create.err"
  echo "SKIP: seglogd does not accept topic configs in CreateTopics"
  exit 77
fi
mirror_py produce "$BS_A" kv 3 300
mirror_config "$T/mm.properties" "A->B.enabled = true" "emit.checkpoints.enabled = false" \
  "config.properties.exclude = segment\\\\.bytes"
mirror_start "$T/mm.properties" "$T/mirror.log"
mirror_py wait-count "$BS_B" A.kv 300 60 >/dev/null
got=$(cfgs "$BS_B" A.kv | tr '\n' ' ')
echo "A.kv on B: $got"
[ "$got" = "cleanup.policy=compact retention.ms=123456 " ] || broker_fail "configs on B: $got"
grep -q 'topic.created.*remote=A.kv.*configs="cleanup.policy=compact,retention.ms=123456"' \
  "$T/mirror.log" || broker_fail "topic.created event lacks the configs"
kill -TERM "$MIRROR_PID"
broker_wait_exit "$MIRROR_PID" 30
mirror_py compare "$BS_A" kv "$BS_B" A.kv 0 A
echo "PASS"
