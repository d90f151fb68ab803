#!/usr/bin/env bash
# 0311: seglogfs stopped (SIGTERM) while files are still open, in both back
# ends: the kernel never sends RELEASE for those handles, so the daemon must
# free them itself.  It exits 0; under the sanitizer build a leaked handle
# makes LeakSanitizer abort it (exit 134), which this test would report.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
. "$here/lib/fuse_broker.sh"
fuse_init

# stop_with_open MOUNT LOG FILE...: hold FILEs open, SIGTERM the daemon, and
# require exit status 0.
stop_with_open() {
  local m=$1 log=$2 st=0 f
  shift 2
  for f in "$@"; do
    [ -e "$m/$f" ] || fuse_fail "$m/$f does not exist"
    (exec 3<"$m/$f" && sleep 30) &
    FUSE_EXTRA_PIDS+=("$!")
  done
  sleep 0.5 # the opens reach the daemon
  kill -TERM "$FSPID"
  for _ in $(seq 100); do kill -0 "$FSPID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$FSPID" 2>/dev/null && fuse_fail "seglogfs still running 10 s after SIGTERM"
  wait "$FSPID" || st=$?
  [ "$st" = 0 ] || fuse_fail "seglogfs exit status $st with open files ($log)"
  for f in "${FUSE_EXTRA_PIDS[@]}"; do kill "$f" 2>/dev/null || true; done
  FUSE_EXTRA_PIDS=()
  mountpoint -q "$m" && fusermount3 -u -z "$m" 2>/dev/null || true
}

# Offline: a log directory.
seq 1 1000 | "$SEGLOG" produce -d "$T/logs" -t t >/dev/null || fuse_fail "seglog produce"
fuse_mount "$T/m1" "$T/fs1.log" "$T/logs"
stop_with_open "$T/m1" "$T/fs1.log" t/0/data t/0/records.jsonl t/config
echo "offline: stopped cleanly with 3 files open"

# Broker mode.
broker_start "$T/broker.log"
seq 1 100 | "$SEGLOG" produce -b "127.0.0.1:$PORT" -t t -p 0 >/dev/null || fuse_fail "seglog produce -b"
fuse_mount "$T/m2" "$T/fs2.log" -b "127.0.0.1:$PORT"
stop_with_open "$T/m2" "$T/fs2.log" t/0/data t/0/latest t/config
echo "broker mode: stopped cleanly with 3 files open"
