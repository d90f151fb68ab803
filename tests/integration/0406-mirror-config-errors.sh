#!/usr/bin/env bash
# seglog-mirror refuses bad configurations at start, naming the key, and
# exits 1 without contacting any cluster; --check accepts a good file.  The
# exactly-once key is refused with the reason (no transactions in seglogd).
set -euo pipefail
. "$(dirname "$0")/lib/mirror.sh"
mirror_init
BS_A=127.0.0.1:1
BS_B=127.0.0.1:2

expect_fail() {
  local needle=$1 st=0
  shift
  mirror_config "$T/bad.properties" "$@"
  timeout 10 "$MIRROR" "$T/bad.properties" 2>"$T/err" || st=$?
  [ "$st" = 1 ] || broker_fail "exit $st for [$*], expected 1"
  grep -qF -- "$needle" "$T/err" || { cat "$T/err" >&2; broker_fail "message does not name '$needle'"; }
}

expect_fail "A->B.enabled" "A->B.enabled = maybe"
expect_fail "topics.exclud" "A->B.enabled = true" "topics.exclud = x"
expect_fail "A->C.enabled" "A->C.enabled = true"
expect_fail "B.producer.linger.ms" "A->B.enabled = true" "B.producer.linger.ms = soon"
expect_fail "refresh.groups.interval.seconds" "A->B.enabled = true" \
  "refresh.groups.interval.seconds = -5x"
expect_fail "exactly.once.source.support" "A->B.enabled = true" \
  "exactly.once.source.support = enabled"
expect_fail "A->B.topics" "A->B.enabled = true" "A->B.topics = (?i)orders"
expect_fail "no flow is enabled" "topics = .*"
st=0
timeout 10 "$MIRROR" "$T/missing.properties" 2>"$T/err" || st=$?
[ "$st" = 1 ] && grep -q "missing.properties" "$T/err" || broker_fail "missing file not reported"

mirror_config "$T/good.properties" "A->B.enabled = true" "A->B.topics = orders, pay\\\\d+" \
  "replication.policy.class = IdentityReplicationPolicy" "tasks.max = 4"
out=$("$MIRROR" --check "$T/good.properties")
echo "$out" | grep -q "ok (2 clusters, 1 flows)" || broker_fail "--check: $out"
echo "PASS"
