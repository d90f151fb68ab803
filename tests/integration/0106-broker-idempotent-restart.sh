#!/usr/bin/env bash
# 0106: an idempotent producer keeps going across SIGTERM and kill -9
# restarts of seglogd (producer state survives), exactly once and in order
# (lib/broker_idem_restart.py starts and stops the broker itself).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
"$BROKER_PY" -c 'import confluent_kafka' 2>/dev/null ||
  { echo "SKIP: $BROKER_PY lacks confluent-kafka"; exit 77; }
read -r port mport < <(broker_free_ports 2)
timeout 240 "$BROKER_PY" "$here/lib/broker_idem_restart.py" "$SEGLOGD" "$T/data" \
  "$port" "$mport" "$T/broker.log" ||
  { tail -30 "$T/broker.log" >&2; broker_fail "idempotent producer across restarts"; }
echo "PASS 0106"
