# Shell helpers for the consumer-group tests (0140-0149 real clients, 0210-0219
# `seglog groups`).  Source after lib/broker.sh and broker_init.
#
# groups_start LOG [ARGS...]: starts seglogd (broker_start) and sets B to its
# bootstrap address.  When seglogd's ApiVersions lacks JoinGroup (11) the test
# skips (77) with "group coordinator not in this build" - the only reason to
# skip.  For developing the tests before the coordinator existed,
# SEGLOG_GROUP_TESTS_ON_MOCK=1 runs them against librdkafka's mock cluster
# (`seglog mock-cluster`) instead; GROUPS_TARGET says which (seglogd|mock).

GROUPS_S="${SEGLOG_BUILD:?}/kcat-tools/seglog"
GROUPS_MC_PID=

# groups_api_max PORT KEY: prints the broker's highest version of ApiKey KEY
# (-1 if absent), from a raw ApiVersions v0 exchange.
groups_api_max() {
  "$BROKER_PY" - "$1" "$2" <<'PY'
import socket, struct, sys
port, key = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.settimeout(10)
req = struct.pack(">hhih", 18, 0, 1, 6) + b"groups"
s.sendall(struct.pack(">i", len(req)) + req)
def read(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("ApiVersions: connection closed")
        b += c
    return b
size = struct.unpack(">i", read(4))[0]
body = read(size)
corr, err, n = struct.unpack(">ihi", body[:10])
best = -1
for i in range(n):
    k, lo, hi = struct.unpack(">hhh", body[10 + 6 * i:16 + 6 * i])
    if k == key:
        best = hi
print(best)
PY
}

groups_mock_cleanup() {
  if [ -n "$GROUPS_MC_PID" ]; then
    exec 8>&- 2>/dev/null || true
    kill "$GROUPS_MC_PID" 2>/dev/null || true
    wait "$GROUPS_MC_PID" 2>/dev/null || true
    GROUPS_MC_PID=
  fi
}

# groups_start LOG [seglogd ARGS...]; mock topics: GROUPS_MOCK_TOPICS="t:6 u:3"
groups_start() {
  local log=$1
  shift
  if [ "${SEGLOG_GROUP_TESTS_ON_MOCK:-0}" = 1 ]; then
    local targs=() t
    for t in ${GROUPS_MOCK_TOPICS:-}; do targs+=(--topic "$t"); done
    mkfifo "$T/mock.hold"
    "$GROUPS_S" mock-cluster "${targs[@]}" <"$T/mock.hold" >"$T/mock.boot" 2>"$log" &
    GROUPS_MC_PID=$!
    BROKER_PIDS+=("$GROUPS_MC_PID")
    exec 8>"$T/mock.hold"
    local i
    for i in $(seq 1 100); do [ -s "$T/mock.boot" ] && break; sleep 0.05; done
    B=$(head -1 "$T/mock.boot")
    [ -n "$B" ] || broker_fail "mock-cluster printed no bootstrap servers: $(cat "$log")"
    GROUPS_TARGET=mock
    echo "NOTE: running against librdkafka's mock cluster (SEGLOG_GROUP_TESTS_ON_MOCK=1)"
    return 0
  fi
  broker_start "$log" "$@"
  B="127.0.0.1:$PORT"
  GROUPS_TARGET=seglogd
  local jg
  jg=$(groups_api_max "$PORT" 11) || broker_fail "ApiVersions exchange failed"
  if [ "$jg" -lt 0 ]; then
    echo "SKIP: group coordinator not in this build (seglogd's ApiVersions lacks JoinGroup)"
    exit 77
  fi
}

# groups_create_topic TOPIC PARTITIONS: on seglogd through `seglog topics
# create -b`; the mock has the topics of GROUPS_MOCK_TOPICS already.
groups_create_topic() {
  [ "$GROUPS_TARGET" = mock ] && return 0
  timeout 30 "$GROUPS_S" topics create -b "$B" -t "$1" --partitions "$2" >/dev/null ||
    broker_fail "topics create $1"
}

# groups_produce TOPIC N [PREFIX]: N keyless records "PREFIX<i>" spread over
# all partitions (round robin by -p).
groups_produce() {
  local topic=$1 n=$2 prefix=${3:-r}
  "$BROKER_PY" - "$B" "$topic" "$n" "$prefix" <<'PY' || broker_fail "produce to $1"
import sys
from confluent_kafka import Producer
b, topic, n, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
p = Producer({"bootstrap.servers": b, "linger.ms": 5})
parts = len(p.list_topics(topic, timeout=10).topics[topic].partitions)
bad = []
for i in range(n):
    p.produce(topic, value=("%s%d" % (prefix, i)).encode(), partition=i % parts,
              on_delivery=lambda e, m: e and bad.append(e))
    p.poll(0)
if p.flush(30) != 0 or bad:
    sys.exit("delivery failed: %s" % (bad[:3],))
PY
}

# groups_wait_state GROUP STATE [MEMBERS]: polls `seglog groups describe
# --state` (60 s at most) until GROUP is in STATE (with MEMBERS members).
groups_wait_state() {
  local g=$1 want=$2 n=${3:-} i line
  for i in $(seq 1 300); do
    line=$(timeout 30 "$GROUPS_S" groups describe -b "$B" -g "$g" --state 2>/dev/null |
      awk -v g="$g" '$1 == g { print $(NF-1), $NF }') || true
    if [ -n "$n" ] && [ "$line" = "$want $n" ]; then return 0; fi
    if [ -z "$n" ] && [ "${line% *}" = "$want" ]; then return 0; fi
    sleep 0.2
  done
  broker_fail "group $g did not reach $want ${n:+with $n members} (last: '$line')"
}

# groups_hold GROUP TOPIC CLIENT-ID...: background confluent-kafka members
# (lib/group_members.py hold) until groups_release GROUP.
GROUPS_HOLD_PIDS=()
groups_hold() {
  local g=$1 t=$2
  shift 2
  rm -f "$T/stop-$g"
  "$BROKER_PY" "$(dirname "${BASH_SOURCE[0]}")/group_members.py" hold "$B" "$t" "$g" \
    "$T/stop-$g" "$@" 2>"$T/hold-$g.err" &
  GROUPS_HOLD_PIDS+=($!)
  eval "GROUPS_HOLD_$(echo "$g" | tr -c 'A-Za-z0-9\n' _)=$!"
}
groups_release() {
  local v
  v="GROUPS_HOLD_$(echo "$1" | tr -c 'A-Za-z0-9\n' _)"
  touch "$T/stop-$1"
  timeout 60 tail --pid="${!v}" -f /dev/null || true
}
