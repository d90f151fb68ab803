#!/usr/bin/env bash
# 0304: seglogfs broker mode (-b) against seglogd, reading: the topic tree
# from metadata, data / records.jsonl byte for byte equal to `seglog consume
# -b -e` (and -J), jq over records.jsonl, data.lp and binary/null/empty
# values against what confluent-kafka produced, random preads, offsets/N,
# at/TIME (epoch ms and ISO 8601), earliest/latest, config from
# DescribeConfigs, sizes, ENOENT for unknown names.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
. "$here/lib/fuse_broker.sh"
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
fuse_init
PY=/usr/bin/python3

broker_start "$T/broker.log" --override num.partitions=3
B="127.0.0.1:$PORT"
TS0=1700000000000
# t: partition 0 holds 300 lines with timestamps TS0 + i*1000, partition 1
# special values (null, empty, binary, newline, keys, headers).
timeout 60 $PY - "$B" "$TS0" "$T" <<'PY' || fuse_fail "producing with confluent-kafka"
import sys, confluent_kafka as ck
b, ts0, tdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
p = ck.Producer({"bootstrap.servers": b, "acks": "all", "linger.ms": 5})
errs = []
def dr(err, msg):
    if err: errs.append(err)
for i in range(300):
    p.produce("t", value=b"line %d" % i, partition=0, timestamp=ts0 + i * 1000, on_delivery=dr)
special = [(None, b"k0", None), (b"", None, None), (bytes(range(256)), b"\xff\xfe", [("h", b"v")]),
           (b"two\nlines", b"k3", [("a", b"1"), ("b", None)]), (b"x" * 70000, None, None)]
for v, k, h in special:
    p.produce("t", value=v, key=k, partition=1, headers=h, on_delivery=dr)
p.flush(30)
if errs: raise SystemExit("delivery failed: %r" % errs)
lp = b""
for v, k, h in special:
    lp += (-1 if v is None else len(v)).to_bytes(4, "big", signed=True) + (v or b"")
open(tdir + "/exp1.lp", "wb").write(lp)
PY

M=$T/mnt
fuse_mount "$M" "$T/fs.log" -b "$B"
[ "$(ls "$M" | grep -v "^__")" = t ] || fuse_fail "ls: $(ls "$M")"
[ "$(ls "$M/t")" = "$(printf '0\n1\n2\nconfig')" ] || fuse_fail "ls t: $(ls "$M/t")"
[ "$(ls "$M/t/0")" = "$(printf 'at\ndata\ndata.lp\nearliest\nlatest\noffsets\nrecords.jsonl')" ] \
  || fuse_fail "ls t/0: $(ls "$M/t/0")"
P=$M/t/0
S() { timeout 60 "$SEGLOG" consume -b "$B" -t t "$@"; }

# data and records.jsonl: byte for byte what seglog consume -b writes
S -p 0 -e >"$T/c0.data"
cmp "$P/data" "$T/c0.data" || fuse_fail "t/0/data differs from seglog consume -e"
[ "$(stat -c %s "$P/data")" = "$(stat -c %s "$T/c0.data")" ] || fuse_fail "size of data"
S -p 0 -e -J >"$T/c0.jsonl"
cmp "$P/records.jsonl" "$T/c0.jsonl" || fuse_fail "records.jsonl differs from seglog consume -J"
[ "$(stat -c %s "$P/records.jsonl")" = "$(stat -c %s "$T/c0.jsonl")" ] || fuse_fail "size of records.jsonl"
S -p 1 -e >"$T/c1.data"
cmp "$M/t/1/data" "$T/c1.data" || fuse_fail "t/1/data (binary, null, newline) differs"
S -p 1 -e -J >"$T/c1.jsonl"
cmp "$M/t/1/records.jsonl" "$T/c1.jsonl" || fuse_fail "t/1/records.jsonl differs"
cmp "$M/t/1/data.lp" "$T/exp1.lp" || fuse_fail "t/1/data.lp differs"
[ "$(stat -c %s "$M/t/2/data")" = 0 ] || fuse_fail "empty partition size"
[ -z "$(cat "$M/t/2/data")" ] || fuse_fail "empty partition content"

