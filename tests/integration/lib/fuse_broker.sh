# Shell helpers for the seglogfs broker-mode tests (tests/integration/03NN-fuse-*).
# Source after lib/broker.sh; needs SEGLOG_BUILD.  fuse_init skips (77) when a
# facility is missing and installs an EXIT trap that unmounts every mount made
# by fuse_mount, kills what it started and then runs broker_cleanup.

FS=${SEGLOG_BUILD:?}/fuse/seglogfs
SEGLOG=$SEGLOG_BUILD/kcat-tools/seglog
FUSE_MOUNTS=()
FUSE_PIDS=()
FUSE_EXTRA_PIDS=()

fuse_init() {
  [ -e /dev/fuse ] || { echo "SKIP: /dev/fuse is missing"; exit 77; }
  command -v fusermount3 >/dev/null || { echo "SKIP: fusermount3 is not installed"; exit 77; }
  [ -x "$FS" ] || { echo "SKIP: seglogfs was not built (no libfuse3 or librdkafka)"; exit 77; }
  broker_init
  trap fuse_cleanup EXIT
}

fuse_cleanup() {
  local p m
  for p in "${FUSE_EXTRA_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for m in "${FUSE_MOUNTS[@]}"; do
    mountpoint -q "$m" 2>/dev/null && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
  done
  for p in "${FUSE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${FUSE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  broker_cleanup
}

fuse_fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$T"/fs*.log; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" >&2; done
  exit 1
}

# fuse_mount MOUNTPOINT LOG ARGS...: seglogfs -f ARGS MOUNTPOINT in the
# background; waits (bounded) for the mount.  Sets FSPID.
fuse_mount() {
  local m=$1 log=$2
  shift 2
  mkdir -p "$m"
  "$FS" -f "$@" "$m" 2>"$log" &
  FSPID=$!
  FUSE_PIDS+=("$FSPID")
  FUSE_MOUNTS+=("$m")
  for _ in $(seq 150); do mountpoint -q "$m" && return 0; kill -0 "$FSPID" 2>/dev/null || break; sleep 0.1; done
  fuse_fail "seglogfs $* $m did not mount"
}

# fuse_umount MOUNTPOINT PID: fusermount3 -u, then the process must exit 0.
fuse_umount() {
  local m=$1 pid=$2 st=0
  fusermount3 -u "$m" || fuse_fail "fusermount3 -u $m"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fuse_fail "seglogfs $pid still running after unmount"
  wait "$pid" || st=$?
  [ "$st" = 0 ] || fuse_fail "seglogfs exit status $st"
}

# fuse_errno CMD...: runs CMD (expected to fail) and prints its stderr's last
# `: <strerror>` part, e.g. "Operation not permitted".
fuse_errno() {
  local out
  out=$("$@" 2>&1 >/dev/null) && { echo "SUCCEEDED"; return 0; }
  echo "${out##*: }"
}
