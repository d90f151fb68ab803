#!/usr/bin/env bash
# 0146: a kafkajs 2.2.4 consumer group against seglogd
# (lib/kafkajs_group.js): three members share a 6-partition topic (2 each,
# every record exactly once) and a later member resumes at the committed
# offsets.  kafkajs comes from $SEGLOG_BUILD/npm-kafkajs, installed there by
# the same step as 0109 (reused when present); skips (77) only when node or
# npm is missing or that install fails (no network), or when seglogd has no
# group coordinator (lib/groups.sh).
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
S="$SEGLOG_BUILD/kcat-tools/seglog"
# shellcheck source=lib/broker.sh
source "$here/lib/broker.sh"
# shellcheck source=lib/groups.sh
source "$here/lib/groups.sh"
broker_init
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
# the install of 0109-broker-kafkajs.sh, reused
NPM_DIR="$SEGLOG_BUILD/npm-kafkajs"
MOD="$NPM_DIR/node_modules"
if ! grep -qs '"version": "2.2.4"' "$MOD/kafkajs/package.json"; then
  mkdir -p "$NPM_DIR"
  cp "$here/lib/kafkajs/package.json" "$NPM_DIR/package.json"
  if ! timeout 180 npm install --no-audit --no-fund --prefix "$NPM_DIR" kafkajs@2.2.4 \
      >"$T/npm.log" 2>&1; then
    tail -5 "$T/npm.log"
    echo "SKIP: npm install kafkajs@2.2.4 failed (no network?)"
    exit 77
  fi
fi
[ "${SEGLOG_GROUP_TESTS_ON_MOCK:-0}" = 1 ] && { echo "SKIP: kafkajs needs seglogd (the mock cluster lacks CreateTopics/DescribeGroups kafkajs uses)"; exit 77; }
groups_start "$T/broker.log"
groups_create_topic t 6
export KAFKAJS_NO_PARTITIONER_WARNING=1
timeout 150 node "$here/lib/kafkajs_group.js" "$MOD" "$PORT" t g0146 ||
  { tail -20 "$T/broker.log" >&2; broker_fail "kafkajs consumer group"; }
echo "PASS 0146"
