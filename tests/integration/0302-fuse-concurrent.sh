#!/usr/bin/env bash
# 0302: several readers of one partition in parallel (cat data, cat data.lp,
# records.jsonl, tail -f) while sltool appends to it: every snapshot a reader
# takes is exactly the rendering of the first k records for some k, and once
# the writer is done every reader sees all records.
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
  mountpoint -q "$M" 2>/dev/null && { fusermount3 -u "$M" 2>/dev/null || umount -l "$M" 2>/dev/null || true; }
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/fs.log" ] && sed 's/^/  fs.log: /' "$T/fs.log" >&2; exit 1; }

L=$T/logs
mkdir -p "$L" "$M" "$T/snap"
TS0=1700000000000
ROUNDS=12
PER=120
$H gen $PER 0 $TS0 >"$T/in0.jsonl"
timeout 60 "$SLTOOL" append --config segment.bytes=40000 "$L/busy-0" <"$T/in0.jsonl" >/dev/null
for r in $(seq 1 $ROUNDS); do
  $H gen $PER $((r * PER)) $TS0 >"$T/in$r.jsonl"
done
INS=()
for r in $(seq 0 $ROUNDS); do INS+=("$T/in$r.jsonl"); done

"$FS" -f "$L" "$M" 2>"$T/fs.log" &
FSPID=$!
PIDS+=("$FSPID")
for _ in $(seq 100); do mountpoint -q "$M" && break; sleep 0.1; done
mountpoint -q "$M" || fail "not mounted"
P=$M/busy/0

# The writer: one sltool append per round (each takes and drops the lock).
(
  for r in $(seq 1 $ROUNDS); do
    timeout 60 "$SLTOOL" append --config segment.bytes=40000 "$L/busy-0" <"$T/in$r.jsonl" >/dev/null
  done
  touch "$T/writer.done"
) &
WPID=$!
PIDS+=("$WPID")

timeout 120 tail -c +1 -f "$P/data" >"$T/tail.out" 2>/dev/null &
TAILPID=$!
PIDS+=("$TAILPID")

# Readers: snapshots until the writer is done.
reader() {
  local id=$1 view=$2 n=0
  while [ ! -e "$T/writer.done" ] && [ $n -lt 200 ]; do
    timeout 30 cat "$P/$view" >"$T/snap/$view.$id.$n" || { echo "reader $id: cat failed" >"$T/snap/ERR.$id"; return; }
    n=$((n + 1))
  done
}
RPIDS=()
for id in 1 2; do reader $id data & RPIDS+=($!); done
reader 3 data.lp & RPIDS+=($!)
reader 4 records.jsonl & RPIDS+=($!)
PIDS+=("${RPIDS[@]}")
for p in "${RPIDS[@]}"; do wait "$p"; done
for _ in $(seq 600); do [ -e "$T/writer.done" ] && break; sleep 0.1; done
[ -e "$T/writer.done" ] || fail "writer did not finish"
ls "$T/snap"/ERR.* >/dev/null 2>&1 && fail "$(cat "$T"/snap/ERR.*)"
nsnap=$(ls "$T/snap" | wc -l)
[ "$nsnap" -ge 4 ] || fail "only $nsnap snapshots"

$H prefix data "$T"/snap/data.[0-9]* -- "${INS[@]}" || fail "a data snapshot is not a prefix"
$H prefix data.lp "$T"/snap/data.lp.* -- "${INS[@]}" || fail "a data.lp snapshot is not a prefix"
for f in "$T"/snap/records.jsonl.*; do
  $PY - "$f" <<'PYEOF' || fail "records.jsonl snapshot $f"
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
if lines[-1] != b"":
    raise SystemExit("no trailing newline: %r" % lines[-1][-200:])
offs = [json.loads(l)["offset"] for l in lines[:-1]]
if offs != list(range(len(offs))):
    bad = next(i for i, o in enumerate(offs) if o != i)
    raise SystemExit("offset %d at line %d (of %d)" % (offs[bad], bad, len(offs)))
PYEOF
done

# After the writer: everyone sees everything.
$H expect data "${INS[@]}" >"$T/exp.data"
$H expect data.lp "${INS[@]}" >"$T/exp.lp"
FPIDS=()
for id in 1 2 3 4; do
  timeout 30 cat "$P/data" >"$T/final.$id" &
  FPIDS+=($!)
done
for p in "${FPIDS[@]}"; do wait "$p" || fail "final cat failed"; done
for id in 1 2 3 4; do cmp "$T/final.$id" "$T/exp.data" || fail "final read $id"; done
cmp "$P/data.lp" "$T/exp.lp" || fail "final data.lp"
$H check-jsonl busy 0 "$P/records.jsonl" "${INS[@]}" || fail "final records.jsonl"
for _ in $(seq 300); do cmp -s "$T/tail.out" "$T/exp.data" && break; sleep 0.1; done
cmp "$T/tail.out" "$T/exp.data" || fail "tail -f output differs"
[ "$(cat "$P/latest")" = $(((ROUNDS + 1) * PER)) ] || fail "latest $(cat "$P/latest")"
kill "$TAILPID" 2>/dev/null || true
wait "$TAILPID" 2>/dev/null || true
fusermount3 -u "$M"
for _ in $(seq 100); do kill -0 "$FSPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$FSPID" 2>/dev/null && fail "seglogfs still running"
wait "$FSPID" || fail "seglogfs exit status $?"
echo "OK ($nsnap snapshots)"
