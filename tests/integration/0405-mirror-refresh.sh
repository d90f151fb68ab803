#!/usr/bin/env bash
# New matching topics and new partitions on the source reach the target
# within the refresh interval (refresh.topics.interval.seconds = 1): a topic
# created after the mirror started is created on B with its partition count
# and mirrored; partitions added to a mirrored topic are added on B and their
# records copied; a topic that does not match "topics" or matches
# "topics.exclude" is never created on B.
set -euo pipefail
. "$(dirname "$0")/lib/mirror.sh"
mirror_init
mirror_two_brokers

mirror_py create "$BS_A" first 2
mirror_py produce "$BS_A" first 2 500
mirror_config "$T/mm.properties" "A->B.enabled = true" "emit.checkpoints.enabled = false" \
  "refresh.topics.interval.seconds = 1" "A->B.topics = first, new.*, skip.*" \
  "A->B.topics.exclude = skip\\\\.me"
mirror_start "$T/mm.properties" "$T/mirror.log"
mirror_py wait-count "$BS_B" A.first 500 60 >/dev/null

mirror_py create "$BS_A" new.topic 4
mirror_py create "$BS_A" skip.me 1
mirror_py create "$BS_A" other 1
mirror_py produce "$BS_A" new.topic 4 800
mirror_py produce "$BS_A" skip.me 1 10
mirror_py produce "$BS_A" other 1 10
mirror_py wait-count "$BS_B" A.new.topic 800 30 >/dev/null || { cat "$T/mirror.log" >&2; exit 1; }
[ "$(mirror_py partitions "$BS_B" A.new.topic)" = 4 ] || broker_fail "A.new.topic lacks partitions"

mirror_py add-partitions "$BS_A" first 5
mirror_py produce "$BS_A" first 5 1000 more
mirror_py wait-count "$BS_B" A.first 1500 30 >/dev/null || { cat "$T/mirror.log" >&2; exit 1; }
[ "$(mirror_py partitions "$BS_B" A.first)" = 5 ] || broker_fail "A.first was not grown to 5 partitions"
grep -q 'partitions.created.*remote=A.first from=2 to=5' "$T/mirror.log" || broker_fail "no partitions.created event"
sleep 2
for t in A.skip.me A.other; do
  [ "$(mirror_py count "$BS_B" "$t")" = -1 ] || broker_fail "$t was mirrored despite the filters"
done
kill -TERM "$MIRROR_PID"
broker_wait_exit "$MIRROR_PID" 30
mirror_py compare "$BS_A" first "$BS_B" A.first 0 A
mirror_py compare "$BS_A" new.topic "$BS_B" A.new.topic 0 A
echo "PASS"
