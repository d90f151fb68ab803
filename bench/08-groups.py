"""Consumer-group benchmarks (bench/08-groups.sh runs this against seglogd and
against librdkafka's mock cluster in the same invocation).

    stabilise BOOT TOPIC PARTITIONS ROUNDS
        Nine confluent-kafka members (range, heartbeat.interval.ms=100) form a
        stable group over TOPIC; then, ROUNDS times, a tenth member subscribes
        and we time how long until all ten hold their new assignment (every
        partition owned by exactly one member, each member non-empty); the
        tenth then closes and the nine settle again.  Prints one line:
        "stabilise rounds=R median_ms=M min_ms=m max_ms=x".
(Commits per second are bench/08-commit.sh's.)
"""
import statistics
import sys
import threading
import time

from confluent_kafka import Consumer


class Member:
    def __init__(self, boot, topic, group, name):
        self.assigned = set()
        self.lock = threading.Lock()
        self.stop = False
        self.c = Consumer({"bootstrap.servers": boot, "group.id": group, "client.id": name,
                           "partition.assignment.strategy": "range",
                           "heartbeat.interval.ms": 100, "session.timeout.ms": 6000,
                           "enable.auto.commit": False, "auto.offset.reset": "latest"})
        self.topic = topic
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def on_assign(self, c, parts):
        with self.lock:
            self.assigned = {p.partition for p in parts}

    def on_revoke(self, c, parts):
        with self.lock:
            self.assigned = set()

    def run(self):
        self.c.subscribe([self.topic], on_assign=self.on_assign, on_revoke=self.on_revoke)
        while not self.stop:
            self.c.poll(0.01)
        self.c.close()

    def get(self):
        with self.lock:
            return set(self.assigned)


def stable(members, nparts):
    seen = set()
    for m in members:
        a = m.get()
        if not a or seen & a:
            return False
        seen |= a
    return seen == set(range(nparts))


def wait(cond, what, secs=120):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.002)
    sys.exit("bench-groups: timed out waiting for " + what)


def stabilise(boot, topic, nparts, rounds):
    nine = [Member(boot, topic, "bench-stabilise", "m%d" % i) for i in range(9)]
    wait(lambda: stable(nine, nparts), "nine stable members")
    times = []
    for r in range(rounds):
        t0 = time.monotonic()
        tenth = Member(boot, topic, "bench-stabilise", "joiner%d" % r)
        wait(lambda: stable(nine + [tenth], nparts), "ten stable members")
        times.append((time.monotonic() - t0) * 1000)
        tenth.stop = True
        tenth.t.join(30)
        wait(lambda: stable(nine, nparts), "nine stable members again")
        time.sleep(0.5)
    for m in nine:
        m.stop = True
    for m in nine:
        m.t.join(30)
    print("stabilise rounds=%d median_ms=%.0f min_ms=%.0f max_ms=%.0f"
          % (rounds, statistics.median(times), min(times), max(times)))


if __name__ == "__main__":
    if sys.argv[1] != "stabilise":
        sys.exit("usage: 08-groups.py stabilise BOOT TOPIC PARTITIONS ROUNDS")
    stabilise(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
