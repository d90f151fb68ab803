#!/usr/bin/env bash
# 0207: seglog's network mode (-b, librdkafka) against seglogd: produce with
# keys, headers and Java's partitioner; consume -e with formats and -J (the
# same lines kcat -J prints for text records); a binary/null/empty JSON round
# trip through the broker; topics and offsets; the broker's log dir then reads
# the same offline.  Skips when seglogd or network mode is not built.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
# shellcheck source=lib/broker.sh
source "$here/lib/broker.sh"
broker_init
if "$S" topics list -b 127.0.0.1:1 2>&1 | grep -q "built without librdkafka"; then
  echo "SKIP: seglog was built without librdkafka (network mode)"
  exit 77
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
  if [ "$2" != "$3" ]; then
    printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3" >&2
    exit 1
  fi
}
broker_start "$T/broker.log" --override num.partitions=4
B="127.0.0.1:$PORT"
to() { timeout 60 "$@"; }

# keys land where Java's partitioner puts them (murmur2 % 4: "21"->0 "foobar"->2 "abc"->3)
printf '21:x\nfoobar:y\nabc:z\n' | to "$S" produce -b "$B" -t keys -K: -H trace=1
out=$(for p in 0 1 2 3; do to "$S" consume -b "$B" -t keys -p $p -e -f '%p %k=%s %h\n'; done)
expect "partitioned" "0 21=x trace=1
2 foobar=y trace=1
3 abc=z trace=1" "$out"

# text records: seglog -J prints what kcat -J prints
seq 1 50 | to "$S" produce -b "$B" -t text -p 1 -T 1700000000000
expect "consume -e" "$(seq 1 50)" "$(to "$S" consume -b "$B" -t text -p 1 -e)"
expect "-o -3 -c 2" "48
49" "$(to "$S" consume -b "$B" -t text -p 1 -o -3 -e -c 2)"
if command -v kcat >/dev/null; then
  expect "-J like kcat" "$(to kcat -b "$B" -t text -p 1 -C -e -J -q 2>/dev/null)" \
    "$(to "$S" consume -b "$B" -t text -p 1 -e -J)"
fi

# binary, null vs empty, headers through the broker and back
/usr/bin/python3 - "$T/in.jsonl" <<'PY'
import base64, json, random, sys
rng = random.Random(207)
def enc(b):
    if b is None:
        return None
    try:
        return b.decode()
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(b).decode()}
with open(sys.argv[1], "w") as f:
    for i in range(200):
        pick = lambda: rng.choice([None, b"", bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 30))), b"text %d" % i])
        hs = []
        for _ in range(rng.randint(0, 2)):
            hs += [enc(b"h%d" % rng.randint(0, 9)), enc(pick())]
        e = {"partition": i % 4, "ts": 1700000000000 + i, "key": enc(pick()), "payload": enc(pick())}
        if hs:
            e["headers"] = hs
        f.write(json.dumps(e) + "\n")
PY
to "$S" produce -b "$B" -t bin -J -l "$T/in.jsonl"
to "$S" consume -b "$B" -t bin -e -J > "$T/bin1.jsonl"
to "$S" produce -b "$B" -t bin2 -J < "$T/bin1.jsonl"
to "$S" consume -b "$B" -t bin2 -e -J > "$T/bin2.jsonl"
/usr/bin/python3 - "$T/in.jsonl" "$T/bin1.jsonl" "$T/bin2.jsonl" <<'PY'
import json, sys
def load(path, keep_coords):
    out = {}
    for line in open(path):
        e = json.loads(line)
        rec = (e.get("ts"), json.dumps(e.get("key")), json.dumps(e.get("payload")),
               json.dumps(e.get("headers", [])))
        out.setdefault(e["partition"], []).append(rec)
    return out
a, b, c = (load(p, False) for p in sys.argv[1:4])
if a != b:
    print("FAIL: records through the broker differ from the input"); sys.exit(1)
if b != c:
    print("FAIL: the copy of the copy differs"); sys.exit(1)
PY

# topics and offsets
to "$S" topics list -b "$B" | grep -q "^text	4 partitions$" || fail "topics list"
to "$S" topics describe -b "$B" -t text | grep -Eq '^text +1 +1 +0 +50 ' || fail "topics describe"
expect "offsets" "text:1:50" "$(to "$S" offsets -b "$B" -t text -p 1 --time latest)"
expect "offsets by time" "text:1:0" "$(to "$S" offsets -b "$B" -t text -p 1 --time 1700000000000)"

# topics create / delete through the admin API
to "$S" topics create -b "$B" -t admin1 --partitions 2
expect "created partitions" 2 "$(to "$S" topics describe -b "$B" -t admin1 | grep -Ec '^admin1 +[0-9]+ ')"
set +e
to "$S" topics create -b "$B" -t admin1 2>"$T/err"; rc=$?
set -e
expect "create existing" 1 "$rc"
grep -q "create admin1: " "$T/err" || fail "create existing message: $(cat "$T/err")"
to "$S" topics delete -b "$B" -t admin1
if to "$S" topics list -b "$B" | grep -q '^admin1	'; then fail "deleted topic still listed"; fi

# the broker's data dir reads the same offline (read-only, while it runs)
expect "offline read of seglogd's dir" "$(seq 1 50)" "$("$S" consume -d "$T/data" -t text -p 1 -e)"
# and offline writes are refused while seglogd holds the lock
set +e
printf 'x\n' | "$S" produce -d "$T/data" -t text 2>"$T/err"; rc=$?
set -e
expect "locked by seglogd" 4 "$rc"
grep -q "another writer" "$T/err" || fail "lock message: $(cat "$T/err")"
echo "0207: ok"
