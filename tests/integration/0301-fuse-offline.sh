#!/usr/bin/env bash
# 0301: seglogfs over a log directory written by sltool append.  cat, wc -l,
# grep, jq (or python) over records.jsonl, random and backward reads, sizes,
# offsets/N, at/TIME, earliest/latest, segments/ byte for byte, errno values
# (ENOENT, EROFS, EIO with a logged reason), stable inodes across mounts,
# tail -f while sltool appends, fusermount3 -u and SIGTERM unmounts.
set -euo pipefail
B=${SEGLOG_BUILD:?}
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
H="$PY $here/0301-fuse-check.py"
[ -e /dev/fuse ] || { echo "SKIP: /dev/fuse is missing"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: fusermount3 is not installed"; exit 77; }
FS=$B/fuse/seglogfs
[ -x "$FS" ] || { echo "SKIP: seglogfs was not built (no libfuse3)"; exit 77; }
SLTOOL=$B/tests/sltool

T=$(mktemp -d)
M=$T/mnt
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for m in "$T"/mnt*; do
    mountpoint -q "$m" 2>/dev/null && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
  done
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/fs.log" ] && sed 's/^/  fs.log: /' "$T/fs.log" >&2; exit 1; }

# mount DIR MNT LOG: seglogfs in the foreground (background job), wait for it.
FSPID=
mount_fs() {
  mkdir -p "$2"
  "$FS" -f "$1" "$2" 2>>"$3" &
  FSPID=$!
  PIDS+=("$FSPID")
  for _ in $(seq 100); do
    mountpoint -q "$2" && return 0
    kill -0 "$FSPID" 2>/dev/null || fail "seglogfs exited at start"
    sleep 0.1
  done
  fail "seglogfs did not mount $2"
}
# Waits (bounded) for the seglogfs process to exit; its status in $?.
wait_exit() {
  for _ in $(seq 100); do
    kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }
    sleep 0.1
  done
  fail "seglogfs $1 did not exit"
}

L=$T/logs
mkdir -p "$L"
TS0=1700000000000
$H gen 2000 0 $TS0 --txn >"$T/in1.jsonl"
timeout 60 "$SLTOOL" append --config segment.bytes=60000 "$L/orders-0" <"$T/in1.jsonl" >/dev/null
$H gen 300 0 $TS0 >"$T/p1.jsonl"
timeout 60 "$SLTOOL" append "$L/orders-1" <"$T/p1.jsonl" >/dev/null
timeout 60 "$SLTOOL" append "$L/my.topic_x-0" <"$T/p1.jsonl" >/dev/null
mkdir -p "$L/orders-2.0123456789abcdef0123456789abcdef-delete" "$L/not-a-partition"
nseg=$(ls "$L/orders-0" | grep -c '\.log$')
[ "$nseg" -ge 3 ] || fail "want several segments, got $nseg"

mount_fs "$L" "$M" "$T/fs.log"
P=$M/orders/0

# The tree.
[ "$(ls "$M" | tr '\n' ' ')" = "my.topic_x orders " ] || fail "ls /: $(ls "$M")"
[ "$(ls "$M/orders" | tr '\n' ' ')" = "0 1 config " ] || fail "ls orders: $(ls "$M/orders")"
[ "$(ls "$P" | tr '\n' ' ')" = "at data data.lp earliest latest offsets records.jsonl segments " ] ||
  fail "ls partition: $(ls "$P")"
grep -qx 'partitions=2' "$M/orders/config" || fail "config: $(cat "$M/orders/config")"
[ "$(cat "$P/earliest")" = 0 ] || fail "earliest $(cat "$P/earliest")"
[ "$(cat "$P/latest")" = 2001 ] || fail "latest $(cat "$P/latest")"

