#!/usr/bin/env bash
# 0230: offline `seglog consume` maps segment files; a segment that another
# process truncates while it is being read must give a clear error, exit 1
# and only whole records on stdout - never a SIGBUS crash.  The consumer is
# held mid-slice by a full stdout pipe, the segment is cut, then the pipe is
# drained.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 - "$tmp/lines" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(6000):
        f.write(b"%06d-" % i + b"v" * 1000 + b"\n")
PY
"$S" produce -d "$tmp/logs" -t t < "$tmp/lines"
seg=$(ls "$tmp"/logs/t-0/*.log)

/usr/bin/python3 - "$S" "$tmp/logs" "$seg" "$tmp/lines" <<'PY'
import os, subprocess, sys, time
seglog, logs, seg, lines = sys.argv[1:5]
p = subprocess.Popen([seglog, "consume", "-d", logs, "-t", "t", "-e"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
# Wait until it blocks writing to the full pipe (it is then inside a mapped
# slice: the slice is 6 MB, the output buffer 1 MiB).
deadline = time.time() + 30
while True:
    with open("/proc/%d/wchan" % p.pid) as f:
        wchan = f.read()
    if "pipe" in wchan:
        break
    if p.poll() is not None or time.time() > deadline:
        sys.exit("FAIL: consume never blocked on its stdout pipe (wchan %r)" % wchan)
    time.sleep(0.02)
os.truncate(seg, 4096)
out, err = p.communicate(timeout=60)
if p.returncode != 1:
    sys.exit("FAIL: exit %d, want 1; stderr: %r" % (p.returncode, err[-300:]))
if b"truncated while being read" not in err:
    sys.exit("FAIL: no truncation message: %r" % err[-300:])
want = open(lines, "rb").read()
if not out.endswith(b"\n") or not want.startswith(out) or len(out) == 0:
    sys.exit("FAIL: stdout is not a prefix of whole input lines (%d bytes)" % len(out))
print("ok: %d whole records printed before the truncation was reported" %
      out.count(b"\n"))
PY
