#!/usr/bin/env bash
# 0303: seglogfs over the log directory seglogd is writing: records produced
# with kcat appear in the mount (data, records.jsonl, latest) while the broker
# runs and holds the writer lock, tail -f follows new produce requests, and
# the mount agrees with what kcat consumes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
[ -e /dev/fuse ] || { echo "SKIP: /dev/fuse is missing"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: fusermount3 is not installed"; exit 77; }
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
FS=$SEGLOG_BUILD/fuse/seglogfs
[ -x "$FS" ] || { echo "SKIP: seglogfs was not built (no libfuse3)"; exit 77; }
broker_init
M=$T/mnt
FSPID=
TAILPID=
fuse_cleanup() {
  [ -n "$TAILPID" ] && kill "$TAILPID" 2>/dev/null || true
  mountpoint -q "$M" 2>/dev/null && { fusermount3 -u "$M" 2>/dev/null || umount -l "$M" 2>/dev/null || true; }
  [ -n "$FSPID" ] && kill "$FSPID" 2>/dev/null || true
  broker_cleanup
}
trap fuse_cleanup EXIT

broker_start "$T/broker.log" --override num.partitions=2
B="127.0.0.1:$PORT"
seq 1 500 | sed 's/^/line /' >"$T/first.txt"
timeout 30 kcat -b "$B" -P -t live -p 0 -z lz4 <"$T/first.txt" || broker_fail "kcat -P"

mkdir -p "$M"
"$FS" -f "$T/data" "$M" 2>"$T/fs.log" &
FSPID=$!
for _ in $(seq 100); do mountpoint -q "$M" && break; sleep 0.1; done
mountpoint -q "$M" || broker_fail "seglogfs did not mount"
P=$M/live/0

# Wait (bounded) until file $1 has exactly the content of file $2.
wait_same() {
  for _ in $(seq 200); do cmp -s "$1" "$2" && return 0; sleep 0.1; done
  cmp "$1" "$2" || true
  return 1
}

wait_same "$P/data" "$T/first.txt" || broker_fail "data differs from what kcat produced"
[ "$(ls "$M/live")" = "$(printf '0\n1\nconfig')" ] || broker_fail "ls live: $(ls "$M/live")"
[ "$(cat "$P/latest")" = 500 ] || broker_fail "latest $(cat "$P/latest")"

# tail -f follows new produce requests while seglogd holds the writer lock.
timeout 60 tail -n 0 -f "$P/data" >"$T/tail.out" 2>/dev/null &
TAILPID=$!
sleep 1.5 # let tail reach the end (the content check below waits with a bound)
seq 501 800 | sed 's/^/line /' >"$T/second.txt"
timeout 30 kcat -b "$B" -P -t live -p 0 <"$T/second.txt" || broker_fail "kcat -P (2)"
wait_same "$T/tail.out" "$T/second.txt" || broker_fail "tail -f did not show the new records"
kill "$TAILPID" 2>/dev/null || true
wait "$TAILPID" 2>/dev/null || true
TAILPID=

cat "$T/first.txt" "$T/second.txt" >"$T/all.txt"
wait_same "$P/data" "$T/all.txt" || broker_fail "data after the second produce"
[ "$(cat "$P/latest")" = 800 ] || broker_fail "latest after: $(cat "$P/latest")"

# The mount agrees with what kcat consumes from the broker.
timeout 30 kcat -b "$B" -C -t live -p 0 -o beginning -e -q -f '%o %s\n' >"$T/kcat.txt" ||
  broker_fail "kcat -C"
/usr/bin/python3 - "$P/records.jsonl" "$T/kcat.txt" <<'PYEOF' || broker_fail "records.jsonl differs from kcat"
import json, sys
mine = ["%d %s" % (o["offset"], o["payload"]) for o in map(json.loads, open(sys.argv[1]))]
theirs = open(sys.argv[2]).read().splitlines()
if mine != theirs:
    raise SystemExit("mount %d records, kcat %d" % (len(mine), len(theirs)))
PYEOF
[ "$(cat "$P/offsets/650")" = "line 651" ] || broker_fail "offsets/650: $(cat "$P/offsets/650")"

fusermount3 -u "$M"
for _ in $(seq 100); do kill -0 "$FSPID" 2>/dev/null || break; sleep 0.1; done
wait "$FSPID" || broker_fail "seglogfs exit status $?"
FSPID=
grep -q . "$T/fs.log" && { sed 's/^/fs.log: /' "$T/fs.log" >&2; broker_fail "seglogfs logged errors"; }
echo "PASS 0303"
