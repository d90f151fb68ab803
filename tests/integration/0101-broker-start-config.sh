#!/usr/bin/env bash
# 0101: seglogd start-up and configuration.  A server.properties file in Java
# properties syntax (comments, `key: value`, escapes, continuation lines) is
# read with Kafka's key names; an unknown key, a bad value, an unusable log
# directory or a locked one stops the broker at once with exit status 1 and one
# ERROR line naming the key or path; SIGTERM and SIGINT stop it with status 0.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init

# expect_error LOG WORD: exactly one ERROR line, and it names WORD.
expect_error() {
  local log=$1 word=$2 n
  n=$(grep -c ' ERROR ' "$log" || true)
  [ "$n" = 1 ] || { cat "$log" >&2; broker_fail "expected one ERROR line, got $n"; }
  grep ' ERROR ' "$log" | grep -qF -- "$word" ||
    { cat "$log" >&2; broker_fail "the ERROR line does not name '$word'"; }
}

# 1. Unknown key, on the command line and in a file (with its line number).
broker_run_expect_fail "$T/e1" --override log.dirs="$T/d1" --override no.such.key=1
expect_error "$T/e1" "no.such.key"
printf '# comment\n! other comment\nnum.partitions=2\n\nbogus.setting = 5\n' >"$T/bad.properties"
broker_run_expect_fail "$T/e2" --config "$T/bad.properties" --override log.dirs="$T/d2"
expect_error "$T/e2" "bogus.setting"
grep -q "bad.properties line 5" "$T/e2" || broker_fail "file line not named: $(cat "$T/e2")"

# 2. Bad values: type, range, enumeration, listener syntax.
for kv in num.partitions=abc log.segment.bytes=13 auto.create.topics.enable=yes \
  compression.type=brotli log.cleanup.policy=delete,shred message.max.bytes=-1 \
  log.cleaner.min.cleanable.ratio=1.5 node.id=2147483648 listeners=SSL://127.0.0.1:1 \
  listeners=127.0.0.1:9092 log.retention.ms=0 metrics.listener=nope; do
  broker_run_expect_fail "$T/e3" --override log.dirs="$T/d3" --override "$kv"
  expect_error "$T/e3" "${kv%%=*}"
done

# 3. Log directories that cannot be used are named.
touch "$T/plainfile"
broker_run_expect_fail "$T/e4" --override log.dirs="$T/plainfile"
expect_error "$T/e4" "$T/plainfile"
broker_run_expect_fail "$T/e5" --override log.dirs="$T/plainfile/sub"
expect_error "$T/e5" "$T/plainfile/sub"
if [ "$(id -u)" != 0 ]; then
  mkdir "$T/ro" && chmod 555 "$T/ro"
  broker_run_expect_fail "$T/e6" --override log.dirs="$T/ro"
  expect_error "$T/e6" "$T/ro"
fi

# 4. A valid file: comments, `key: value`, `key value`, escapes, continuations.
read -r port mport < <(broker_free_ports 2)
cat >"$T/server.properties" <<PROPS
# seglogd test configuration
  ! indented comment
node.id: 7
listeners = PLAINTEXT://127.0.0.1:$port
advertised.listeners PLAINTEXT://localhost\\
    :$port
log.dirs=$T/da\\
         ta\\u0031
metrics.listener=127.0.0.1:$mport
log.retention.hours=24
log.cleanup.policy = compact , delete
connections.max.idle.ms=700
PROPS
"$SEGLOGD" --config "$T/server.properties" 2>"$T/run1" &
pid=$!
BROKER_PIDS+=("$pid")
broker_wait_port "$port" 10 || { cat "$T/run1" >&2; broker_fail "did not start"; }
[ -d "$T/data1" ] || broker_fail "log.dirs with escapes and continuation not honoured"
grep -q '^node.id=7$' "$T/data1/meta.properties" || broker_fail "meta.properties lacks node.id=7"
grep -q "advertised as localhost:$port" "$T/run1" || broker_fail "advertised.listeners not used"
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z INFO ' "$T/run1" ||
  broker_fail "log lines lack a timestamp and level"

# connections.max.idle.ms: an idle client is disconnected.
"$BROKER_PY" - "$port" <<'PY' || broker_fail "idle connection not closed"
import sys
import socket, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
t0 = time.time()
try:
    data = s.recv(1)
except ConnectionResetError:
    data = b""
sys.exit(0 if data == b"" and time.time() - t0 < 9 else 1)
PY

# 5. A second broker on the same directory is refused (lock), naming it.
broker_run_expect_fail "$T/e7" --config "$T/server.properties" \
  --override "listeners=PLAINTEXT://127.0.0.1:0" --override "metrics.listener=127.0.0.1:0"
expect_error "$T/e7" "$T/data1"

# 6. A restart with another node.id on the same directory is refused.
kill -TERM "$pid"
broker_wait_exit "$pid" 10
[ "$EXIT_STATUS" = 0 ] || broker_fail "SIGTERM: exit status $EXIT_STATUS"
grep -q "stopped cleanly" "$T/run1" || broker_fail "no clean-stop line"
broker_run_expect_fail "$T/e8" --config "$T/server.properties" --override node.id=8
expect_error "$T/e8" "node.id"

# 7. SIGINT also stops it with status 0, and the cluster id survives restarts.
cid=$(sed -n 's/^cluster.id=//p' "$T/data1/meta.properties")
"$SEGLOGD" --config "$T/server.properties" 2>"$T/run2" &
pid=$!
BROKER_PIDS+=("$pid")
broker_wait_port "$port" 10 || { cat "$T/run2" >&2; broker_fail "restart did not listen"; }
grep -q "cluster.id=$cid" "$T/run2" || broker_fail "cluster id changed across restarts"
kill -INT "$pid"
broker_wait_exit "$pid" 10
[ "$EXIT_STATUS" = 0 ] || broker_fail "SIGINT: exit status $EXIT_STATUS"

# 8. An occupied port is named.
"$BROKER_PY" -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(8)' "$port" &
holder=$!
BROKER_PIDS+=("$holder")
broker_wait_port "$port" 5 || broker_fail "could not occupy port $port"
broker_run_expect_fail "$T/e9" --config "$T/server.properties"
expect_error "$T/e9" "listeners"
echo "PASS 0101"
