"""Consumer groups of real clients against seglogd (tests 0130-0133).

usage: group_clients.py BOOTSTRAP SCENARIO [ARGS...]

Scenarios (each exits 0 on success, prints FAIL lines and exits 1 otherwise):
  share CLIENTS        3 consumers of one group (CLIENTS: "ccc" confluent-kafka,
                       "kkk" kafka-python, "cck" mixed) over a 6-partition topic:
                       each gets 2 partitions, every record arrives exactly once;
                       then one closes and the other two take over its partitions
                       long before the session timeout (45 s) could expire it.
  member GROUP TOPIC [K=V...]  one confluent-kafka consumer (extra config as
                       K=V) that prints "ASSIGNED p,p,..." / "REVOKED ..." /
                       "ERROR name" lines and consumes until killed.
  topic NAME PARTS     creates a topic.
Timeouts here only detect hangs; nothing asserts how fast anything was."""
import signal
import sys
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: F401
from confluent_kafka.admin import AdminClient, NewTopic

BOOT = sys.argv[1]
SCENARIO = sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def create_topic(name, parts):
    a = AdminClient({"bootstrap.servers": BOOT})
    for _, f in a.create_topics([NewTopic(name, parts, 1)]).items():
        try:
            f.result(30)
        except Exception as e:  # already there from an earlier step
            if "TOPIC_ALREADY_EXISTS" not in str(e):
                raise


def produce(topic, first, count, parts):
    p = Producer({"bootstrap.servers": BOOT, "linger.ms": 5})
    for i in range(first, first + count):
        p.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=i % parts)
    check(p.flush(30) == 0, "produce %d..%d" % (first, first + count))


class Member:
    """One consumer on its own thread: records what it receives and owns."""

    def __init__(self, kind, group, topic, idx, session_ms=45000):
        self.kind, self.idx = kind, idx
        self.got = []
        self.parts = set()
        self.stop = threading.Event()
        self.closed = threading.Event()
        self.lock = threading.Lock()
        if kind == "c":
            self.c = Consumer({"bootstrap.servers": BOOT, "group.id": group,
                               "client.id": "conf-%d" % idx, "auto.offset.reset": "earliest",
                               "session.timeout.ms": session_ms,
                               "heartbeat.interval.ms": 500, "auto.commit.interval.ms": 200})
            self.c.subscribe([topic], on_assign=self._assigned, on_revoke=self._revoked)
        else:
            from kafka import KafkaConsumer
            self.c = KafkaConsumer(topic, bootstrap_servers=BOOT, group_id=group,
                                   client_id="kpy-%d" % idx, auto_offset_reset="earliest",
                                   session_timeout_ms=session_ms, heartbeat_interval_ms=500,
                                   auto_commit_interval_ms=200, api_version=(2, 0))
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _assigned(self, c, tps):
        with self.lock:
            self.parts = {tp.partition for tp in tps}

    def _revoked(self, c, tps):
        with self.lock:
            self.parts = set()

    def owned(self):
        if self.kind == "k":
            return {tp.partition for tp in self.c.assignment()}
        with self.lock:
            return set(self.parts)

    def _run(self):
        try:
            while not self.stop.is_set():
                if self.kind == "c":
                    m = self.c.poll(0.1)
                    if m is not None and not m.error():
                        self.got.append(m.value())
                else:
                    for recs in self.c.poll(timeout_ms=100).values():
                        self.got.extend(r.value for r in recs)
        finally:
            self.c.close()
            self.closed.set()

    def close(self):
        self.stop.set()
        self.closed.wait(60)


def wait_for(cond, secs, what):
    deadline = time.time() + secs
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    check(False, what)
    return False


def scenario_share(clients):
    group, topic = "share-" + clients, "t-" + clients
    create_topic(topic, 6)
    members = [Member(k, group, topic, i) for i, k in enumerate(clients)]

    def split(n):
        owned = [m.owned() for m in members]
        return (all(len(o) == n for o in owned) and
                sorted(p for o in owned for p in o) == list(range(6)))

    if not wait_for(lambda: split(2), 60, "each of 3 members owns 2 partitions"):
        print([m.owned() for m in members])
    produce(topic, 0, 600, 6)
    total = lambda: sum(len(m.got) for m in members)  # noqa: E731
    wait_for(lambda: total() >= 600, 60, "600 records consumed")
    time.sleep(1)  # would show duplicates, if any
    got = [v for m in members for v in m.got]
    check(len(got) == 600 and set(got) == {b"v%d" % i for i in range(600)},
          "every record exactly once (%d received, %d distinct)" % (len(got), len(set(got))))
    for m in members:
        check(len(m.got) > 0, "member %d (%s) received records" % (m.idx, m.kind))
    # One member closes (LeaveGroup): the others take over its partitions now,
    # not after session.timeout.ms (45 s, beyond the wait below).
    gone = members.pop()
    gone.close()
    wait_for(lambda: all(len(m.owned()) == 3 for m in members), 30,
             "the other members own 3 partitions each after a close")
    produce(topic, 600, 300, 6)
    wait_for(lambda: sum(len(m.got) for m in members) >= 600 - len(gone.got) + 300, 60,
             "records after the rebalance consumed")
    new = [v for m in members for v in m.got if int(v[1:]) >= 600]
    check(sorted(new) == sorted(b"v%d" % i for i in range(600, 900)),
          "every record after the rebalance exactly once (%d)" % len(new))
    for m in members:
        m.close()


def scenario_member(group, topic, extra):
    conf = {"bootstrap.servers": BOOT, "group.id": group, "auto.offset.reset": "earliest",
            "heartbeat.interval.ms": 500}
    for kv in extra:
        k, v = kv.split("=", 1)
        conf[k] = v
    c = Consumer(conf)
    last = [None]

    def on_assign(cons, tps):
        parts = ",".join(str(tp.partition) for tp in sorted(tps, key=lambda t: t.partition))
        if parts != last[0]:
            print("ASSIGNED " + parts, flush=True)
            last[0] = parts

    def on_revoke(cons, tps):
        print("REVOKED " + ",".join(str(tp.partition) for tp in tps), flush=True)
        last[0] = None

    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stop:
        m = c.poll(0.2)
        if m is not None and m.error():
            print("ERROR %s" % m.error().name(), flush=True)
    c.close()  # LeaveGroup (dynamic members)
    print("CLOSED", flush=True)


if SCENARIO == "share":
    scenario_share(sys.argv[3])
elif SCENARIO == "member":
    scenario_member(sys.argv[3], sys.argv[4], sys.argv[5:])
elif SCENARIO == "topic":
    create_topic(sys.argv[3], int(sys.argv[4]))
else:
    sys.exit("unknown scenario " + SCENARIO)
if failures:
    sys.exit(1)
print("ok")
