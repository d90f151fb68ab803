#!/usr/bin/env bash
# 0111: per-topic configs are durable: they survive a SIGTERM and a kill -9
# restart (written atomically and fsynced before the answer), apply to
# partitions added later, go with a deleted topic (a re-created topic of the
# same name starts from the defaults), and the stored file's leftovers of a
# crash are handled at start: a torn .tmp is ignored, an entry whose topic
# has no partitions (a crash between storing the config and creating the
# partitions, or between deleting them and rewriting the file) is dropped, an
# entry of an earlier topic id is not applied, and a value that no longer
# validates stops the start with one line naming the file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }
ops() { timeout 30 "$BROKER_PY" "$here/lib/broker_topicconf_ops.py" "$PORT" "$@"; }
F="$T/data/seglog-topic-configs.properties"
restart() { # restart MODE: TERM or KILL
  if [ "$1" = TERM ]; then
    kill -TERM "$BROKER_PID"
    broker_wait_exit "$BROKER_PID" 15
    [ "$EXIT_STATUS" = 0 ] || broker_fail "SIGTERM exit status $EXIT_STATUS"
  else
    kill -KILL "$BROKER_PID"
    broker_wait_exit "$BROKER_PID" 15
  fi
  broker_start "$T/broker-$RANDOM.log" "${EXTRA[@]}"
}
EXTRA=(--override auto.create.topics.enable=false)

broker_start "$T/broker.log" "${EXTRA[@]}"
ops create keep 2 retention.ms=86400000 cleanup.policy=compact,delete max.message.bytes=5000
ops create plain 1
want=$'cleanup.policy=compact,delete\nmax.message.bytes=5000\nretention.ms=86400000'
[ "$(ops overrides keep)" = "$want" ] || broker_fail "overrides after create: $(ops overrides keep)"

# Acknowledged, then killed at once: the change is on disk.
ops alter keep retention.ms=3600000 segment.bytes=100000
kill -KILL "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
broker_start "$T/broker-k1.log" "${EXTRA[@]}"
want=$'retention.ms=3600000\nsegment.bytes=100000'
[ "$(ops overrides keep)" = "$want" ] || broker_fail "after kill -9: $(ops overrides keep)"
[ -z "$(ops overrides plain)" ] || broker_fail "plain has overrides"

restart TERM
[ "$(ops overrides keep)" = "$want" ] || broker_fail "after SIGTERM: $(ops overrides keep)"

# New partitions take the topic's config (seen through its log: the config
# file is per topic, the partitions open with it after a restart too).
ops partitions keep 3
restart KILL
[ "$(ops overrides keep)" = "$want" ] || broker_fail "after partitions + kill -9"

# Delete, re-create without configs: the defaults, and nothing stored.
ops delete keep
grep -q '^keep/' "$F" && broker_fail "deleted topic still stored: $(cat "$F")"
ops create keep 1
[ -z "$(ops overrides keep)" ] || broker_fail "re-created topic inherited overrides"
restart KILL
[ -z "$(ops overrides keep)" ] || broker_fail "re-created topic has overrides after restart"

# Crash leftovers.
ops create withcfg 1 retention.ms=5000
kill -KILL "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
gen=$(sed -n 's/^generation=//p' "$F")
{
  cat "$F"
  echo "ghost/retention.ms=1"                   # no partitions: dropped
  echo "plain/id=AAAAAAAAAAAAAAAAAAAAAQ"        # an earlier topic's id: not applied
  echo "plain/segment.ms=1234"
} >"$F.new"
mv "$F.new" "$F"
printf 'generation=%s\nwithcfg/retention.ms=1\n' "$((gen + 50))" >"$F.tmp" # torn write
broker_start "$T/broker-k2.log" "${EXTRA[@]}"
[ "$(ops overrides withcfg)" = "retention.ms=5000" ] || broker_fail "withcfg: $(ops overrides withcfg)"
[ -z "$(ops overrides plain)" ] || broker_fail "an earlier topic id's config was applied"
grep -q '^ghost/' "$F" && broker_fail "ghost entry kept"
grep -q '^plain/' "$F" && broker_fail "stale plain entry kept"
ops create ghost 1
[ -z "$(ops overrides ghost)" ] || broker_fail "ghost re-created with a dropped config"

# A value that does not validate stops the start, naming the file.
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
echo "withcfg/segment.bytes=3" >>"$F"
broker_run_expect_fail "$T/bad.log" --override "log.dirs=$T/data" \
  --override "listeners=PLAINTEXT://127.0.0.1:0" \
  --override "metrics.listener=127.0.0.1:0"
grep -q "ERROR.*seglog-topic-configs.properties.*withcfg.*segment.bytes" "$T/bad.log" ||
  broker_fail "bad stored value: $(cat "$T/bad.log")"
[ "$(grep -c ERROR "$T/bad.log")" = 1 ] || broker_fail "not one ERROR line: $(cat "$T/bad.log")"
# A set that breaks Kafka's cross-key rule (only a hand edit can store one).
sed -i '/^withcfg\/segment.bytes=3$/d' "$F"
printf 'withcfg/min.compaction.lag.ms=10\nwithcfg/max.compaction.lag.ms=5\n' >>"$F"
broker_run_expect_fail "$T/bad2.log" --override "log.dirs=$T/data" \
  --override "listeners=PLAINTEXT://127.0.0.1:0" \
  --override "metrics.listener=127.0.0.1:0"
grep -q "ERROR.*seglog-topic-configs.properties.*topic withcfg: conflict topic config setting" "$T/bad2.log" ||
  broker_fail "bad stored set: $(cat "$T/bad2.log")"
[ "$(grep -c ERROR "$T/bad2.log")" = 1 ] || broker_fail "not one ERROR line: $(cat "$T/bad2.log")"
echo "PASS 0111"
