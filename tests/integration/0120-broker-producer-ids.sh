#!/usr/bin/env bash
# 0120: producer ids are never handed out twice: InitProducerId ids rise
# strictly within a run, across a SIGTERM restart and across a kill -9
# restart (the block reserved in producer-id-block is skipped, never
# reused); more than one block in a run moves the reservation on; a
# reservation that cannot be written answers COORDINATOR_LOAD_IN_PROGRESS
# with one ERROR line, and the next request succeeds once it can be written.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init

# ids N: prints N producer ids from InitProducerId v0 (pipelined), one a line;
# a non-zero ErrorCode prints "error CODE".
ids() {
  timeout 60 "$BROKER_PY" -c '
import struct, sys
sys.path.insert(0, sys.argv[1])
import broker_wire as w
port, n = int(sys.argv[2]), int(sys.argv[3])
s = w.connect(port)
req = b"".join(w.frame(w.header(22, 0, 100 + i) + struct.pack(">hi", -1, 60000))
               for i in range(n))
s.sendall(req)
for i in range(n):
    body = w.recv_frame(s)
    corr, throttle, err, pid, epoch = struct.unpack(">iihqh", body)
    assert corr == 100 + i, (corr, i)
    print("error %d" % err if err else pid)
' "$here/lib" "$PORT" "$1"
}

# check_rising FILE MIN: every line is an id > MIN and > the line before.
check_rising() {
  awk -v min="$2" 'BEGIN { prev = min }
    $1 == "error" { print "error answer: " $0; exit 1 }
    { if ($1 + 0 <= prev + 0) { print "id " $1 " not above " prev; exit 1 } prev = $1 }' "$1" ||
    broker_fail "ids in $1 are not strictly rising above $2"
}

block_end() { sed -n 's/^block.end=//p' "$T/data/producer-id-block"; }

broker_start "$T/b1.log"
ids 5 >"$T/ids1"
check_rising "$T/ids1" -1
first=$(head -1 "$T/ids1")
[ "$(block_end)" = $((first + 1000)) ] ||
  broker_fail "block.end $(block_end) is not first id $first + 1000"
# More than a block in one run: the reservation moves on before the 1001st id.
ids 1200 >"$T/ids1b"
check_rising "$T/ids1b" "$(tail -1 "$T/ids1")"
last=$(tail -1 "$T/ids1b")
[ "$(block_end)" -gt "$last" ] || broker_fail "block.end $(block_end) not above used id $last"
end1=$(block_end)

# SIGTERM restart: the next id starts past the whole reserved block.
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
broker_start "$T/b2.log"
ids 3 >"$T/ids2"
check_rising "$T/ids2" $((end1 - 1))
end2=$(block_end)

# kill -9 restart: the same.
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true
broker_start "$T/b3.log"
ids 3 >"$T/ids3"
check_rising "$T/ids3" $((end2 - 1))
[ "$(head -1 "$T/ids3")" = "$end2" ] || broker_fail "after kill -9 the first id is not $end2"

# A reservation that cannot be written (the temp file's name is taken by a
# directory): a retriable error, one ERROR line; then it works again.
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true
end3=$(block_end)
mkdir "$T/data/producer-id-block.tmp"
broker_start "$T/b4.log"
ids 1 >"$T/ids4"
[ "$(cat "$T/ids4")" = "error 14" ] || broker_fail "expected error 14, got $(cat "$T/ids4")"
[ "$(grep -c 'ERROR cannot hand out a producer id' "$T/b4.log")" = 1 ] ||
  { cat "$T/b4.log" >&2; broker_fail "no single ERROR line for the failed reservation"; }
[ "$(block_end)" = "$end3" ] || broker_fail "a failed reservation changed block.end"
rmdir "$T/data/producer-id-block.tmp"
ids 2 >"$T/ids5"
check_rising "$T/ids5" $((end3 - 1))
kill -TERM "$BROKER_PID"
broker_wait_exit "$BROKER_PID" 15
[ "$EXIT_STATUS" = 0 ] || broker_fail "seglogd exited with $EXIT_STATUS"
# The log directory still opens (the block file is not mistaken for a partition).
grep -q "ERROR" "$T/b2.log" "$T/b3.log" && broker_fail "unexpected ERROR lines"
echo "PASS 0120"