# tools
[ "$(wc -l <"$P/data")" = 300 ] || fuse_fail "wc -l"
[ "$(grep -c 'line 2' "$P/data")" = 111 ] || fuse_fail "grep -c"
[ "$(jq -r .payload "$P/records.jsonl" | tail -n 1)" = "line 299" ] || fuse_fail "jq .payload"
[ "$(jq -s 'map(.offset) | add' "$P/records.jsonl")" = 44850 ] || fuse_fail "jq offsets"
[ "$(jq -r 'select(.offset == 3) | .key' "$M/t/1/records.jsonl")" = k3 ] || fuse_fail "jq key"
[ "$(jq -c 'select(.offset == 3) | .headers' "$M/t/1/records.jsonl")" = '["a","1","b",null]' ] \
  || fuse_fail "jq headers"
[ "$(tail -n 2 "$P/data")" = "$(printf 'line 298\nline 299')" ] || fuse_fail "tail -n 2"
[ "$(head -c 14 "$P/data.lp" | od -An -tx1 | tr -d ' \n')" = "000000066c696e65203000000006" ] \
  || fuse_fail "data.lp head"

# random and backward preads against the file consume wrote
$PY - "$P/records.jsonl" "$T/c0.jsonl" "$M/t/1/data" "$T/c1.data" <<'PY' || fuse_fail "preads"
import os, random, sys
rnd = random.Random(6)
for path, ref in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    want = open(ref, "rb").read()
    fd = os.open(path, os.O_RDONLY)
    for _ in range(60):
        off = rnd.randrange(0, len(want) + 10)
        n = rnd.choice([1, 7, 100, 4096, 70000])
        got = os.pread(fd, n, off)
        if got != want[off:off + n]:
            raise SystemExit("%s: pread(%d, %d) differs" % (path, n, off))
    os.close(fd)
PY

# offsets/N, at/TIME, earliest, latest
[ "$(cat "$P/offsets/17")" = "line 17" ] || fuse_fail "offsets/17"
[ "$(stat -c %s "$P/offsets/17")" = 7 ] || fuse_fail "offsets/17 size"
cmp <(cat "$M/t/1/offsets/2") <($PY -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))') \
  || fuse_fail "binary offsets/2"
[ "$(stat -c %s "$M/t/1/offsets/0")" = 0 ] || fuse_fail "null value offsets/0"
[ "$(fuse_errno cat "$P/offsets/300")" = "No such file or directory" ] || fuse_fail "offsets/300"
[ "$(cat "$P/earliest")" = 0 ] || fuse_fail "earliest"
[ "$(cat "$P/latest")" = 300 ] || fuse_fail "latest $(cat "$P/latest")"
[ "$(head -n 1 "$P/at/$((TS0 + 250500))/data")" = "line 251" ] || fuse_fail "at/ms"
[ "$(wc -l <"$P/at/$((TS0 + 250500))/data")" = 49 ] || fuse_fail "at/ms count"
[ "$(head -n 1 "$P/at/2023-11-14T22:13:30Z/data")" = "line 10" ] || fuse_fail "at/ISO (TS0 is 22:13:20Z)"
[ "$(head -n 1 "$P/at/2023-11-14T23:13:30+01:00/data")" = "line 10" ] || fuse_fail "at/ISO zone"
[ "$(jq -r .offset "$P/at/$((TS0 + 299000))/records.jsonl")" = 299 ] || fuse_fail "at/ jsonl"
[ "$(stat -c %s "$P/at/2030-01-01/data")" = 0 ] || fuse_fail "at/ future"

# config (DescribeConfigs)
grep -qx 'cleanup.policy=delete' "$M/t/config" || fuse_fail "config: $(cat "$M/t/config")"
grep -q '^retention.ms=' "$M/t/config" || fuse_fail "config retention.ms"
[ "$(stat -c %s "$M/t/config")" = "$(wc -c <"$M/t/config")" ] || fuse_fail "config size"

# unknown names
for f in "$M/nosuch" "$M/t/3" "$M/t/0/nosuch" "$M/t/0/segments" "$M/t/0/at/yesterday/data" "$M/t/0/offsets/x"; do
  [ "$(fuse_errno stat "$f")" = "No such file or directory" ] || fuse_fail "stat $f: $(fuse_errno stat "$f")"
done
# inode numbers are the offline mode's (path hashes): stable across mounts
ino=$(stat -c %i "$P/data")
fuse_umount "$M" "$FSPID"
fuse_mount "$M" "$T/fs2.log" -b "$B"
[ "$(stat -c %i "$P/data")" = "$ino" ] || fuse_fail "inode changed across mounts"
fuse_umount "$M" "$FSPID"
echo OK
