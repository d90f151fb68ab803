#!/usr/bin/env bash
# MM2's sync.topic.configs: configs changed on a source topic after its
# remote topic was created reach the remote topic within
# sync.topic.configs.interval.seconds; a config removed on the source is
# removed on the target; config.properties.exclude keys (min.insync.replicas
# by default) are never copied, and the target topic's own values of them
# are kept.  docs/MIRROR.md, "Target topics".
set -euo pipefail
. "$(dirname "$0")/lib/mirror.sh"
mirror_init
mirror_two_brokers

mirror_create_configured "$BS_A" cs 2 retention.ms=100000 segment.bytes=1048576 \
  min.insync.replicas=1
mirror_py produce "$BS_A" cs 2 50
mirror_config "$T/mm.properties" "A->B.enabled = true" "emit.checkpoints.enabled = false" \
  "sync.topic.configs.interval.seconds = 1"
mirror_start "$T/mm.properties" "$T/mirror.log"
mirror_py wait-count "$BS_B" A.cs 50 60 >/dev/null
# At creation: the source's configs, without the excluded min.insync.replicas.
got=$(mirror_py configs "$BS_B" A.cs)
echo "A.cs on B at creation: $got"
[ "$got" = "retention.ms=100000 segment.bytes=1048576" ] || broker_fail "configs on B: $got"

# The target topic's own value of an excluded key; then the source changes:
# retention.ms changed, segment.bytes and min.insync.replicas removed.  The
# replacing AlterConfigs the mirror sends keeps B's min.insync.replicas.
mirror_py alter-configs "$BS_B" A.cs retention.ms=100000 segment.bytes=1048576 \
  min.insync.replicas=1
mirror_py alter-configs "$BS_A" cs retention.ms=200000
got=$(mirror_py wait-configs "$BS_B" A.cs "min.insync.replicas=1 retention.ms=200000" 60)
echo "A.cs on B after the change: $got"
grep -q 'topic.configs_synced.*remote=A.cs' "$T/mirror.log" ||
  broker_fail "no topic.configs_synced event in the mirror's log"

# A further change still arrives (the timer keeps running), and records flow.
mirror_py alter-configs "$BS_A" cs retention.ms=300000 cleanup.policy=compact
mirror_py wait-configs "$BS_B" A.cs \
  "cleanup.policy=compact min.insync.replicas=1 retention.ms=300000" 60 >/dev/null
mirror_py produce "$BS_A" cs 2 50 more
mirror_py wait-count "$BS_B" A.cs 100 60 >/dev/null
kill -TERM "$MIRROR_PID"
broker_wait_exit "$MIRROR_PID" 30
n=$(grep -c 'topic.configs_synced.*remote=A.cs' "$T/mirror.log")
echo "configs synced $n times"
[ "$n" -eq 2 ] || broker_fail "expected 2 config syncs of A.cs (one per change), got $n"
echo "PASS"
