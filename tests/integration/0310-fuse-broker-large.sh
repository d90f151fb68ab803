#!/usr/bin/env bash
# 0310: broker mode, a partition too large to count within -o size_wait=1:
# the first stat of data answers with a lower bound, `cat data` is complete
# from the first open and equals `seglog consume -b -e`, the background
# count brings data and records.jsonl to their exact sizes without further
# stats forcing it, and tail -n and preads then agree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
. "$here/lib/fuse_broker.sh"
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
fuse_init
PY=/usr/bin/python3

broker_start "$T/broker.log" --override num.partitions=1
B="127.0.0.1:$PORT"
seq 1 200000 | sed 's/$/ padding padding padding/' >"$T/lines"
timeout 120 kcat -b "$B" -P -t big -p 0 -X linger.ms=20 -l "$T/lines" || fuse_fail "kcat -P"
want=$(stat -c %s "$T/lines")
M=$T/mnt
fuse_mount "$M" "$T/fs.log" -b "$B" -o size_wait=1
P=$M/big/0
first=$(stat -c %s "$P/data")
[ "$first" -le "$want" ] || fuse_fail "first stat $first > real size $want"
cmp "$P/data" "$T/lines" || fuse_fail "cat data differs"
timeout 60 "$SEGLOG" consume -b "$B" -t big -p 0 -e -J >"$T/want.jsonl"
wantj=$(stat -c %s "$T/want.jsonl")
for _ in $(seq 300); do
  [ "$(stat -c %s "$P/data")" = "$want" ] && [ "$(stat -c %s "$P/records.jsonl")" = "$wantj" ] && break
  sleep 0.1
done
[ "$(stat -c %s "$P/data")" = "$want" ] || fuse_fail "data size $(stat -c %s "$P/data") != $want"
[ "$(stat -c %s "$P/records.jsonl")" = "$wantj" ] || fuse_fail "records.jsonl size != $wantj"
cmp "$P/records.jsonl" "$T/want.jsonl" || fuse_fail "records.jsonl differs from seglog consume -J"
[ "$(tail -n 1 "$P/data")" = "200000 padding padding padding" ] || fuse_fail "tail -n 1"
$PY - "$P/data" "$T/lines" <<'PY' || fuse_fail "preads"
import os, random, sys
want = open(sys.argv[2], "rb").read()
fd = os.open(sys.argv[1], os.O_RDONLY)
rnd = random.Random(10)
for _ in range(50):
    off = rnd.randrange(0, len(want))
    n = rnd.choice([1, 100, 5000, 200000])
    if os.pread(fd, n, off) != want[off:off + n]:
        raise SystemExit("pread(%d, %d)" % (n, off))
PY
echo "first stat: $first of $want bytes"
fuse_umount "$M" "$FSPID"
echo OK
