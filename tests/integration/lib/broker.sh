# Shell helpers for the seglogd integration tests (tests/integration/01NN-broker-*).
# Source after `set -euo pipefail`; needs SEGLOG_BUILD.  Every wait has a timeout,
# every broker started here is killed when the test exits (broker_cleanup runs
# from the EXIT trap that broker_init installs).

BROKER_PY=/usr/bin/python3
SEGLOGD="${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}/brokerd/seglogd"
BROKER_PIDS=()

broker_fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# broker_init: skip (77) when seglogd is not built; make $T (temp dir); set the trap.
broker_init() {
  if [ ! -x "$SEGLOGD" ]; then
    echo "SKIP: $SEGLOGD is not built"
    exit 77
  fi
  T=$(mktemp -d)
  trap broker_cleanup EXIT
}

broker_cleanup() {
  local pid
  for pid in "${BROKER_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$T"
}

# broker_free_port: prints a loopback TCP port that was free a moment ago.
broker_free_port() {
  "$BROKER_PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# broker_free_ports N: prints N distinct loopback ports, free a moment ago
# (all bound at once: two single picks in a row may return the same port).
# Only for a broker that must come back on the same port; broker_start does
# without.
broker_free_ports() {
  "$BROKER_PY" - "$1" <<'PY'
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
for s in ss:
    s.close()
PY
}

# broker_wait_port PORT [SECONDS]: waits until something accepts on PORT.
broker_wait_port() {
  local port=$1 secs=${2:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    if "$BROKER_PY" -c 'import socket, sys
s = socket.socket(); s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$port"; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# broker_start LOG [ARGS...]: starts seglogd with log.dirs=$T/data unless ARGS
# set it; stderr goes to LOG.  Sets BROKER_PID, PORT, METRICS_PORT.  Both
# listeners bind port 0 and the ports are read from seglogd's own "listening
# on" / "metrics on" lines: a port picked free beforehand can be taken by
# another test's connection before seglogd binds it, and a wait on the port
# would then talk to whoever holds it.  ARGS that raise log.level above info
# hide those lines: then the ports are picked beforehand after all.
broker_start() {
  local log=$1 a quiet=0 i
  shift
  for a in "$@"; do
    case $a in log.level=[wW]* | log.level=[eE]*) quiet=1 ;; esac
  done
  if [ $quiet = 1 ]; then
    read -r PORT METRICS_PORT < <(broker_free_ports 2)
  else
    PORT=0
    METRICS_PORT=0
  fi
  "$SEGLOGD" --override "listeners=PLAINTEXT://127.0.0.1:$PORT" \
    --override "metrics.listener=127.0.0.1:$METRICS_PORT" \
    --override "log.dirs=$T/data" "$@" 2>"$log" &
  BROKER_PID=$!
  BROKER_PIDS+=("$BROKER_PID")
  if [ $quiet = 1 ]; then
    broker_wait_port "$PORT" 30 && kill -0 "$BROKER_PID" 2>/dev/null && return 0
    cat "$log" >&2
    broker_fail "seglogd did not start listening on $PORT"
  fi
  # "metrics on" comes after the Kafka listener's line (main.c).
  for ((i = 0; i < 600; i++)); do
    grep -q ' metrics on http://' "$log" 2>/dev/null && break
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.05
  done
  PORT=$(sed -n 's/.* listening on PLAINTEXT:\/\/[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$log" | head -1)
  METRICS_PORT=$(sed -n 's/.* metrics on http:\/\/.*:\([0-9][0-9]*\)\/metrics$/\1/p' "$log" | head -1)
  if [ -z "$PORT" ] || [ -z "$METRICS_PORT" ] || ! kill -0 "$BROKER_PID" 2>/dev/null; then
    cat "$log" >&2
    broker_fail "seglogd did not start listening (log: $log)"
  fi
}

# broker_restart LOG [ARGS...]: starts seglogd again on the same PORT and
# METRICS_PORT (clients reconnect there), log.dirs=$T/data unless ARGS set
# it, stderr appended to LOG.  Between the old process's exit and the new
# bind, another test's connection may hold one of the ports for a moment: a
# start that fails with "already in use" is retried for up to 10 s.  Success
# is seglogd's own "metrics on" line (after the Kafka listener's), not a
# connect, which could reach whoever holds the port.
broker_restart() {
  local log=$1 try i from
  shift
  for ((try = 0; try < 40; try++)); do
    from=$(($(wc -l < "$log" 2>/dev/null || echo 0) + 1))
    "$SEGLOGD" --override "listeners=PLAINTEXT://127.0.0.1:$PORT" \
      --override "metrics.listener=127.0.0.1:$METRICS_PORT" \
      --override "log.dirs=$T/data" "$@" 2>>"$log" &
    BROKER_PID=$!
    BROKER_PIDS+=("$BROKER_PID")
    for ((i = 0; i < 600; i++)); do
      tail -n "+$from" "$log" | grep -q ' metrics on http://' && return 0
      kill -0 "$BROKER_PID" 2>/dev/null || break
      sleep 0.05
    done
    wait "$BROKER_PID" 2>/dev/null || true
    tail -n "+$from" "$log" | grep -qi 'in use' || break
    sleep 0.25
  done
  cat "$log" >&2
  broker_fail "seglogd did not restart on ports $PORT/$METRICS_PORT (log: $log)"
}

# broker_wait_exit PID [SECONDS]: waits for PID to exit; sets EXIT_STATUS.
# Kills it and fails if it is still running after SECONDS.
broker_wait_exit() {
  local pid=$1 secs=${2:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      EXIT_STATUS=0
      wait "$pid" || EXIT_STATUS=$?
      return 0
    fi
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  broker_fail "process $pid did not exit within ${secs}s"
}

# broker_run_expect_fail LOG ARGS...: runs seglogd in the foreground (10 s cap)
# and requires exit status 1.
broker_run_expect_fail() {
  local log=$1 st=0
  shift
  timeout 10 "$SEGLOGD" "$@" 2>"$log" || st=$?
  if [ "$st" != 1 ]; then
    cat "$log" >&2
    broker_fail "seglogd $* exited with $st, expected 1"
  fi
}
