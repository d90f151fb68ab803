#!/usr/bin/env bash
# 0312: the offline mount reads segments through mappings; a segment that
# another process truncates while a reader has it open (and the mount has it
# mapped) must fail that read with EIO and a log line naming the segment -
# never a SIGBUS crash - while the mount keeps serving every other file.
# Two partitions are cut under two readers at once (FUSE serves them on
# several threads: the guard is per thread), then a third partition, the
# listing and a fresh open of a cut one (the records left, as `seglog
# consume` prints them) are checked, and the mount must
# unmount cleanly.  The mirror of 0230 for `seglog consume`.
set -euo pipefail
B=${SEGLOG_BUILD:?}
[ -e /dev/fuse ] || { echo "SKIP: /dev/fuse is missing"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: fusermount3 is not installed"; exit 77; }
FS=$B/fuse/seglogfs
SLTOOL=$B/tests/sltool
S=$B/kcat-tools/seglog
[ -x "$FS" ] || { echo "SKIP: seglogfs was not built (no libfuse3 or librdkafka)"; exit 77; }
[ -x "$SLTOOL" ] || { echo "FAIL: $SLTOOL is not built" >&2; exit 1; }
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
PY=/usr/bin/python3
T=$(mktemp -d)
M=$T/mnt
FSPID=
cleanup() {
  mountpoint -q "$M" 2>/dev/null && { fusermount3 -u "$M" 2>/dev/null || umount -l "$M" 2>/dev/null || true; }
  [ -n "$FSPID" ] && kill "$FSPID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/fs.log" ] && sed 's/^/  fs.log: /' "$T/fs.log" >&2; exit 1; }

# Three partitions of 3,000 records of 1 KiB in segments of about 1 MB; the
# data view of each is written to want-<topic> for comparison.
$PY - "$T" <<'PY'
import base64, json, sys
d = sys.argv[1]
for topic in ("a", "b", "c"):
    with open("%s/in-%s.jsonl" % (d, topic), "w") as f, open("%s/want-%s" % (d, topic), "wb") as w:
        for i in range(3000):
            if i % 100 == 0:
                f.write(json.dumps({"batch": {}}) + "\n")
            v = b"%s-%06d-" % (topic.encode(), i) + b"v" * 1000
            f.write(json.dumps({"timestamp": 1700000000000 + i, "key": None,
                                "value": base64.b64encode(v).decode(), "headers": []}) + "\n")
            w.write(v + b"\n")
PY
mkdir -p "$T/logs"
for t in a b c; do
  timeout 60 "$SLTOOL" append --config segment.bytes=1000000 "$T/logs/$t-0" <"$T/in-$t.jsonl" >/dev/null ||
    fail "sltool append $t"
done
[ "$(ls "$T/logs/a-0" | grep -c '\.log$')" -ge 3 ] || fail "want several segments"

mkdir -p "$M"
"$FS" -f "$T/logs" "$M" 2>>"$T/fs.log" &
FSPID=$!
for _ in $(seq 100); do mountpoint -q "$M" && break; sleep 0.1; done
mountpoint -q "$M" || fail "not mounted"

# Each reader reads the first 64 KiB (the mount maps the first segment),
# waits until both have, the first segment is cut to 4 KiB, then reads on
# from inside the cut part of the mapping.
$PY - "$M" "$T" <<'PY' || fail "readers"
import errno, os, sys, threading
m, t = sys.argv[1], sys.argv[2]
got, errs = {}, {}
first_done = threading.Barrier(3)
cut_done = threading.Barrier(3)

def reader(topic):
    fd = os.open("%s/%s/0/data" % (m, topic), os.O_RDONLY)
    try:
        got[topic] = os.read(fd, 65536)
        first_done.wait(timeout=30)
        cut_done.wait(timeout=30)
        try:
            os.read(fd, 65536)
            errs[topic] = None
        except OSError as e:
            errs[topic] = e.errno
    finally:
        os.close(fd)

ths = [threading.Thread(target=reader, args=(x,)) for x in ("a", "b")]
for th in ths:
    th.start()
first_done.wait(timeout=30)
for topic in ("a", "b"):
    segs = sorted(x for x in os.listdir("%s/logs/%s-0" % (t, topic)) if x.endswith(".log"))
    os.truncate("%s/logs/%s-0/%s" % (t, topic, segs[0]), 4096)
cut_done.wait(timeout=30)
for th in ths:
    th.join(timeout=60)
for topic in ("a", "b"):
    want = open("%s/want-%s" % (t, topic), "rb").read(65536)
    if got.get(topic) != want:
        sys.exit("FAIL: the first 64 KiB of %s/0/data differ" % topic)
    if errs.get(topic) != errno.EIO:
        sys.exit("FAIL: %s: the read after the cut gave %r, want EIO" % (topic, errs.get(topic)))
print("ok: both readers got EIO after the cut")
PY

kill -0 "$FSPID" 2>/dev/null || fail "seglogfs died"
for t in a b; do
  grep -q "$t-0: segment 0*\.log was truncated under the mapped read" "$T/fs.log" ||
    fail "no log line for the truncation of $t-0"
done
# The mount serves on: another partition, the listing, segments/ of a cut one.
cmp "$M/c/0/data" "$T/want-c" || fail "c/0/data after the truncation"
[ "$(ls "$M" | tr '\n' ' ')" = "a b c " ] || fail "listing: $(ls "$M")"
[ "$(stat -c %s "$M/a/0/segments/00000000000000000000.log")" = 4096 ] || fail "segments/ size"
# A fresh open of a cut partition shows the log as it now is (the records
# of the lost bytes are gone), the same records `seglog consume` prints.
"$S" consume -d "$T/logs" -t a -p 0 -e -f '%s\n' >"$T/now-a" || fail "seglog consume of the cut log"
cmp "$M/a/0/data" "$T/now-a" || fail "a/0/data after the cut differs from seglog consume"
[ "$(stat -c %s "$M/a/0/data")" = "$(stat -c %s "$T/now-a")" ] || fail "a/0/data size after the cut"
kill -0 "$FSPID" 2>/dev/null || fail "seglogfs died"
cmp "$M/c/0/data" "$T/want-c" || fail "c/0/data at the end"

fusermount3 -u "$M" || fail "fusermount3 -u"
for _ in $(seq 100); do kill -0 "$FSPID" 2>/dev/null || break; sleep 0.1; done
wait "$FSPID" || fail "seglogfs exit status $?"
FSPID=
echo "ok: EIO and a log line per cut segment, the mount served on and unmounted cleanly"
