"""Consumer-group members for the group tests (0140-0149): confluent-kafka
("ck") and kafka-python ("kp") consumers, each polled by its own thread, that
report assignments, revocations and every record they receive.

    share BOOT TOPIC GROUP PARTITIONS N MEMBER...
        MEMBER is CLIENT:ASSIGNOR (ck:range, ck:roundrobin,
        ck:cooperative-sticky, kp:range, kp:roundrobin, kp:sticky).  Starts the
        members, waits until the group is stable (every partition assigned to
        exactly one member and every member owns PARTITIONS/len(MEMBERS)),
        produces N records, and checks that together the members receive each
        exactly once, each from a partition it owns.
    coop BOOT TOPIC GROUP
        Two ck:cooperative-sticky members share a 6-partition topic while a
        producer keeps writing; a third joins.  Checks that only the partitions
        that move to the newcomer are revoked (incremental), that the others
        stay assigned throughout, that their owners keep receiving records
        while the newcomer waits for its assignment, and that nothing is lost
        or delivered twice.
    hold BOOT TOPIC GROUP STOPFILE CLIENT-ID...
        confluent-kafka members (range) with those client ids stay in the
        group, consuming and committing, until STOPFILE exists (at most 120 s);
        then they close (LeaveGroup).
    commit BOOT GROUP TOPIC PARTITION:OFFSET...
        Commits offsets for GROUP without joining it (a simple group, as
        kafka-consumer-groups' admin commits).
    produce-ts BOOT TOPIC PARTITIONS N BASE STEP
        N records to each partition; record i has timestamp BASE + i*STEP (ms).
Exit 0 on success; a message and exit 1 otherwise.  Every wait is bounded.
"""
import sys
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition

