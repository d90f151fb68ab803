#!/usr/bin/env bash
# 0109: kafkajs (Node.js, npm kafkajs@2.2.4) against seglogd.  Admin API:
# createTopics, listTopics, fetchTopicMetadata, fetchTopicOffsets (before and
# after producing) and fetchTopicOffsetsByTimestamp; a producer with acks -1
# sends keyed records with headers and timestamps, one GZIP and one
# uncompressed batch per partition; they are read back with MANUAL assignment
# through kafkajs's own Cluster/Broker objects (raw Fetch, kafkajs decodes).
# kafkajs's Consumer class cannot be used yet: it always joins a consumer group
# and seglogd has no group coordinator (issue 5).  Then `seglog consume -J`
# must print exactly the records kafkajs sent, and the stored batches must
# carry the codecs kafkajs chose (gzip, none).  kafkajs is installed from npm
# at test time into $SEGLOG_BUILD/npm-kafkajs (reused when present); skips
# (77) only when node or npm is missing or that install fails (no network).
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
# shellcheck source=lib/broker.sh
source "$here/lib/broker.sh"
broker_init
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

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

broker_start "$T/broker.log"
B="127.0.0.1:$PORT"
if timeout 30 "$S" topics list -b "$B" 2>&1 | grep -q "built without librdkafka"; then
  echo "SKIP: seglog was built without librdkafka (network mode)"
  exit 77
fi
export KAFKAJS_NO_PARTITIONER_WARNING=1
timeout 120 node "$here/lib/kafkajs/kafkajs_interop.js" "$MOD" "$PORT" kjs "$T/expected.jsonl" ||
  { tail -20 "$T/broker.log" >&2; broker_fail "kafkajs client"; }
timeout 30 "$S" consume -b "$B" -t kjs -e -J >"$T/got.jsonl" ||
  broker_fail "seglog consume -J"

/usr/bin/python3 - "$T/expected.jsonl" "$T/got.jsonl" <<'PY'
import json, sys
want = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
def key(e):
    return (e["partition"], e["offset"])
got.sort(key=key)
want.sort(key=key)
if len(want) != 42 or len(got) != len(want):
    sys.exit(f"FAIL: {len(got)} records consumed, {len(want)} sent (want 42)")
for w, g in zip(want, got):
    have = {"partition": g["partition"], "offset": g["offset"], "ts": g["ts"],
            "key": g["key"], "payload": g["payload"],
            "headers": g.get("headers", [])}
    if g["topic"] != "kjs" or g["tstype"] != "create" or have != w:
        sys.exit(f"FAIL: record differs:\n got  {json.dumps(g)}\n want {json.dumps(w)}")
PY

kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "SIGTERM exit status $EXIT_STATUS"
for p in 0 1 2; do
  codecs=$("$S" dump "$T/data/kjs-$p/00000000000000000000.log" |
    sed -n 's/.*baseOffset: \([0-9]*\) .* compresscodec: \([a-z]*\) .*/\1:\2/p' | tr '\n' ' ')
  [ "$codecs" = "0:gzip 10:none " ] || broker_fail "kjs-$p batches: '$codecs', want '0:gzip 10:none '"
done
echo "PASS 0109"
