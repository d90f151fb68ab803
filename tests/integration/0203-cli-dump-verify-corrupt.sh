#!/usr/bin/env bash
# 0203: seglog dump and verify on sound and damaged partitions: a flipped
# byte, a truncated segment, a garbage file, a missing index.  Every problem
# is reported with its file and byte position, exit status 3; nothing
# crashes; `verify --repair` says what it removes, then the partition is
# sound and readable again.
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
run() { # run EXPECTED_STATUS CMD... ; stdout in $tmp/out, stderr in $tmp/err
  local want=$1; shift
  set +e
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  set -e
  [ "$rc" = "$want" ] || fail "$* exited $rc, want $want: $(head -5 "$tmp/err")"
}

d="$tmp/logs"
seq 1 3000 | "$S" produce -d "$d" -t v -T 1700000000000 --batch-bytes 1000 \
  --topic-config segment.bytes=8000 --topic-config index.interval.bytes=512
P="$d/v-0"
nseg=$(ls "$P"/*.log | wc -l)
[ "$nseg" -ge 4 ] || fail "want several segments, got $nseg"

# --- sound data ---
run 0 "$S" verify "$d"
run 0 "$S" verify "$P"
run 0 "$S" dump "$P/00000000000000000000.log"
grep -q '^Log starting offset: 0$' "$tmp/out" || fail "dump header"
grep -q '^baseOffset: 0 lastOffset: [0-9]* count: [0-9]* .* position: 0 CreateTime: 1700000000000 size: [0-9]* magic: 2 compresscodec: none crcValid: true$' "$tmp/out" \
  || fail "dump batch line: $(head -3 "$tmp/out")"
run 0 "$S" dump --print-data-log "$P/00000000000000000000.log"
grep -q '^| offset: 0 CreateTime: 1700000000000 keySize: -1 valueSize: 1 sequence: -1 headerKeys: \[\] key: null payload: 1$' "$tmp/out" \
  || fail "dump record line: $(sed -n 3p "$tmp/out")"
run 0 "$S" dump --json --deep-iteration "$P/00000000000000000000.log"
/usr/bin/python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    b = json.loads(line)
    assert b["crcValid"] is True and b["magic"] == 2, b
    assert len(b["records"]) == b["count"], b
    n += b["count"]
assert n > 0
' "$tmp/out" || fail "dump --json"
run 0 "$S" dump "$P/00000000000000000000.index"
grep -q '^offset: [0-9]* position: [0-9]*$' "$tmp/out" || fail "index dump"
run 0 "$S" dump "$P/00000000000000000000.timeindex"
grep -q '^timestamp: 1700000000000 offset: [0-9]*$' "$tmp/out" || fail "timeindex dump"
run 0 "$S" dump "$d/recovery-point-offset-checkpoint"
grep -q '^topic: v partition: 0 offset: 3000$' "$tmp/out" || fail "checkpoint dump"
run 0 "$S" dump "$d"   # the whole log dir

# --- damage ---
cp -r "$d" "$tmp/bad"
B="$tmp/bad/v-0"
seg1=$(ls "$B"/*.log | sed -n 2p)
last=$(ls "$B"/*.log | tail -1)
printf '\377' | dd of="$seg1" bs=1 seek=3000 conv=notrunc 2>/dev/null
truncate -s -5 "$last"
rm "$B/$(basename "$(ls "$B"/*.log | sed -n 3p)" .log).index"
run 3 "$S" verify "$tmp/bad"
grep -q "^$seg1: at byte [0-9]*: crc: CRC mismatch" "$tmp/out" || fail "crc report: $(cat "$tmp/out")"
grep -q "^$last: at byte [0-9]*: truncated: incomplete batch" "$tmp/out" || fail "torn tail report"
grep -q "\.index: at byte 0: missing:" "$tmp/out" || fail "missing index report"
# consume stops at the damage with the position, exit 1
run 1 "$S" consume -d "$tmp/bad" -t v -e
grep -q "$(basename "$seg1"): at byte [0-9]*: CRC-32C stored" "$tmp/err" || fail "consume message: $(cat "$tmp/err")"
# dump shows crcValid: false and goes on
run 3 "$S" dump "$seg1"
grep -q "crcValid: false" "$tmp/out" || fail "dump crcValid false"
[ "$(grep -c '^baseOffset' "$tmp/out")" -gt 1 ] || fail "dump went on after the bad batch"
run 3 "$S" dump "$last"
grep -q "incomplete batch: needs [0-9]* bytes, only [0-9]* left" "$tmp/err" || fail "dump torn tail"

# garbage files of every kind
head -c 3000 /dev/urandom > "$tmp/g.bin"
for f in 00000000000000000000.log 00000000000000000000.index 00000000000000000000.timeindex \
         00000000000000000000.txnindex 00000000000000000000.snapshot leader-epoch-checkpoint \
         recovery-point-offset-checkpoint partition.metadata; do
  mkdir -p "$tmp/g"
  cp "$tmp/g.bin" "$tmp/g/$f"
  set +e
  "$S" dump "$tmp/g/$f" >/dev/null 2>"$tmp/err"; rc=$?
  set -e
  [ "$rc" = 3 ] || fail "garbage $f: exit $rc, want 3 ($(cat "$tmp/err"))"
  grep -q "^seglog dump: $tmp/g/$f: " "$tmp/err" || fail "garbage $f message: $(cat "$tmp/err")"
done
# an empty and a truncated segment
: > "$tmp/g/00000000000000000000.log"
run 0 "$S" dump "$tmp/g/00000000000000000000.log"
head -c 30 "$P/00000000000000000000.log" > "$tmp/g/00000000000000000000.log"
run 3 "$S" dump "$tmp/g/00000000000000000000.log"
grep -q "at byte 0: incomplete batch" "$tmp/err" || fail "30-byte segment: $(cat "$tmp/err")"
run 1 "$S" dump "$tmp/nosuch.log"

# --- repair ---
run 0 "$S" verify --repair "$tmp/bad"
grep -q "will truncate $seg1 at byte [0-9]* (removing [0-9]* bytes)" "$tmp/err" || fail "repair says what it removes: $(cat "$tmp/err")"
run 0 "$S" verify "$tmp/bad"
run 0 "$S" consume -d "$tmp/bad" -t v -e
n=$(wc -l < "$tmp/out")
[ "$n" -gt 0 ] && [ "$n" -lt 3000 ] || fail "after repair: $n records"
expect "records after repair are the prefix" "$(seq 1 "$n")" "$(cat "$tmp/out")"

# a torn tail only: repair keeps everything before it
cp -r "$d" "$tmp/torn"
last=$(ls "$tmp/torn/v-0"/*.log | tail -1)
truncate -s -3 "$last"
run 0 "$S" verify --repair "$tmp/torn"
run 0 "$S" consume -d "$tmp/torn" -t v -e
n=$(wc -l < "$tmp/out")
[ "$n" -lt 3000 ] && [ "$n" -gt 2500 ] || fail "torn tail repair kept $n records"
run 0 "$S" verify "$tmp/torn"
echo "0203: ok"