# cat, wc, grep, sizes.
$H expect data "$T/in1.jsonl" >"$T/exp.data"
$H expect data.lp "$T/in1.jsonl" >"$T/exp.lp"
timeout 30 cat "$P/data" >"$T/got.data"
cmp "$T/got.data" "$T/exp.data" || fail "cat data differs"
timeout 30 cat "$P/data.lp" | cmp - "$T/exp.lp" || fail "cat data.lp differs"
[ "$(stat -c %s "$P/data")" = "$(stat -c %s "$T/exp.data")" ] || fail "size of data"
[ "$(stat -c %s "$P/data.lp")" = "$(stat -c %s "$T/exp.lp")" ] || fail "size of data.lp"
[ "$(stat -c %s "$P/records.jsonl")" = "$(timeout 30 cat "$P/records.jsonl" | wc -c)" ] ||
  fail "size of records.jsonl"
[ "$(timeout 30 wc -l <"$P/data")" = "$(wc -l <"$T/exp.data")" ] || fail "wc -l data"
[ "$(timeout 30 wc -l <"$P/records.jsonl")" = 2000 ] || fail "wc -l records.jsonl"
[ "$(timeout 30 grep -c '^value 1234 ' "$P/data")" = 1 ] || fail "grep data"
[ "$(timeout 30 grep -ac 'txn ' "$P/data")" = 5 ] || fail "grep txn records"

# records.jsonl: every field against the input, then jq queries.
$H check-jsonl orders 0 "$P/records.jsonl" "$T/in1.jsonl" || fail "records.jsonl"
$H check-jsonl orders 1 "$M/orders/1/records.jsonl" "$T/p1.jsonl" || fail "records.jsonl p1"
if command -v jq >/dev/null; then
  [ "$(timeout 30 jq -r 'select(.key=="k1234") | .offset' "$P/records.jsonl")" = 1235 ] ||
    fail "jq select key"
  [ "$(timeout 30 jq -s 'length' "$P/records.jsonl")" = 2000 ] || fail "jq length"
  [ "$(timeout 30 jq -r 'select(.offset==1001) | .payload' "$P/records.jsonl")" = "txn 1001" ] ||
    fail "jq payload of a transactional record"
  [ "$(timeout 30 jq -c 'select(.offset==7) | .payload' "$P/records.jsonl")" != null ] ||
    fail "jq binary payload"
else
  echo "note: jq is not installed; records.jsonl checked with python only"
fi

# Exactly what `seglog consume` prints (when the CLI is built): -J for
# records.jsonl, '%s\n' for data.
CLI=$B/kcat-tools/seglog
if [ -x "$CLI" ]; then
  timeout 60 "$CLI" consume -d "$L" -t orders -p 0 -o beginning -e -J >"$T/consume.jsonl" ||
    fail "seglog consume -J"
  cmp "$T/consume.jsonl" "$P/records.jsonl" || fail "records.jsonl differs from seglog consume -J"
  timeout 60 "$CLI" consume -d "$L" -t orders -p 0 -o beginning -e -f '%s\n' >"$T/consume.data" ||
    fail "seglog consume -f"
  cmp "$T/consume.data" "$P/data" || fail "data differs from seglog consume -f '%s\\n'"
else
  echo "note: seglog CLI not built; the mount was not compared with seglog consume"
fi

# Reads at any position, and backwards (tail's way), through the index.
$H random-reads "$P/data" "$T/exp.data" 300 || fail "random reads of data"
$H random-reads "$P/data.lp" "$T/exp.lp" 100 || fail "random reads of data.lp"
[ "$(tail -n 3 "$P/data" | md5sum)" = "$(tail -n 3 "$T/exp.data" | md5sum)" ] || fail "tail -n 3"

# offsets/N.
$H value 1234 "$T/in1.jsonl" | cmp - "$P/offsets/1234" || fail "offsets/1234"
$H value 7 "$T/in1.jsonl" | cmp - "$P/offsets/7" || fail "offsets/7 (binary)"
[ "$(stat -c %s "$P/offsets/3")" = 0 ] || fail "offsets/3 (null value) not empty"
# 1005 is the commit marker (a control record): no data record there.
for bad in 1005 2001 99999; do
  err=$(cat "$P/offsets/$bad" 2>&1 >/dev/null) && fail "offsets/$bad readable"
  grep -q 'No such file' <<<"$err" || fail "offsets/$bad: $err"
