#!/usr/bin/env bash
# 0108: a full disk fails produce requests with KAFKA_STORAGE_ERROR (56), the
# broker keeps running, and when space returns (the tmpfs holding log.dirs is
# grown) producing works again and every acknowledged record is readable.
# Needs root to mount a small tmpfs; skipped otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }
mkdir -p "$T/mnt"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=3m tmpfs "$T/mnt" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs (needs root)"
  exit 77
fi
cleanup_mount() {
  local pid
  for pid in "${BROKER_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${BROKER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  umount "$T/mnt" 2>/dev/null || umount -l "$T/mnt" 2>/dev/null || true
  broker_cleanup
}
trap cleanup_mount EXIT

broker_start "$T/broker.log" --override "log.dirs=$T/mnt/data" \
  --override log.index.size.max.bytes=4096
timeout 120 "$BROKER_PY" "$here/lib/broker_disk_full.py" "$PORT" fill "$T/acked" ||
  { tail -20 "$T/broker.log" >&2; broker_fail "filling the disk"; }
kill -0 "$BROKER_PID" || broker_fail "broker died on a full disk"
mount -o remount,size=8m "$T/mnt" || broker_fail "cannot grow the tmpfs"
timeout 120 "$BROKER_PY" "$here/lib/broker_disk_full.py" "$PORT" resume "$T/acked" ||
  { tail -20 "$T/broker.log" >&2; broker_fail "after space returned"; }
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "SIGTERM exit status $EXIT_STATUS"
echo "PASS 0108"
