#!/usr/bin/env bash
# 0208: seglog dump --print-data-log decodes the records of __consumer_offsets
# (OffsetCommitKey/Value v1, v3 and flexible v4, GroupMetadataKey/Value v3
# with a member, tombstones) and __transaction_state (TransactionLogKey/Value
# v0).  The record bytes are built here from Kafka's schemas with struct, put
# into the topics with `seglog produce -J`, and the dump must show each field.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 - "$S" "$tmp" <<'PY'
import base64, json, struct, subprocess, sys
S, tmp = sys.argv[1], sys.argv[2]
def s16(x):
    b = x.encode()
    return struct.pack(">h", len(b)) + b
def ns16(x):
    return struct.pack(">h", -1) if x is None else s16(x)
def cs(x):   # compact string
    b = x.encode()
    return bytes([len(b) + 1]) + b
def env(key, value):
    e = lambda b: None if b is None else {"base64": base64.b64encode(b).decode()}
    return json.dumps({"ts": 1700000000000, "key": e(key), "payload": e(value)})

off = [
    env(struct.pack(">h", 1) + s16("g1") + s16("orders") + struct.pack(">i", 3),
        struct.pack(">hq", 1, 42) + s16("meta") + struct.pack(">qq", 1700000000001, 1700000099999)),
    env(struct.pack(">h", 1) + s16("g1") + s16("orders") + struct.pack(">i", 4),
        struct.pack(">hqi", 3, 43, 7) + s16("") + struct.pack(">q", 1700000000002)),
    env(struct.pack(">h", 1) + s16("g2") + s16("t") + struct.pack(">i", 0),
        struct.pack(">hqi", 4, 44, -1) + cs("m4") + struct.pack(">q", 1700000000003) + b"\x00"),
    env(struct.pack(">h", 2) + s16("g1"),
        struct.pack(">h", 3) + s16("consumer") + struct.pack(">i", 5) + ns16("range") +
        ns16("member-1") + struct.pack(">q", 1700000000004) + struct.pack(">i", 1) +
        s16("member-1") + ns16(None) + s16("client-a") + s16("/127.0.0.1") +
        struct.pack(">ii", 300000, 45000) + struct.pack(">i", 3) + b"sub" +
        struct.pack(">i", 2) + b"as"),
    env(struct.pack(">h", 1) + s16("g1") + s16("orders") + struct.pack(">i", 3), None),
    env(struct.pack(">h", 1) + b"\x00\x10short", b"\x00\x01"),
]
txn = [
    env(struct.pack(">h", 0) + s16("tx-1"),
        struct.pack(">hqhib", 0, 9000, 2, 60000, 1) + struct.pack(">i", 1) + s16("orders") +
        struct.pack(">iii", 2, 0, 5) + struct.pack(">qq", 1700000000005, 1700000000000)),
]
for topic, lines in (("__consumer_offsets", off), ("__transaction_state", txn)):
    open(tmp + "/in", "w").write("\n".join(lines) + "\n")
    subprocess.run([S, "produce", "-d", tmp + "/logs", "-t", topic, "-J", "-l", tmp + "/in"], check=True)

def dump(topic, *extra):
    p = subprocess.run([S, "dump", "--print-data-log", *extra,
                        tmp + "/logs/%s-0/00000000000000000000.log" % topic], capture_output=True)
    return p.returncode, p.stdout.decode()

rc, out = dump("__consumer_offsets")
want = [
    'key: {"type":1,"data":{"group":"g1","topic":"orders","partition":3}} payload: {"version":1,"data":{"offset":42,"metadata":"meta","commitTimestamp":1700000000001,"expireTimestamp":1700000099999}}',
    'key: {"type":1,"data":{"group":"g1","topic":"orders","partition":4}} payload: {"version":3,"data":{"offset":43,"leaderEpoch":7,"metadata":"","commitTimestamp":1700000000002}}',
    'key: {"type":1,"data":{"group":"g2","topic":"t","partition":0}} payload: {"version":4,"data":{"offset":44,"leaderEpoch":-1,"metadata":"m4","commitTimestamp":1700000000003}}',
    'key: {"type":2,"data":{"group":"g1"}} payload: {"version":3,"data":{"protocolType":"consumer","generation":5,"protocol":"range","leader":"member-1","currentStateTimestamp":1700000000004,"members":[{"memberId":"member-1","groupInstanceId":null,"clientId":"client-a","clientHost":"/127.0.0.1","rebalanceTimeout":300000,"sessionTimeout":45000,"subscriptionBytes":3,"assignmentBytes":2}]}}',
    'key: {"type":1,"data":{"group":"g1","topic":"orders","partition":3}} payload: null',
    'key: {"error":"malformed OffsetCommitKey"}',
]
for w in want:
    if w not in out:
        print("FAIL: __consumer_offsets dump lacks:\n  %s\n--- dump:\n%s" % (w, out)); sys.exit(1)
rc, out = dump("__transaction_state")
w = 'key: {"version":0,"data":{"transactionalId":"tx-1"}} payload: {"version":0,"data":{"producerId":9000,"producerEpoch":2,"transactionTimeoutMs":60000,"state":"Ongoing","partitions":[{"topic":"orders","partitions":[0,5]}],"lastUpdateTimestampMs":1700000000005,"startTimestampMs":1700000000000}}'
if w not in out:
    print("FAIL: __transaction_state dump lacks:\n  %s\n--- dump:\n%s" % (w, out)); sys.exit(1)
rc, out = dump("__transaction_state", "--raw-internal")
if "key: \\x00\\x00\\x00\\x04tx-1" not in out:
    print("FAIL: --raw-internal:\n" + out); sys.exit(1)
print("0208: ok")
PY
