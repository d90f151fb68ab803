#!/usr/bin/env bash
# 0150: zero-copy Fetch (docs/BROKER.md, "Zero-copy Fetch").  The same log
# directory is read through seglogd's sendfile() path and, after a restart
# with SEGLOG_FETCH_SENDFILE=0, through its copying path: raw Fetch v4/v12
# answers, kafka-python and confluent-kafka consumers and kcat must see
# byte-identical data (every codec, many partitions, 64 KiB segments).  Then,
# on the sendfile path, retention deletes the segment a half-sent answer comes
# from (the answer completes unchanged, the file is released afterwards), and
# a client resets its connection mid-answer with more answers queued.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
PY="$BROKER_PY $here/lib/broker_zerocopy.py"

kcat_dump() { # PORT OUT (sorted: partitions interleave differently per run)
  local t
  for t in zc-none zc-gzip zc-snappy zc-lz4 zc-zstd zc-many; do
    timeout 60 kcat -b "127.0.0.1:$1" -C -t "$t" -o beginning -e -q \
      -f '%t %p %o %T %k|%h|%s\n' || broker_fail "kcat -C $t"
  done | LC_ALL=C sort > "$2"
}

stop_broker() {
  kill -TERM "$BROKER_PID"
  broker_wait_exit "$BROKER_PID" 20
  [ "$EXIT_STATUS" = 0 ] || { cat "$T/$1" >&2; broker_fail "seglogd exited with $EXIT_STATUS"; }
}

# sendfile path (the default)
broker_start "$T/b1.log"
grep -q "Fetch: zero-copy" "$T/b1.log" || broker_fail "no zero-copy line in the log"
timeout 120 $PY produce "$PORT" || broker_fail "produce"
timeout 300 $PY dump "$PORT" "$T/dump-sendfile" || broker_fail "dump (sendfile)"
kcat_dump "$PORT" "$T/kcat-sendfile"
stop_broker b1.log

# copying path, same data
SEGLOG_FETCH_SENDFILE=0 broker_start "$T/b2.log"
grep -q "Fetch: copying" "$T/b2.log" || broker_fail "SEGLOG_FETCH_SENDFILE=0 not taken"
timeout 300 $PY dump "$PORT" "$T/dump-copy" || broker_fail "dump (copy)"
kcat_dump "$PORT" "$T/kcat-copy"
stop_broker b2.log

cmp "$T/dump-sendfile" "$T/dump-copy" || broker_fail "sendfile and copy answers differ"
cmp "$T/kcat-sendfile" "$T/kcat-copy" || broker_fail "kcat output differs between the paths"
want=$((5 * 1500 + 3 * 64))
[ "$(wc -l < "$T/kcat-copy")" = "$want" ] || broker_fail "kcat read $(wc -l < "$T/kcat-copy") records, want $want"
grep -q '^zc-gzip 3 0 .*|h=3|zc-gzip-000003|' "$T/kcat-copy" || broker_fail "kcat record content"

# Retention and a reset during a send (sendfile path).
broker_start "$T/b3.log" --override log.retention.check.interval.ms=200
timeout 120 $PY retention "$PORT" "$T/data" "$BROKER_PID" || broker_fail "retention during a send"
timeout 120 $PY disconnect "$PORT" "$T/data" "$BROKER_PID" || broker_fail "reset during a send"
stop_broker b3.log
echo "PASS"
