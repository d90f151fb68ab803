#!/usr/bin/env bash
# 0305: appending through seglogfs broker mode: `echo >> data` produces one
# record per line that kcat then reads; a write() returns only once its
# records are acknowledged (another client sees them at once), the
# unterminated tail is produced by fsync() and close(); `>` (truncate) and
# writes to other files are refused; a failed delivery (broker stopped)
# makes write() and close() fail with EIO and a logged reason; -o ro gives
# EROFS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
. "$here/lib/fuse_broker.sh"
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
fuse_init
PY=/usr/bin/python3

broker_start "$T/broker.log" --override num.partitions=2
B="127.0.0.1:$PORT"
timeout 30 kcat -b "$B" -P -t w -p 0 <<<"first" || fuse_fail "kcat -P"
M=$T/mnt
fuse_mount "$M" "$T/fs.log" -b "$B" -o delivery_timeout=3000
P=$M/w/0
K() { timeout 30 kcat -b "$B" -C -t w -e -q "$@"; }

echo "hello" >>"$P/data" || fuse_fail "echo >> data"
printf 'a\nb\n\nc' >>"$P/data" || fuse_fail "printf >> data"
[ "$(K -p 0)" = "$(printf 'first\nhello\na\nb\n\nc')" ] || fuse_fail "kcat reads: $(K -p 0)"
seq 1 20000 >>"$M/w/1/data" || fuse_fail "seq >> data"
cmp <(K -p 1) <(seq 1 20000) || fuse_fail "20000 lines in partition 1"
[ "$(cat "$M/w/1/latest")" = 20000 ] || fuse_fail "latest after append"
cmp "$M/w/1/data" <(seq 1 20000) || fuse_fail "the mount reads back what it wrote"

# write() returns after the acknowledgement: another client sees the record
# at once (no waiting); a partial line goes out on fsync and on close.
timeout 60 $PY - "$P/data" "$B" "$SEGLOG" <<'PY' || fuse_fail "write/fsync/close semantics"
import os, subprocess, sys
path, b, seglog = sys.argv[1:4]
def latest():
    out = subprocess.run([seglog, "offsets", "-b", b, "-t", "w", "-p", "0"],
                         capture_output=True, check=True, timeout=30).stdout.decode()
    return int(out.split("\n")[1].split()[3])
def tail():
    return subprocess.run(["kcat", "-b", b, "-C", "-t", "w", "-p", "0", "-o", "-1", "-e", "-q"],
                          capture_output=True, check=True, timeout=30).stdout
n0 = latest()
fd = os.open(path, os.O_WRONLY | os.O_APPEND)
assert os.write(fd, b"x1\nx2\n") == 6
if latest() != n0 + 2: raise SystemExit("after write: latest %d, want %d" % (latest(), n0 + 2))
# (a partial line is produced when any copy of the descriptor is closed, as
# a child's exec does: no subprocess while one is pending)
assert os.write(fd, b"part") == 4
os.fsync(fd)
if latest() != n0 + 3 or tail() != b"part\n": raise SystemExit("after fsync: %d %r" % (latest(), tail()))
assert os.write(fd, b"tail") == 4
os.close(fd)
if latest() != n0 + 4 or tail() != b"tail\n": raise SystemExit("after close: %d %r" % (latest(), tail()))
PY
K -p 0 -o -6 -f '%s\n' >"$T/last6"
[ "$(cat "$T/last6")" = "$(printf 'b\n\nc\nx1\nx2\npart\ntail' | tail -n 6)" ] || fuse_fail "records: $(cat "$T/last6")"

# refused: truncation, other files, files outside the tree
[ "$(fuse_errno sh -c "echo x > '$P/data'")" = "Operation not permitted" ] || fuse_fail "> data"
[ "$(fuse_errno sh -c "echo x >> '$P/data.lp'")" = "Permission denied" ] || fuse_fail ">> data.lp"
[ "$(fuse_errno sh -c "echo x >> '$P/at/0/data'")" = "Permission denied" ] || fuse_fail ">> at/0/data"
[ "$(fuse_errno sh -c "echo x >> '$P/newfile'")" = "Permission denied" ] || fuse_fail ">> newfile"
[ "$(fuse_errno rm "$P/data")" = "Permission denied" ] || fuse_fail "rm data"

# a failed delivery: the broker is stopped (SIGSTOP) after the file was
# opened; write and close return EIO within the delivery timeout
timeout 120 $PY - "$P/data" "$BROKER_PID" <<'PY' || { kill -CONT "$BROKER_PID"; fuse_fail "EIO on failed delivery"; }
import errno, os, signal, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.kill(int(sys.argv[2]), signal.SIGSTOP)
t0 = time.monotonic()
try:
    os.write(fd, b"lost\n")
    raise SystemExit("write succeeded with the broker stopped")
except OSError as e:
    if e.errno != errno.EIO: raise SystemExit("write: %r" % e)
os.write(fd, b"tail without newline")  # buffered: nothing to deliver yet
try:
    os.close(fd)
    raise SystemExit("close succeeded with the broker stopped")
except OSError as e:
    if e.errno != errno.EIO: raise SystemExit("close: %r" % e)
print("EIO after %.1f s" % (time.monotonic() - t0))
PY
kill -CONT "$BROKER_PID"
grep -q "were not delivered" "$T/fs.log" || fuse_fail "no log line for the failed delivery"
echo "after" >>"$P/data" || fuse_fail "append after the broker came back"
K -p 0 -o -1 -f '%s\n' | grep -qx after || fuse_fail "record after recovery"
fuse_umount "$M" "$FSPID"

# -o ro: EROFS for writes and mkdir
fuse_mount "$M" "$T/fs.ro.log" -b "$B" -o ro
[ "$(fuse_errno sh -c "echo x >> '$P/data'")" = "Read-only file system" ] || fuse_fail "ro: >> data"
[ "$(fuse_errno mkdir "$M/newtopic")" = "Read-only file system" ] || fuse_fail "ro: mkdir"
[ "$(stat -c %A "$P/data")" = "-r--r--r--" ] || fuse_fail "ro: mode $(stat -c %A "$P/data")"
fuse_umount "$M" "$FSPID"
echo OK
