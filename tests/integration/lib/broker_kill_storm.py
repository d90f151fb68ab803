"""0122: kill -9 during a produce storm loses no acknowledged record.

usage: broker_kill_storm.py produce PORT PID ACKED_FILE
       broker_kill_storm.py verify  PORT ACKED_FILE

produce: a confluent-kafka producer (acks=all, no retries, so nothing is
reordered) writes numbered records to 3 partitions as fast as it can and
records every acknowledged (partition, offset, value); once 20000 are
acknowledged the broker is killed with SIGKILL while the producer keeps
sending.  verify (after a restart on the same log directory): every
acknowledged record is at its offset with its value, and in each partition
the acknowledged records are in the order they were produced.
"""
import json
import os
import signal
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

TOPIC = "storm"
PARTS = 3
KILL_AT = 20000


def produce(port, pid, path):
    acked = []
    killed = [False]
    p = Producer({"bootstrap.servers": "127.0.0.1:%d" % port, "acks": "all",
                  "linger.ms": 2, "retries": 0, "enable.idempotence": False,
                  "message.timeout.ms": 8000, "socket.timeout.ms": 3000,
                  "queue.buffering.max.messages": 200000,
                  "topic.metadata.refresh.interval.ms": 1000})

    def cb(err, msg):
        if err is None:
            acked.append((msg.partition(), msg.offset(), msg.value().decode()))
            if len(acked) >= KILL_AT and not killed[0]:
                killed[0] = True
                os.kill(pid, signal.SIGKILL)

    i = 0
    deadline = time.time() + 60
    after_kill = None
    while time.time() < deadline:
        try:
            p.produce(TOPIC, value=b"v%09d" % i, partition=i % PARTS, on_delivery=cb)
            i += 1
        except BufferError:
            p.poll(0.01)
        p.poll(0)
        if killed[0] and after_kill is None:
            after_kill = time.time()
        if after_kill is not None and time.time() - after_kill > 1.0:
            break
    left = p.flush(20)
    if not killed[0]:
        print("FAIL: only %d records acknowledged; the broker was never killed" % len(acked),
              file=sys.stderr)
        return 1
    with open(path, "w") as f:
        json.dump(acked, f)
    print("produced %d, acknowledged %d, undelivered at the end %d" % (i, len(acked), left))
    return 0


def verify(port, path):
    with open(path) as f:
        acked = [tuple(a) for a in json.load(f)]
    want = {}
    for part, off, val in acked:
        want.setdefault(part, {})[off] = val
    c = Consumer({"bootstrap.servers": "127.0.0.1:%d" % port, "group.id": "unused",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    c.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTS)])
    got = {p: {} for p in range(PARTS)}
    eof = set()
    deadline = time.time() + 60
    while len(eof) < PARTS and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                eof.add(m.partition())
            continue
        got[m.partition()][m.offset()] = m.value().decode()
    c.close()
    bad = 0
    for part, offs in want.items():
        for off, val in offs.items():
            if got[part].get(off) != val:
                bad += 1
                if bad <= 5:
                    print("FAIL: %d@%d acknowledged %s, read %r" % (part, off, val,
                          got[part].get(off)), file=sys.stderr)
        # Acknowledged records of a partition are in production order.
        seq = [int(offs[o][1:]) for o in sorted(offs)]
        if seq != sorted(seq):
            bad += 1
            print("FAIL: partition %d: acknowledged records out of order" % part,
                  file=sys.stderr)
    if len(eof) < PARTS:
        print("FAIL: did not reach the end of every partition", file=sys.stderr)
        bad += 1
    print("verified %d acknowledged records (%s read)" % (
        len(acked), sum(len(g) for g in got.values())))
    return 1 if bad else 0


if sys.argv[1] == "produce":
    sys.exit(produce(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
sys.exit(verify(int(sys.argv[2]), sys.argv[3]))
