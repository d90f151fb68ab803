#!/usr/bin/env bash
# 0308: /.groups/<group>/lag in seglogfs broker mode: offsets committed by
# confluent-kafka show as "<topic> <partition> <committed> <end> <lag>"
# lines; the lag follows new records; an unknown group is ENOENT.  Against
# librdkafka's mock cluster (`seglog mock-cluster`, which has a group
# coordinator but no ListGroups: the group is found through its offsets),
# and against seglogd when it answers OffsetCommit (its group coordinator).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
. "$here/lib/fuse_broker.sh"
fuse_init
PY=/usr/bin/python3
[ -x "$SEGLOG" ] || fuse_fail "$SEGLOG is not built"

mkfifo "$T/hold"
"$SEGLOG" mock-cluster <"$T/hold" >"$T/boot" 2>"$T/mc.err" &
MC=$!
FUSE_EXTRA_PIDS+=("$MC")
exec 3>"$T/hold"
for _ in $(seq 100); do [ -s "$T/boot" ] && break; sleep 0.05; done
MB=$(head -1 "$T/boot")
[ -n "$MB" ] || fuse_fail "mock-cluster: $(cat "$T/mc.err")"

# commit GROUP OFFSETS...: produce 10 records to each of g's partitions
# (first call), commit topic g partition=offset pairs for GROUP.
produce_commit() {
  timeout "${COMMIT_TIMEOUT:-60}" $PY - "$@" <<'PY'
import sys, confluent_kafka as ck
b, produce, group = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
if produce:
    p = ck.Producer({"bootstrap.servers": b, "acks": "all"})
    for i in range(40):
        p.produce("g", value=b"v%d" % i, partition=i % 4)
    if p.flush(30): raise SystemExit("produce did not finish")
c = ck.Consumer({"bootstrap.servers": b, "group.id": group, "enable.auto.commit": False})
tps = [ck.TopicPartition("g", int(a.split("=")[0]), int(a.split("=")[1])) for a in sys.argv[4:]]
res = c.commit(offsets=tps, asynchronous=False)
if any(t.error for t in res): raise SystemExit("commit: %r" % res)
c.close()
PY
}

check_lag() { # BROKER MOUNT LOG
  local b=$1 m=$2 log=$3
  produce_commit "$b" 0 lagger 0=3 2=10 || fuse_fail "commit"
  fuse_mount "$m" "$log" -b "$b"
  [ "$(cat "$m/.groups/lagger/lag")" = "$(printf 'g 0 3 10 7\ng 2 10 10 0')" ] \
    || fuse_fail "lag: $(cat "$m/.groups/lagger/lag")"
  [ "$(ls "$m/.groups/lagger")" = lag ] || fuse_fail "ls .groups/lagger"
  [ "$(stat -c %s "$m/.groups/lagger/lag")" = 23 ] || fuse_fail "lag size"
  # new records and a new commit move the lag
  seq 1 5 >>"$m/g/2/data" || fuse_fail "append"
  produce_commit "$b" 0 lagger 0=9 || fuse_fail "commit 2"
  [ "$(cat "$m/.groups/lagger/lag")" = "$(printf 'g 0 9 10 1\ng 2 10 15 5')" ] \
    || fuse_fail "lag after append: $(cat "$m/.groups/lagger/lag")"
  [ "$(fuse_errno cat "$m/.groups/nosuchgroup/lag")" = "No such file or directory" ] \
    || fuse_fail "unknown group: $(fuse_errno cat "$m/.groups/nosuchgroup/lag")"
  fuse_umount "$m" "$FSPID"
}

produce_commit "$MB" 1 warmup 1=1 || fuse_fail "produce to the mock cluster"
check_lag "$MB" "$T/mnt" "$T/fs.mock.log"

broker_start "$T/broker.log" --override num.partitions=4
B="127.0.0.1:$PORT"
# (a coordinator answers within a second; without one the commit waits for it)
if ! COMMIT_TIMEOUT=15 produce_commit "$B" 1 probe 1=1 2>"$T/probe.err"; then
  echo "seglogd does not answer OffsetCommit yet (commit: $(tail -n 1 "$T/probe.err" | cut -c1-120)): lag tested on the mock cluster only"
  echo OK
  exit 0
fi
check_lag "$B" "$T/mnt2" "$T/fs.seglogd.log"
# ListGroups (seglogd has it): /.groups lists the group
fuse_mount "$T/mnt2" "$T/fs.seglogd2.log" -b "$B"
ls "$T/mnt2/.groups" | grep -qx lagger || fuse_fail "ls .groups: $(ls "$T/mnt2/.groups" 2>&1)"
fuse_umount "$T/mnt2" "$FSPID"
echo OK
