#!/usr/bin/env bash
# 0307: several readers of one partition in parallel through seglogfs broker
# mode (cat data twice, data.lp, records.jsonl, tail -f) while a writer
# appends rounds of lines with `>>` through the same mount and kcat appends
# to the same partition from outside: every snapshot is a whole number of
# records and a prefix of the final partition, records.jsonl offsets are
# consecutive, and at the end every reader and tail -f see every record.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
. "$here/lib/fuse_broker.sh"
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
fuse_init
PY=/usr/bin/python3

broker_start "$T/broker.log" --override num.partitions=1
B="127.0.0.1:$PORT"
seq 1 200 | sed 's/^/seed /' | timeout 30 kcat -b "$B" -P -t busy -p 0 || fuse_fail "kcat -P"
M=$T/mnt
fuse_mount "$M" "$T/fs.log" -b "$B"
P=$M/busy/0
mkdir -p "$T/snap"
ROUNDS=10

timeout 120 tail -c +1 -f "$P/data" >"$T/tail.out" 2>/dev/null &
TAILPID=$!
FUSE_EXTRA_PIDS+=("$TAILPID")
(
  for r in $(seq 1 $ROUNDS); do
    seq 1 150 | sed "s/^/mount $r /" >>"$P/data" || { echo "round $r" >"$T/writer.err"; break; }
    seq 1 50 | sed "s/^/kcat $r /" | timeout 30 kcat -b "$B" -P -t busy -p 0 || { echo "kcat $r" >"$T/writer.err"; break; }
  done
  touch "$T/writer.done"
) &
WPID=$!
FUSE_EXTRA_PIDS+=("$WPID")

reader() {
  local id=$1 view=$2 n=0
  while [ ! -e "$T/writer.done" ] && [ $n -lt 100 ]; do
    timeout 60 cat "$P/$view" >"$T/snap/$view.$id.$n" || { echo "reader $id: cat failed" >"$T/snap/ERR.$id"; return; }
    n=$((n + 1))
  done
}
RPIDS=()
for id in 1 2; do reader $id data & RPIDS+=($!); done
reader 3 data.lp & RPIDS+=($!)
reader 4 records.jsonl & RPIDS+=($!)
FUSE_EXTRA_PIDS+=("${RPIDS[@]}")
for p in "${RPIDS[@]}"; do wait "$p"; done
wait "$WPID" || true
[ -e "$T/writer.done" ] || fuse_fail "the writer did not finish"
[ -e "$T/writer.err" ] && fuse_fail "writer: $(cat "$T/writer.err")"
ls "$T/snap"/ERR.* >/dev/null 2>&1 && fuse_fail "$(cat "$T"/snap/ERR.*)"
nsnap=$(ls "$T/snap" | wc -l)
[ "$nsnap" -ge 4 ] || fuse_fail "only $nsnap snapshots"

timeout 60 kcat -b "$B" -C -t busy -p 0 -e -q >"$T/final.data" || fuse_fail "kcat -C"
[ "$(wc -l <"$T/final.data")" = $((200 + ROUNDS * 200)) ] || fuse_fail "kcat sees $(wc -l <"$T/final.data") records"
timeout 60 $PY - "$T/final.data" "$T/snap" <<'PY' || fuse_fail "snapshots"
import glob, json, os, sys
final = open(sys.argv[1], "rb").read()
lines = final.split(b"\n")[:-1]
lp = b"".join(len(l).to_bytes(4, "big") + l for l in lines)
for f in sorted(glob.glob(sys.argv[2] + "/*")):
    s = open(f, "rb").read()
    name = os.path.basename(f)
    if name.startswith("data.lp."):
        if not lp.startswith(s): raise SystemExit("%s is not a prefix" % name)
        pos = 0
        while pos < len(s):
            pos += 4 + int.from_bytes(s[pos:pos + 4], "big")
        if pos != len(s): raise SystemExit("%s ends inside a record" % name)
    elif name.startswith("data."):
        if not final.startswith(s) or (s and not s.endswith(b"\n")):
            raise SystemExit("%s is not a whole prefix" % name)
    else:
        recs = [json.loads(l) for l in s.split(b"\n")[:-1]]
        if [r["offset"] for r in recs] != list(range(len(recs))):
            raise SystemExit("%s: offsets not consecutive" % name)
        if [r["payload"].encode() for r in recs] != lines[:len(recs)]:
            raise SystemExit("%s: payloads differ" % name)
PY
FPIDS=()
for id in 1 2 3; do timeout 60 cat "$P/data" >"$T/final.$id" & FPIDS+=($!); done
for p in "${FPIDS[@]}"; do wait "$p" || fuse_fail "final cat failed"; done
for id in 1 2 3; do cmp "$T/final.$id" "$T/final.data" || fuse_fail "final read $id"; done
for _ in $(seq 300); do cmp -s "$T/tail.out" "$T/final.data" && break; sleep 0.1; done
cmp "$T/tail.out" "$T/final.data" || fuse_fail "tail -f output differs"
kill "$TAILPID" 2>/dev/null || true
wait "$TAILPID" 2>/dev/null || true
fuse_umount "$M" "$FSPID"
echo "OK ($nsnap snapshots)"
