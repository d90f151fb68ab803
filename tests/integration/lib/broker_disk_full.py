"""0108 (part): produce 1 KB records with acks=all until the log directory's
file system is full (KAFKA_STORAGE_ERROR, 56) or, after the file system has
grown, check that producing works again and every acknowledged record is
readable.

usage: broker_disk_full.py PORT fill|resume STATEFILE
"""
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as CTP

port, mode, state = int(sys.argv[1]), sys.argv[2], sys.argv[3]
bootstrap = "127.0.0.1:%d" % port
acked, errors = [], {}


def cb(err, msg):
    if err:
        errors[err.code()] = errors.get(err.code(), 0) + 1
    else:
        acked.append(msg.value())


pr = Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0, "linger.ms": 0,
               "message.timeout.ms": 10000})
if mode == "fill":
    for i in range(6000):
        pr.produce("full", value=b"f%05d" % i + b"x" * 1000, partition=0, on_delivery=cb)
        pr.poll(0)
        if errors:
            break
    pr.flush(30)
    if 56 not in {int(k) for k in errors}:
        sys.exit("no KAFKA_STORAGE_ERROR: errors %r, %d acked" % (errors, len(acked)))
    with open(state, "w") as f:
        f.write("\n".join(v[:6].decode() for v in acked))
    print("filled: %d acked, errors %r" % (len(acked), errors))
    sys.exit(0)

for i in range(100):
    pr.produce("full", value=b"r%05d" % i, partition=0, on_delivery=cb)
pr.flush(30)
if errors or len(acked) != 100:
    sys.exit("after space returned: errors %r, %d acked" % (errors, len(acked)))
want = set(open(state).read().split()) | {"r%05d" % i for i in range(100)}
co = Consumer({"bootstrap.servers": bootstrap, "group.id": "t0108", "enable.auto.commit": False})
co.assign([CTP("full", 0, 0)])
seen = set()
deadline = time.time() + 30
while not want <= seen and time.time() < deadline:
    m = co.poll(0.5)
    if m is not None and not m.error():
        seen.add(m.value()[:6].decode())
co.close()
missing = want - seen
if missing:
    sys.exit("%d acknowledged records missing, e.g. %r" % (len(missing), sorted(missing)[:3]))
print("resumed: %d records present" % len(seen))
