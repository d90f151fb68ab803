#!/usr/bin/env bash
# 0309: offline mount of a partition too large to count within size_wait:
# the first stat answers with the bytes counted so far (never more than the
# real size), the background counter then brings every view's size to the
# exact one without further stats forcing it, `cat data` is complete from
# the first open (reads do not wait for the count), random preads and
# tail -n agree with the source; -o size_wait=0 gives the exact size at the
# first stat.  Also `ls -R` of a log dir with many topics (cached listing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=${SEGLOG_BUILD:?}
[ -e /dev/fuse ] || { echo "SKIP: /dev/fuse is missing"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: fusermount3 is not installed"; exit 77; }
FS=$B/fuse/seglogfs
S=$B/kcat-tools/seglog
[ -x "$FS" ] || { echo "SKIP: seglogfs was not built (no libfuse3 or librdkafka)"; exit 77; }
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
PY=/usr/bin/python3
T=$(mktemp -d)
M=$T/mnt
PIDS=()
cleanup() {
  mountpoint -q "$M" 2>/dev/null && { fusermount3 -u "$M" 2>/dev/null || umount -l "$M" 2>/dev/null || true; }
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/fs.log" ] && sed 's/^/  fs.log: /' "$T/fs.log" >&2; exit 1; }
mnt() {
  mkdir -p "$M"
  "$FS" -f "$@" "$M" 2>>"$T/fs.log" &
  FSPID=$!
  PIDS+=("$FSPID")
  for _ in $(seq 100); do mountpoint -q "$M" && return 0; sleep 0.1; done
  fail "not mounted"
}
umnt() {
  fusermount3 -u "$M" || fail "fusermount3 -u"
  for _ in $(seq 100); do kill -0 "$FSPID" 2>/dev/null || break; sleep 0.1; done
  wait "$FSPID" || fail "seglogfs exit status $?"
}

# 400,000 records (about 26 MB of data view) in small segments
seq 1 400000 | sed 's/$/ some padding to make the record longer/' >"$T/lines"
timeout 120 "$S" produce -d "$T/logs" -t big -p 0 <"$T/lines" || fail "seglog produce"
want=$(stat -c %s "$T/lines")
"$S" consume -d "$T/logs" -t big -p 0 -e -J >"$T/want.jsonl"
wantj=$(stat -c %s "$T/want.jsonl")

mnt -o size_wait=1 "$T/logs"
P=$M/big/0
first=$(stat -c %s "$P/data")
[ "$first" -le "$want" ] || fail "first stat $first > real size $want"
[ "$first" -gt 0 ] || fail "first stat counted nothing"
cmp "$P/data" "$T/lines" || fail "cat data before the count finished"
firstj=$(stat -c %s "$P/records.jsonl")
[ "$firstj" -le "$wantj" ] || fail "records.jsonl first stat $firstj > $wantj"
# the background counter finishes on its own: poll (bounded) for the exact sizes
for _ in $(seq 300); do
  [ "$(stat -c %s "$P/data")" = "$want" ] && [ "$(stat -c %s "$P/records.jsonl")" = "$wantj" ] && break
  sleep 0.1
done
[ "$(stat -c %s "$P/data")" = "$want" ] || fail "data size $(stat -c %s "$P/data") != $want"
[ "$(stat -c %s "$P/records.jsonl")" = "$wantj" ] || fail "records.jsonl size"
cmp "$P/records.jsonl" "$T/want.jsonl" || fail "records.jsonl content"
[ "$(tail -n 1 "$P/data")" = "400000 some padding to make the record longer" ] || fail "tail -n 1"
$PY - "$P/data" "$T/lines" <<'PY' || fail "preads"
import os, random, sys
want = open(sys.argv[2], "rb").read()
fd = os.open(sys.argv[1], os.O_RDONLY)
rnd = random.Random(9)
for _ in range(100):
    off = rnd.randrange(0, len(want))
    n = rnd.choice([1, 100, 5000, 200000])
    if os.pread(fd, n, off) != want[off:off + n]:
        raise SystemExit("pread(%d, %d)" % (n, off))
PY
echo "first stat: $first of $want bytes (size_wait=1 ms)"
umnt

mnt -o size_wait=0 "$T/logs"
[ "$(stat -c %s "$P/data")" = "$want" ] || fail "size_wait=0: first stat not exact"
umnt

# many topics: ls -R through the cached listing, and a topic added while
# mounted shows up at once (the listing follows the directory's mtime)
echo one | timeout 30 "$S" produce -d "$T/one" -t t -p 0 || fail "seglog produce (one)"
mkdir -p "$T/many"
for i in $(seq 1 300); do cp -r "$T/one/t-0" "$T/many/t$i-0"; cp -r "$T/one/t-0" "$T/many/t$i-1"; done
mnt "$T/many"
[ "$(ls "$M" | wc -l)" = 300 ] || fail "ls: $(ls "$M" | wc -l) topics"
[ "$(ls -R "$M" | grep -c '^data$')" = 600 ] || fail "ls -R: $(ls -R "$M" | grep -c '^data$') data files"
[ "$(ls "$M/t7")" = "$(printf '0\n1\nconfig')" ] || fail "ls t7"
[ "$(ls "$M/t1")" = "$(printf '0\n1\nconfig')" ] || fail "ls t1 (t10.., t100.. sort after it)"
cp -r "$T/one/t-0" "$T/many/new-0"
[ "$(ls "$M/new")" = "$(printf '0\nconfig')" ] || fail "new topic not shown"
ls "$M" | grep -qx new || fail "new topic not listed"
rm -rf "$T/many/new-0"
sleep 0.1
ls "$M" | grep -qx new && fail "removed topic still listed"
umnt
echo OK
