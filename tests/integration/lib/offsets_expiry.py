"""0139: offsets.retention.minutes expiry as Kafka 2.1+ (KIP-211, KIP-496),
on a broker with offsets.retention.minutes=1 and
offsets.retention.check.interval.ms=500.  argv: port.  Topics "xt" and
"other" (1 partition each) exist.
- a v2 commit with a 2 s retention time expires after 2 s (old semantics);
- a simple group's offsets expire 60 s after their commit;
- an Empty consumer group's offsets expire 60 s after it became Empty, not
  after the commit;
- a Stable group keeps the offsets of its subscribed topic, and loses those of
  a topic it does not subscribe to 60 s after their commit;
- groups left without offsets disappear from ListGroups, as does an Empty
  group that never committed (at the next check, as Kafka's
  cleanupGroupMetadata)."""
import multiprocessing
import sys
import time

from confluent_kafka import Consumer, TopicPartition
from group_wire import Conn, list_groups
from offsets_wire import offset_commit, offset_fetch

PORT = int(sys.argv[1])
BS = "127.0.0.1:%d" % PORT
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def fetch(c, group, topic):
    return offset_fetch(c, 6, group, {topic: [0]})[1][(topic, 0)][0]


def active_member(ready, stop):
    """A member of "act" subscribed to xt, alive until told to stop."""
    c = Consumer({"bootstrap.servers": BS, "group.id": "act", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    c.subscribe(["xt"])
    while not c.assignment():
        c.poll(0.2)
    c.commit(offsets=[TopicPartition("xt", 0, 4), TopicPartition("other", 0, 6)],
             asynchronous=False)
    ready.set()
    while not stop.is_set():
        c.poll(0.2)
    c.close()


c = Conn(PORT)
t0 = time.time()
# Old semantics: an OffsetCommit v2 retention time.
e = offset_commit(c, 2, "ret", {("xt", 0): (3, "", -1)}, retention=2000)
check(e == {("xt", 0): 0}, "v2 commit %r" % e)
# A simple group.
e = offset_commit(c, 8, "simple", {("xt", 0): (5, "", -1)})
check(e == {("xt", 0): 0}, "simple commit %r" % e)
# The active group, then the group that becomes Empty 10 s later.
ready, stop = multiprocessing.Event(), multiprocessing.Event()
proc = multiprocessing.Process(target=active_member, args=(ready, stop))
proc.start()
check(ready.wait(30), "active member ready")
t_act = time.time()  # act committed (xt, other) before this
emp = Consumer({"bootstrap.servers": BS, "group.id": "emp", "enable.auto.commit": False,
                "auto.offset.reset": "earliest"})
emp.subscribe(["xt"])
end = time.time() + 30
while not emp.assignment() and time.time() < end:
    emp.poll(0.2)
emp.commit(offsets=[TopicPartition("xt", 0, 7)], asynchronous=False)
# A group that never commits: gone once Empty, at the next check.
nc = Consumer({"bootstrap.servers": BS, "group.id": "nocommit", "enable.auto.commit": False})
nc.subscribe(["xt"])
end = time.time() + 30
while not nc.assignment() and time.time() < end:
    nc.poll(0.2)
err, groups = list_groups(c, 2)
check("nocommit" in {g["group"] for g in groups}, "nocommit not listed while active")
nc.close()
t_commit_emp = time.time()
time.sleep(max(0.0, 10 - (time.time() - t0)))
emp.close()
t_empty = time.time()

# The retention-time commit goes within a few seconds.
end = time.time() + 10
while fetch(c, "ret", "xt") != -1 and time.time() < end:
    time.sleep(0.2)
check(fetch(c, "ret", "xt") == -1, "v2 retention offset still there")
check(time.time() - t0 >= 2, "v2 retention offset gone too early")
end = time.time() + 10
while "nocommit" in {g["group"] for g in list_groups(c, 2)[1]} and time.time() < end:
    time.sleep(0.2)
check("nocommit" not in {g["group"] for g in list_groups(c, 2)[1]},
      "an Empty group without offsets is still listed")

# Wait until 60 s after the simple commit and act's commit (plus checks; act
# commits after joining, later than t0 on a loaded machine): simple is gone,
# emp (Empty only since t_empty) is not, act keeps xt and loses other.
time.sleep(max(0.0, t_act + 61.5 - time.time()))
check(fetch(c, "simple", "xt") == -1, "simple group's offset not expired")
if time.time() < t_empty + 58:
    check(fetch(c, "emp", "xt") == 7, "Empty group's offset expired since its commit, "
          "not since it became Empty (commit %.1f s, empty %.1f s ago)" %
          (time.time() - t_commit_emp, time.time() - t_empty))
check(fetch(c, "act", "xt") == 4, "Stable group's subscribed offset expired")
check(fetch(c, "act", "other") == -1, "Stable group's unsubscribed offset kept")
err, groups = list_groups(c, 2)
names = {g["group"] for g in groups}
check("simple" not in names and "ret" not in names, "expired groups listed: %r" % names)
check("act" in names and "emp" in names, "live groups missing: %r" % names)
# emp expires 60 s after it became Empty.
time.sleep(max(0.0, t_empty + 61.5 - time.time()))
check(fetch(c, "emp", "xt") == -1, "Empty group's offset not expired")
check(fetch(c, "act", "xt") == 4, "Stable group's subscribed offset expired (late)")
err, groups = list_groups(c, 2)
check("emp" not in {g["group"] for g in groups}, "emp still listed %r" % groups)
stop.set()
proc.join(30)
c.close()
print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
