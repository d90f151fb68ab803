"""0123 helper: produce numbered records to every partition of a topic, or
read a partition back and check it is exactly the records 0..n-1 in order.

usage: broker_torn_tail.py produce PORT TOPIC PARTITIONS COUNT FIRST
       broker_torn_tail.py read    PORT TOPIC PARTITION   (prints the count)
"""
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def produce(port, topic, parts, count, first):
    acked = [0]

    def cb(err, msg):
        if err is None:
            acked[0] += 1
    p = Producer({"bootstrap.servers": "127.0.0.1:%d" % port, "acks": "all",
                  "linger.ms": 5, "batch.num.messages": 50})
    for part in range(parts):
        for i in range(first, first + count):
            p.produce(topic, value=b"r%07d" % i, partition=part, on_delivery=cb)
            p.poll(0)
    p.flush(30)
    if acked[0] != parts * count:
        print("FAIL: %d of %d acknowledged" % (acked[0], parts * count), file=sys.stderr)
        return 1
    return 0


def read(port, topic, part):
    c = Consumer({"bootstrap.servers": "127.0.0.1:%d" % port, "group.id": "unused",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "check.crcs": True})
    c.assign([TopicPartition(topic, part, 0)])
    vals = []
    deadline = time.time() + 30
    while time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:
                break
            print("FAIL: consumer error %s" % m.error(), file=sys.stderr)
            return 1
        vals.append((m.offset(), m.value().decode()))
    c.close()
    want = [(i, "r%07d" % i) for i in range(len(vals))]
    if vals != want:
        print("FAIL: %s-%d is not records 0..%d in order" % (topic, part, len(vals) - 1),
              file=sys.stderr)
        return 1
    print(len(vals))
    return 0


if sys.argv[1] == "produce":
    sys.exit(produce(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                     int(sys.argv[6])))
sys.exit(read(int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
