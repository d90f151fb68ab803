#!/usr/bin/env bash
# 0204: seglog compact (keeps the latest record per key, drops what it
# replaced, prints before/after; refuses while another writer holds the
# lock), seglog topics list|describe and seglog offsets (earliest, latest,
# by time) offline.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
  if [ "$2" != "$3" ]; then
    printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3" >&2
    exit 1
  fi
}
d="$tmp/logs"

# --- compact ---
for round in 1 2 3 4; do
  for k in a b c; do echo "$k:$k$round"; done |
    "$S" produce -d "$d" -t kv -K: -T $((1700000000000 + round)) --batch-bytes 100 \
      --topic-config segment.bytes=200
done
printf 'solo:once\n' | "$S" produce -d "$d" -t kv -K: -T 1700000000009
before=$("$S" consume -d "$d" -t kv -e -f '%k=%s\n' | wc -l)
expect "records before" 13 "$before"
out=$("$S" compact -d "$d" -t kv --roll)
echo "$out" | grep -Eq '^kv-0: [0-9]+ segments -> [0-9]+, [0-9]+ bytes \(.*\) -> [0-9]+ bytes \(.*\), 13 records -> 4, 4 keys' \
  || fail "compact summary: $out"
expect "latest per key" "a=a4
b=b4
c=c4
solo=once" "$("$S" consume -d "$d" -t kv -e -f '%k=%s\n' | sort)"
# offsets are kept by compaction
expect "offsets kept" "9 a
10 b
11 c
12 solo" "$("$S" consume -d "$d" -t kv -e -f '%o %k\n')"
"$S" verify "$d" >/dev/null || fail "verify after compact"
# nothing left to clean
"$S" compact -d "$d" -t kv | grep -q "nothing to clean" || fail "second compact"

# --- topics ---
printf 'x\n' | "$S" produce -d "$d" -t multi --partitions 3 -p 1 -T 1700000001000
expect "topics list" "$(printf 'kv\t1 partition\nmulti\t3 partitions')" "$("$S" topics list -d "$d")"
desc=$("$S" topics describe -d "$d" -t multi)
echo "$desc" | head -1 | grep -q '^TOPIC *PARTITION *START *END *SEGMENTS *SIZE *FIRST-TIMESTAMP *LAST-TIMESTAMP' || fail "describe header: $desc"
echo "$desc" | grep -Eq '^multi +1 +0 +1 +1 +[0-9]+ +2023-11-14T22:13:21.000Z +2023-11-14T22:13:21.000Z' || fail "describe row: $desc"
echo "$desc" | grep -Eq '^multi +2 +0 +0 +1 +0 +- +-' || fail "describe empty partition: $desc"

# --- topics create / delete (offline: takes the writer lock) ---
expect "create" "created made with 2 partitions" "$("$S" topics create -d "$d" -t made --partitions 2)"
expect "created list" "made	2 partitions" "$("$S" topics list -d "$d" | grep '^made')"
set +e
"$S" topics create -d "$d" -t made 2>"$tmp/err"; rc=$?
set -e
expect "create twice" 1 "$rc"
grep -q "already exists" "$tmp/err" || fail "create twice message"
expect "delete" "deleted made (2 partitions)" "$("$S" topics delete -d "$d" -t made)"
[ -z "$("$S" topics list -d "$d" | grep '^made' || true)" ] || fail "deleted topic still listed"
ls "$d" | grep -q '^made-' && fail "partition dirs left behind"

# --- offsets ---
seq 1 10 | "$S" produce -d "$d" -t ts -T 1700000000000
seq 11 20 | "$S" produce -d "$d" -t ts -T 1700000005000
expect "offsets table" "TOPIC                    PARTITION     EARLIEST       LATEST
ts                               0            0           20" "$("$S" offsets -d "$d" -t ts)"
expect "--time" "ts:0:10" "$("$S" offsets -d "$d" -t ts --time 1700000003000)"
expect "--time iso" "ts:0:10" "$("$S" offsets -d "$d" -t ts --time 2023-11-14T22:13:23Z)"
expect "--time earliest" "ts:0:0" "$("$S" offsets -d "$d" -t ts --time earliest)"
expect "--time latest" "ts:0:20" "$("$S" offsets -d "$d" -t ts --time latest)"
expect "--time past the end" "ts:0:-1" "$("$S" offsets -d "$d" -t ts --time 1800000000000)"
set +e
"$S" offsets -d "$d" -t nosuch 2>/dev/null; rc=$?
"$S" offsets -d "$d" -t ts --time yesterday 2>/dev/null; rc2=$?
set -e
expect "offsets missing topic" 1 "$rc"
expect "offsets bad time" 2 "$rc2"

# --- compact refuses while another writer holds the lock ---
/usr/bin/python3 - "$d" "$S" <<'PY'
import fcntl, os, subprocess, sys
d, s = sys.argv[1], sys.argv[2]
fd = os.open(os.path.join(d, ".lock"), os.O_RDWR | os.O_CREAT)
fcntl.lockf(fd, fcntl.LOCK_EX)
p = subprocess.run([s, "compact", "-d", d, "-t", "kv"], capture_output=True)
if p.returncode != 4 or b"another writer" not in p.stderr:
    print("FAIL: locked compact: rc=%d %r" % (p.returncode, p.stderr)); sys.exit(1)
PY
echo "0204: ok"
