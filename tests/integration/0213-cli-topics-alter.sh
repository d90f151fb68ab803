#!/usr/bin/env bash
# 0213: `seglog topics alter -b` against seglogd (AlterConfigs through
# librdkafka 2.0.2, which has no IncrementalAlterConfigs: the command reads the
# topic's dynamic configs with DescribeConfigs and writes the whole set back).
# Adding configs keeps the ones already set; deleting one returns it to the
# default; confluent-kafka's DescribeConfigs sees each step; unknown names,
# bad values, unknown topics and deleting an unset config fail with status 1
# and the broker's message; offline (-d) it is refused with status 2.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/broker.sh
source "$here/lib/broker.sh"
broker_init
S="$SEGLOG_BUILD/kcat-tools/seglog"
broker_start "$T/broker.log"
B="127.0.0.1:$PORT"
if timeout 30 "$S" topics list -b "$B" 2>&1 | grep -q "built without librdkafka"; then
  echo "SKIP: seglog was built without librdkafka (network mode)"
  exit 77
fi
# dynamic (DYNAMIC_TOPIC_CONFIG) configs of topic t, as confluent-kafka sees them
dyn() {
  "$BROKER_PY" - "$B" <<'PY'
import sys
from confluent_kafka.admin import AdminClient, ConfigResource
a = AdminClient({"bootstrap.servers": sys.argv[1]})
for _, f in a.describe_configs([ConfigResource("topic", "t")]).items():
    for k, v in sorted(f.result(timeout=30).items()):
        if v.source == 1:
            print("%s=%s" % (k, v.value))
PY
}
expect() {
  [ "$2" = "$3" ] || broker_fail "$1: expected '$2', got '$3'"
}
to() { timeout 60 "$@"; }
to "$S" topics create -b "$B" -t t --partitions 2 --config retention.ms=86400000 >/dev/null
expect "created" "retention.ms=86400000" "$(dyn | tr '\n' ' ' | sed 's/ $//')"
out=$(to "$S" topics alter -b "$B" -t t --add-config segment.bytes=1048576,cleanup.policy=compact)
expect "alter output" "Completed updating config for topic t." "$out"
expect "added" "cleanup.policy=compact retention.ms=86400000 segment.bytes=1048576" \
  "$(dyn | tr '\n' ' ' | sed 's/ $//')"
to "$S" topics alter -b "$B" -t t --delete-config retention.ms --add-config segment.bytes=2097152 >/dev/null
expect "deleted + replaced" "cleanup.policy=compact segment.bytes=2097152" "$(dyn | tr '\n' ' ' | sed 's/ $//')"
st() { local s=0; "$@" >/dev/null 2>"$T/err" || s=$?; echo "$s"; }
expect "delete unset" 1 "$(st to "$S" topics alter -b "$B" -t t --delete-config retention.ms)"
grep -q "no config 'retention.ms' set" "$T/err" || broker_fail "delete unset message: $(cat "$T/err")"
expect "unknown name" 1 "$(st to "$S" topics alter -b "$B" -t t --add-config bogus.thing=1)"
grep -q "bogus.thing" "$T/err" || broker_fail "unknown name message: $(cat "$T/err")"
expect "bad value" 1 "$(st to "$S" topics alter -b "$B" -t t --add-config segment.bytes=abc)"
grep -q "segment.bytes" "$T/err" || broker_fail "bad value message: $(cat "$T/err")"
expect "unknown topic" 1 "$(st to "$S" topics alter -b "$B" -t nope --add-config segment.bytes=1048576)"
# nothing changed by the failures
expect "after failures" "cleanup.policy=compact segment.bytes=2097152" "$(dyn | tr '\n' ' ' | sed 's/ $//')"
expect "offline" 2 "$(st "$S" topics alter -d "$T/data" -t t --add-config segment.bytes=1048576)"
grep -q "network-only" "$T/err" || broker_fail "offline message: $(cat "$T/err")"
expect "nothing to alter" 2 "$(st "$S" topics alter -b "$B" -t t)"
expect "both added and deleted" 2 "$(st "$S" topics alter -b "$B" -t t --add-config a=1 --delete-config a)"
# the configs survive a restart (seglogd stores them)
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
broker_start "$T/broker2.log"
B="127.0.0.1:$PORT"
expect "after restart" "cleanup.policy=compact segment.bytes=2097152" "$(dyn | tr '\n' ' ' | sed 's/ $//')"
echo "PASS 0213"
