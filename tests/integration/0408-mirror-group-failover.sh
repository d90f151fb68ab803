#!/usr/bin/env bash
# Consumer group failover: group "app" reads part of "orders" on A and
# commits; the mirror emits MM2 Checkpoint records to A.checkpoints.internal
# on B (decoded with the Java layout: upstream = the committed offset on A,
# downstream = its translation) and, with sync.group.offsets.enabled, writes
# the translated offsets to B for the idle group.  A member of "app" on B then
# starts from there and, together with what it read on A, misses nothing;
# records read twice stay within the translation bound (docs/MIRROR.md:
# at most offset.lag.max per partition).  "other" does not match `groups`
# and gets no checkpoints.
set -euo pipefail
. "$(dirname "$0")/lib/mirror.sh"
mirror_init
mirror_two_brokers

if ! kcat -b "$BS_A" -X debug=feature -L 2>&1 | grep -q "OffsetCommit (8)"; then
  echo "SKIP: seglogd does not support OffsetCommit yet (group offsets storage)"
  exit 77
fi
N=3000
PARTS=3
LAG=50
mirror_py create "$BS_A" orders "$PARTS"
mirror_py produce "$BS_A" orders "$PARTS" "$N"
mirror_py group-consume "$BS_A" orders app 1700 "$T/read-a"
mirror_py group-consume "$BS_A" orders other 100 "$T/read-other"
mirror_config "$T/mm.properties" "A->B.enabled = true" "groups = app" \
  "emit.checkpoints.interval.seconds = 1" "sync.group.offsets.enabled = true" \
  "sync.group.offsets.interval.seconds = 1" "offset.lag.max = $LAG"
mirror_start "$T/mm.properties" "$T/mirror.log"
mirror_py wait-count "$BS_B" A.orders "$N" 60 >/dev/null

# Wait for a checkpoint per partition the group committed on A (a member
# need not have read every partition) and for the synced group offsets.
mirror_py committed "$BS_A" orders app >"$T/committed-a"
want=$(awk '$2 >= 0' "$T/committed-a" | wc -l)
[ "$want" -gt 0 ] || broker_fail "the group committed nothing on A"
for i in $(seq 1 60); do
  n=$(mirror_py checkpoints "$BS_B" A.checkpoints.internal app 2>/dev/null | wc -l || true)
  s=$(mirror_py committed "$BS_B" A.orders app 2>/dev/null | awk '$2 >= 0' | wc -l || true)
  [ "$n" = "$want" ] && [ "$s" = "$want" ] && break
  sleep 0.5
done
mirror_py checkpoints "$BS_B" A.checkpoints.internal app >"$T/ckpt"
mirror_py committed "$BS_B" A.orders app >"$T/committed-b"
cat "$T/ckpt"
[ "$(wc -l <"$T/ckpt")" = "$want" ] || { tail "$T/mirror.log" >&2; broker_fail "no checkpoint for every committed partition"; }
[ -z "$(mirror_py checkpoints "$BS_B" A.checkpoints.internal other)" ] || broker_fail "checkpoints for a group outside groups"
# Upstream offsets are the group's commits on A; downstream offsets are what
# the group has on B; the translation never skips (down <= up here, as the
# target holds the same records at the same offsets) and is within LAG.
while read -r topic p up down; do
  cu=$(awk -v p="$p" '$1 == p { print $2 }' "$T/committed-a")
  cb=$(awk -v p="$p" '$1 == p { print $2 }' "$T/committed-b")
  [ "$topic" = A.orders ] || broker_fail "checkpoint topic $topic"
  [ "$up" = "$cu" ] || broker_fail "partition $p: checkpoint upstream $up, committed $cu"
  [ "$down" = "$cb" ] || broker_fail "partition $p: B has $cb committed, checkpoint says $down"
  [ "$down" -le "$up" ] && [ $((up - down)) -le "$LAG" ] || broker_fail "partition $p: $up -> $down out of bound"
done <"$T/ckpt"

kill -TERM "$MIRROR_PID"
broker_wait_exit "$MIRROR_PID" 30
mirror_py group-resume "$BS_B" A.orders app "$T/read-b"
missing=$(cat "$T/read-a" "$T/read-b" | sort -u | wc -l)
[ "$missing" = "$N" ] || broker_fail "the group saw $missing distinct records of $N after failover"
dups=$(cat "$T/read-a" "$T/read-b" | sort | uniq -d | wc -l)
[ "$dups" -le $((PARTS * LAG)) ] || broker_fail "$dups records read twice, bound $((PARTS * LAG))"
echo "PASS (read twice: $dups)"