done

# at/TIME: epoch ms and ISO 8601 (TS0 + 1500 s = 2023-11-14T22:38:20Z).
$H expect data --from-ts $((TS0 + 1500000)) "$T/in1.jsonl" >"$T/exp.at"
cmp "$P/at/$((TS0 + 1500000))/data" "$T/exp.at" || fail "at/ms/data"
cmp "$P/at/2023-11-14T22:38:20Z/data" "$T/exp.at" || fail "at/iso/data"
cmp "$P/at/2023-11-14T23:38:20+01:00/data" "$T/exp.at" || fail "at/iso+01:00/data"
[ "$(stat -c %s "$P/at/2023-11-14T22:38:20.000Z/data")" = "$(stat -c %s "$T/exp.at")" ] ||
  fail "at size"
$H check-jsonl orders 0 "$P/at/$((TS0 + 1500000))/records.jsonl" --from-ts $((TS0 + 1500000)) \
  "$T/in1.jsonl" || fail "at/records.jsonl"
[ "$(stat -c %s "$P/at/$((TS0 + 9999999))/data")" = 0 ] || fail "at/future not empty"

# segments/: byte for byte.
for f in "$L/orders-0"/*.log "$L/orders-0"/*.index "$L/orders-0"/*.timeindex; do
  cmp "$f" "$P/segments/$(basename "$f")" || fail "segments/$(basename "$f")"
done
[ "$(ls "$P/segments" | wc -l)" = "$(ls "$L/orders-0" | grep -cE '\.(log|index|timeindex|txnindex)$')" ] ||
  fail "segments/ listing"
mkdir -p "$T/copy" && cp "$P"/segments/* "$T/copy/"
for f in "$T/copy"/*; do cmp "$f" "$L/orders-0/$(basename "$f")" || fail "cp segments"; done

# errno values.
e=$(ls "$M/nosuch" 2>&1) && fail "unknown topic listed"; grep -q 'No such file' <<<"$e" || fail "$e"
e=$(ls "$M/orders/9" 2>&1) && fail "unknown partition"; grep -q 'No such file' <<<"$e" || fail "$e"
e=$( (echo x >>"$P/data") 2>&1) && fail "append to data succeeded"
grep -q 'Read-only file system' <<<"$e" || fail "write: $e"
e=$(mkdir "$M/newtopic" 2>&1) && fail "mkdir succeeded"; grep -q 'Read-only' <<<"$e" || fail "mkdir: $e"

# Stable inode numbers and mtime of the last append.
ino1=$(stat -c %i "$P/data" "$P/records.jsonl" "$M/orders")
mt_fs=$(stat -c %Y "$P/data")
mt_disk=$(stat -c %Y "$(ls "$L/orders-0"/*.log | tail -1)")
[ "$mt_fs" = "$mt_disk" ] || fail "mtime $mt_fs != last segment's $mt_disk"

# tail -f while sltool appends (it takes the writer lock; the mount holds none).
timeout 60 tail -n 0 -f "$P/data" >"$T/tail.out" 2>/dev/null &
TAILPID=$!
PIDS+=("$TAILPID")
sleep 1.5 # let tail take the end position (not a timing assertion: we wait for content below)
$H gen 150 2001 $TS0 >"$T/in2.jsonl"
timeout 60 "$SLTOOL" append "$L/orders-0" <"$T/in2.jsonl" >/dev/null
$H expect data "$T/in2.jsonl" >"$T/exp.tail"
for _ in $(seq 300); do
  cmp -s "$T/tail.out" "$T/exp.tail" && break
  sleep 0.1
done
cmp "$T/tail.out" "$T/exp.tail" || fail "tail -f output differs"
kill "$TAILPID" 2>/dev/null || true
wait "$TAILPID" 2>/dev/null || true
$H expect data "$T/in1.jsonl" "$T/in2.jsonl" >"$T/exp.data2"
cmp "$P/data" "$T/exp.data2" || fail "data after the append"
[ "$(cat "$P/latest")" = 2151 ] || fail "latest after append: $(cat "$P/latest")"
$H check-jsonl orders 0 "$P/records.jsonl" "$T/in1.jsonl" "$T/in2.jsonl" || fail "jsonl after append"
$H random-reads "$P/data" "$T/exp.data2" 100 || fail "random reads after append"

# fusermount3 -u: clean exit; remount: same inode numbers.
fusermount3 -u "$M" || fail "fusermount3 -u"
wait_exit "$FSPID" || fail "seglogfs exited with $? after fusermount3 -u"
mount_fs "$L" "$M" "$T/fs.log"
[ "$(stat -c %i "$P/data" "$P/records.jsonl" "$M/orders")" = "$ino1" ] || fail "inodes changed"

# SIGTERM unmounts.
kill -TERM "$FSPID"
wait_exit "$FSPID" || fail "seglogfs exited with $? after SIGTERM"
mountpoint -q "$M" && fail "still mounted after SIGTERM"

# Retention while mounted (the oldest segment deleted, as Kafka does): the
# views start at the new log start; the index is rebuilt.
cp -r "$L" "$T/ret"
: >"$T/fs.log"
mount_fs "$T/ret" "$T/mnt3" "$T/fs.log"
R=$T/mnt3/orders/0
[ "$(cat "$R/earliest")" = 0 ] || fail "retention: earliest before"
stat -c %s "$R/data" "$R/records.jsonl" >/dev/null
oldest=$(ls "$T/ret/orders-0"/*.log | head -1)
rm -f "${oldest%.log}".*
start=$(cat "$R/earliest")
[ "$start" -gt 0 ] || fail "retention: earliest still 0"
$PY - "$start" "$T/in1.jsonl" "$T/in2.jsonl" >"$T/exp.ret" <<'PYEOF'
import base64, json, sys
start, off, out = int(sys.argv[1]), 0, sys.stdout.buffer
for p in sys.argv[2:]:
    for line in open(p):
        o = json.loads(line)
        if "marker" in o:
            off += 1
        elif "timestamp" in o:
            if off >= start:
                out.write((base64.b64decode(o["value"]) if o["value"] is not None else b"") + b"\n")
            off += 1
PYEOF
cmp "$R/data" "$T/exp.ret" || fail "retention: data does not start at the new log start"
[ "$(stat -c %s "$R/data")" = "$(stat -c %s "$T/exp.ret")" ] || fail "retention: size"
[ "$(head -c 300 "$R/records.jsonl" | $PY -c 'import json,sys; print(json.loads(sys.stdin.readline())["offset"])')" = "$start" ] ||
  fail "retention: records.jsonl does not start at $start"
e=$(cat "$R/offsets/0" 2>&1 >/dev/null) && fail "retention: offsets/0 still readable"
fusermount3 -u "$T/mnt3"
wait_exit "$FSPID" || fail "exit after retention test"

# Corrupt data: a flipped byte inside a sealed segment gives EIO and a log line.
cp -r "$L" "$T/bad"
first=$(ls "$T/bad/orders-0"/*.log | head -1)
printf '\xff' | dd of="$first" bs=1 seek=3000 conv=notrunc status=none
: >"$T/fs.log"
mount_fs "$T/bad" "$T/mnt2" "$T/fs.log"
e=$(timeout 30 cat "$T/mnt2/orders/0/data" 2>&1 >/dev/null) && fail "corrupt data read without error"
grep -q 'Input/output error' <<<"$e" || fail "corrupt: $e"
grep -q 'orders-0' "$T/fs.log" || fail "no reason logged for EIO"
grep -qE 'CRC|CORRUPT' "$T/fs.log" || fail "logged reason lacks the cause"
cmp "$T/mnt2/orders/1/data" <($H expect data "$T/p1.jsonl") || fail "other partition unreadable"
fusermount3 -u "$T/mnt2"
wait_exit "$FSPID" || true
echo "OK"