DEADLINE = 60.0


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Member:
    def __init__(self, name, spec, boot, topic, group):
        self.name = name
        self.client, self.assignor = spec.split(":", 1)
        self.boot, self.topic, self.group = boot, topic, group
        self.lock = threading.Lock()
        self.assigned = set()
        self.records = []  # (partition, offset, value, time)
        self.revoked = []  # sets revoked (or lost), in order
        self.lost = []  # sets lost (on_lost), in order
        self.first_assign_time = None
        self.stop = False
        self.error = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.start_time = time.monotonic()
        self.thread.start()

    def _on_assign(self, parts):
        with self.lock:
            if self.client == "ck" and self.assignor == "cooperative-sticky":
                self.assigned |= parts  # incremental
            else:
                self.assigned = set(parts)
            if parts and self.first_assign_time is None:
                self.first_assign_time = time.monotonic()

    def _on_revoke(self, parts):
        with self.lock:
            self.revoked.append(set(parts))
            self.assigned -= set(parts)

    def run(self):
        try:
            if self.client == "ck":
                self.run_ck()
            else:
                self.run_kp()
        except Exception as e:  # reported by the main thread
            self.error = "%s: %r" % (self.name, e)

    def run_ck(self):
        c = Consumer({"bootstrap.servers": self.boot, "group.id": self.group,
                      "client.id": self.name, "auto.offset.reset": "earliest",
                      "partition.assignment.strategy": self.assignor,
                      "enable.auto.commit": True, "auto.commit.interval.ms": 200,
                      "session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
        coop = self.assignor == "cooperative-sticky"

        def on_assign(cons, parts):
            self._on_assign({p.partition for p in parts})
            if coop:
                cons.incremental_assign(parts)
            else:
                cons.assign(parts)

        def on_revoke(cons, parts):
            self._on_revoke({p.partition for p in parts})
            if coop:
                cons.incremental_unassign(parts)
            else:
                cons.unassign()

        def on_lost(cons, parts):
            with self.lock:
                self.lost.append({p.partition for p in parts})
            on_revoke(cons, parts)

        c.subscribe([self.topic], on_assign=on_assign, on_revoke=on_revoke,
                    on_lost=on_lost)
        while not self.stop:
            m = c.poll(0.1)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    continue
                raise RuntimeError(str(m.error()))
            with self.lock:
                self.records.append((m.partition(), m.offset(), m.value().decode(),
                                     time.monotonic()))
        c.close()

    def run_kp(self):
        from kafka import KafkaConsumer
        from kafka.consumer.subscription_state import ConsumerRebalanceListener
        from kafka.coordinator.assignors.range import RangePartitionAssignor
        from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
        from kafka.coordinator.assignors.sticky.sticky_assignor import (
            StickyPartitionAssignor)
        cls = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor,
               "sticky": StickyPartitionAssignor}[self.assignor]
        member = self

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                member._on_revoke({tp.partition for tp in revoked})

            def on_partitions_assigned(self, assigned):
                member._on_assign({tp.partition for tp in assigned})

        c = KafkaConsumer(bootstrap_servers=self.boot, group_id=self.group,
                          client_id=self.name, auto_offset_reset="earliest",
                          partition_assignment_strategy=[cls],
                          enable_auto_commit=True, auto_commit_interval_ms=200,
                          session_timeout_ms=10000, heartbeat_interval_ms=500)
        c.subscribe([self.topic], listener=Listener())
        while not self.stop:
            batch = c.poll(timeout_ms=100)
            now = time.monotonic()
            with self.lock:
                for tp, recs in batch.items():
                    for r in recs:
                        self.records.append((tp.partition, r.offset, r.value.decode(), now))
        c.close()

    def snapshot(self):
        with self.lock:
            return set(self.assigned), list(self.records)


def wait_for(cond, what, members):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        for m in members:
            if m.error:
                fail(m.error)
        if cond():
            return
        time.sleep(0.05)
    state = ", ".join("%s=%s" % (m.name, sorted(m.snapshot()[0])) for m in members)
    fail("timed out waiting for %s (%s)" % (what, state))


def stable(members, nparts, each):
    seen = set()
    for m in members:
        a = m.snapshot()[0]
        if len(a) != each or seen & a:
            return False
        seen |= a
    return seen == set(range(nparts))


def produce(boot, topic, nparts, values):
    p = Producer({"bootstrap.servers": boot, "linger.ms": 5})
    bad = []
    for i, v in enumerate(values):
        p.produce(topic, value=v.encode(), partition=i % nparts,
                  on_delivery=lambda e, m: e and bad.append(e))
        p.poll(0)
    if p.flush(30) != 0 or bad:
        fail("produce: %s" % bad[:3])


def check_exactly_once(members, want):
    got = []
    for m in members:
        for part, off, val, _ in m.snapshot()[1]:
            got.append(val)
    dup = len(got) - len(set(got))
    if dup:
        fail("%d records delivered more than once" % dup)
    missing = set(want) - set(got)
    if missing:
        fail("%d records never delivered (e.g. %s)" % (len(missing), sorted(missing)[:3]))
    extra = set(got) - set(want)
    if extra:
        fail("unexpected records %s" % sorted(extra)[:3])


def share(boot, topic, group, nparts, n, specs):
    members = [Member("m%d-%s" % (i, s.replace(":", "-")), s, boot, topic, group)
               for i, s in enumerate(specs)]
    each = nparts // len(members)
    for m in members:
        m.start()
    wait_for(lambda: stable(members, nparts, each), "a stable group", members)
    owned = {m.name: m.snapshot()[0] for m in members}
    want = ["v%d" % i for i in range(n)]
    produce(boot, topic, nparts, want)
    wait_for(lambda: sum(len(m.snapshot()[1]) for m in members) >= n,
             "%d records" % n, members)
    time.sleep(1.0)  # anything delivered twice would show up now
    final = {m.name: m.snapshot()[0] for m in members}
    for m in members:
        m.stop = True
    for m in members:
        m.thread.join(30)
        if m.error:
            fail(m.error)
    for m in members:
        assigned, recs = final[m.name], m.snapshot()[1]
        if assigned != owned[m.name]:
            fail("%s: assignment changed from %s to %s in a steady group"
                 % (m.name, sorted(owned[m.name]), sorted(assigned)))
        parts = {r[0] for r in recs}
        if not parts <= owned[m.name]:
            fail("%s received records of partitions %s it does not own (%s)"
                 % (m.name, sorted(parts - owned[m.name]), sorted(owned[m.name])))
        if not recs:
            fail("%s received nothing" % m.name)
    check_exactly_once(members, want)
    print("share: %s -> %s" % (" ".join(specs),
                               " ".join("%s" % sorted(owned[m.name]) for m in members)))


def coop(boot, topic, group):
    nparts = 6
    c1 = Member("c1", "ck:cooperative-sticky", boot, topic, group)
    c2 = Member("c2", "ck:cooperative-sticky", boot, topic, group)
    c1.start()
    c2.start()
    wait_for(lambda: stable([c1, c2], nparts, 3), "two stable members", [c1, c2])
    before = {m.name: m.snapshot()[0] for m in (c1, c2)}
    revokes_before = {m.name: len(m.revoked) for m in (c1, c2)}
    # A producer writes to every partition until the end.
    stop = threading.Event()
    sent = []

    def producer():
        p = Producer({"bootstrap.servers": boot, "linger.ms": 0})
        i = 0
        while not stop.is_set():
            v = "c%d" % i
            p.produce(topic, value=v.encode(), partition=i % nparts)
            sent.append(v)
            i += 1
            p.poll(0)
            time.sleep(0.005)
        if p.flush(30) != 0:
            sent.append("<unflushed>")

    pt = threading.Thread(target=producer, daemon=True)
    pt.start()
    time.sleep(0.5)
    c3 = Member("c3", "ck:cooperative-sticky", boot, topic, group)
    c3.start()
    all3 = [c1, c2, c3]
    wait_for(lambda: stable(all3, nparts, 2), "three stable members", all3)
    joined = c3.start_time
    assigned_at = c3.first_assign_time
    time.sleep(0.5)
    stop.set()
    pt.join(40)
    wait_for(lambda: sum(len(m.snapshot()[1]) for m in all3) >= len(sent),
             "%d records" % len(sent), all3)
    time.sleep(1.0)
    moved = c3.snapshot()[0]
    final = {m.name: m.snapshot()[0] for m in all3}
    with c1.lock, c2.lock:  # closing revokes everything: look before that
        revocations = {m.name: list(m.revoked) for m in (c1, c2)}
        lost = [(m.name, m.lost) for m in (c1, c2) if m.lost]
    if lost:
        fail("partitions lost (on_lost: the broker dropped a member): %s" % lost)
    for m in all3:
        m.stop = True
    for m in all3:
        m.thread.join(30)
        if m.error:
            fail(m.error)
    for m in (c1, c2):
        revoked = set().union(set(), *revocations[m.name][revokes_before[m.name]:])
        kept = before[m.name] - moved
        if final[m.name] != kept:
            fail("%s: owns %s after the rebalance, expected %s" % (m.name, sorted(final[m.name]), sorted(kept)))
        if revoked & kept:
            fail("%s: partitions %s it kept were revoked (eager, not incremental); "
                 "before %s, revocations %s, newcomer %s, c1 %s, c2 %s"
                 % (m.name, sorted(revoked & kept), sorted(before[m.name]),
                    [sorted(x) for x in revocations[m.name]],
                    sorted(moved),
                    sorted(final["c1"]), sorted(final["c2"])))
        if revoked != before[m.name] & moved:
            fail("%s: revoked %s, expected exactly the moved %s"
                 % (m.name, sorted(revoked), sorted(before[m.name] & moved)))
        during = [r for r in m.snapshot()[1]
                  if r[0] in kept and joined <= r[3] <= assigned_at]
        if not during:
            fail("%s received nothing from its kept partitions %s while the newcomer "
                 "waited for its assignment" % (m.name, sorted(kept)))
    check_exactly_once(all3, sent)
    print("coop: moved %s to the newcomer; kept partitions consumed throughout"
          % sorted(moved))


def hold(boot, topic, group, stopfile, ids):
    import os
    cs = []
    for cid in ids:
        c = Consumer({"bootstrap.servers": boot, "group.id": group, "client.id": cid,
                      "auto.offset.reset": "earliest", "enable.auto.commit": True,
                      "auto.commit.interval.ms": 200, "heartbeat.interval.ms": 500,
                      "partition.assignment.strategy": "range"})
        c.subscribe([topic])
        cs.append(c)
    end = time.monotonic() + 120
    while not os.path.exists(stopfile) and time.monotonic() < end:
        for c in cs:
            c.poll(0.05)
    for c in cs:
        c.close()


def commit(boot, group, topic, specs):
    c = Consumer({"bootstrap.servers": boot, "group.id": group,
                  "enable.auto.commit": False})
    tps = []
    for sp in specs:
        p, o = sp.split(":")
        tps.append(TopicPartition(topic, int(p), int(o)))
    res = c.commit(offsets=tps, asynchronous=False)
    for tp in res:
        if tp.error:
            fail("commit %s-%d: %s" % (tp.topic, tp.partition, tp.error))
    c.close()


def produce_ts(boot, topic, nparts, n, base, step):
    p = Producer({"bootstrap.servers": boot, "linger.ms": 5})
    bad = []
    for part in range(nparts):
        for i in range(n):
            p.produce(topic, value=("p%d-%d" % (part, i)).encode(), partition=part,
                      timestamp=base + i * step,
                      on_delivery=lambda e, m: e and bad.append(e))
    if p.flush(30) != 0 or bad:
        fail("produce: %s" % bad[:3])


def main():
    mode = sys.argv[1]
    if mode == "hold":
        return hold(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    if mode == "commit":
        return commit(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    if mode == "produce-ts":
        return produce_ts(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                          int(sys.argv[6]), int(sys.argv[7]))
    if mode == "share":
        share(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]),
              sys.argv[7:])
    elif mode == "coop":
        coop(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail("unknown mode " + mode)


if __name__ == "__main__":
    main()
