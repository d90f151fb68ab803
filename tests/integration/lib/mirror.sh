# Shell helpers for the seglog-mirror integration tests (tests/integration/04NN-mirror-*).
# Source after `set -euo pipefail`; builds on lib/broker.sh (every process
# started here is killed by the EXIT trap).  Two seglogd instances play the
# two data centers A and B on loopback.

. "$(dirname "${BASH_SOURCE[0]}")/broker.sh"

MIRROR="$SEGLOG_BUILD/mirror/seglog-mirror"
MIRROR_PY="$(dirname "${BASH_SOURCE[0]}")/mirror_check.py"
MIRROR_PIDS=()

mirror_init() {
  broker_init
  if [ ! -x "$MIRROR" ]; then
    echo "SKIP: $MIRROR is not built (librdkafka missing?)"
    exit 77
  fi
  trap mirror_cleanup EXIT
}

mirror_cleanup() {
  local pid
  for pid in "${MIRROR_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  broker_cleanup
}

# mirror_two_brokers: starts A and B; sets PORT_A, PORT_B, BS_A, BS_B.
mirror_two_brokers() {
  broker_start "$T/a.log" --override "log.dirs=$T/a"
  PORT_A=$PORT
  broker_start "$T/b.log" --override "log.dirs=$T/b"
  PORT_B=$PORT
  BS_A=127.0.0.1:$PORT_A
  BS_B=127.0.0.1:$PORT_B
}

# mirror_config FILE [EXTRA LINES...]: writes a config for clusters A and B.
mirror_config() {
  local f=$1
  shift
  {
    echo "clusters = A, B"
    echo "A.bootstrap.servers = $BS_A"
    echo "B.bootstrap.servers = $BS_B"
    local l
    for l in "$@"; do echo "$l"; done
  } >"$f"
}

# mirror_start CONFIG LOG: starts seglog-mirror in the background; sets MIRROR_PID.
mirror_start() {
  "$MIRROR" "$1" 2>>"$2" &
  MIRROR_PID=$!
  MIRROR_PIDS+=("$MIRROR_PID")
}

# mirror_py ARGS...: runs the Python checker (confluent-kafka).
mirror_py() {
  "$BROKER_PY" "$MIRROR_PY" "$@"
}

# mirror_create_configured BS TOPIC PARTS NAME=VALUE...: creates the topic
# with configs, or skips the test (77) on a broker that refuses them.
mirror_create_configured() {
  if ! mirror_py create "$@" 2>"$T/create.err"; then
    cat "$T/create.err"
    echo "SKIP: the broker does not accept topic configs in CreateTopics"
    exit 77
  fi
}
