"""0104: produce and fetch through seglogd with kafka-python and
confluent-kafka: acks 0/1/all, codecs, keys and headers, manual assignment,
seek, offsets_for_times, end offsets, long polling woken by a produce, an
idempotent producer of 100,000 messages consumed back complete.

usage: broker_produce_fetch.py PORT
"""
import sys
import threading
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

bootstrap = "127.0.0.1:%s" % sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def consume(topic, partition, start, n, timeout_ms=30000):
    """The first n records from offset start, waiting timeout_ms at most for
    them (not for a pause in the stream: the first fetch may be slow)."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tp = TopicPartition(topic, partition)
    c.assign([tp])
    c.seek(tp, start)
    out, deadline = [], time.time() + timeout_ms / 1000.0
    while len(out) < n and time.time() < deadline:
        for recs in c.poll(timeout_ms=200, max_records=n - len(out)).values():
            out.extend(recs)
    c.close()
    return out


# kafka-python producer: acks=all and acks=1 with every codec it has, keys, headers.
t_before = int(time.time() * 1000) - 1
for acks, codec, topic in (("all", None, "kp-none"), ("all", "gzip", "kp-gzip"),
                           (1, "snappy", "kp-snappy"), (1, "lz4", "kp-lz4")):
    p = KafkaProducer(bootstrap_servers=bootstrap, acks=acks, compression_type=codec,
                      linger_ms=5)
    futs = [p.send(topic, key=b"k%d" % i, value=b"value-%d" % i,
                   headers=[("h", b"%d" % i)], partition=0) for i in range(200)]
    p.flush(10)
    offs = [f.get(timeout=10).offset for f in futs]
    check(offs == list(range(200)), "%s: produce offsets %r..." % (topic, offs[:5]))
    p.close()
    got = consume(topic, 0, 0, 200)
    check([m.offset for m in got] == list(range(200)), "%s: consumed offsets" % topic)
    check(all(m.key == b"k%d" % m.offset and m.value == b"value-%d" % m.offset and
              m.headers == [("h", b"%d" % m.offset)] for m in got), "%s: record contents" % topic)

# Seek into the middle; end offsets; offsets_for_times.
got = consume("kp-gzip", 0, 150, 10)
check([m.offset for m in got] == list(range(150, 160)), "seek to 150")
c = KafkaConsumer(bootstrap_servers=bootstrap)
tp = TopicPartition("kp-gzip", 0)
check(c.end_offsets([tp]) == {tp: 200}, "end_offsets")
check(c.beginning_offsets([tp]) == {tp: 0}, "beginning_offsets")
found = c.offsets_for_times({tp: t_before})[tp]
check(found is not None and found.offset == 0, "offsets_for_times(before) %r" % (found,))
found = c.offsets_for_times({tp: int(time.time() * 1000) + 3600000})[tp]
check(found is None, "offsets_for_times(future) %r" % (found,))
c.close()

# acks=0: no answers, but the records are there.
p = KafkaProducer(bootstrap_servers=bootstrap, acks=0)
for i in range(50):
    p.send("kp-acks0", value=b"a%d" % i, partition=0)
p.flush(10)
p.close()
got = consume("kp-acks0", 0, 0, 50)
check([m.value for m in got] == [b"a%d" % i for i in range(50)], "acks=0 records")

# A partition that does not exist is refused.
p = KafkaProducer(bootstrap_servers=bootstrap, acks=1, retries=0, max_block_ms=3000)
try:
    p.send("kp-none", value=b"x", partition=7).get(timeout=5)
    check(False, "send to partition 7 succeeded")
except (KafkaError, AssertionError, Exception):
    pass
p.close()

# Long polling: a consumer waiting at the end gets a record produced later.
result = []


def waiter():
    result.extend(consume("kp-none", 0, 200, 1))


th = threading.Thread(target=waiter)
th.start()
time.sleep(1.0)
p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
p.send("kp-none", value=b"late", partition=0).get(timeout=10)
p.close()
th.join(15)
check([m.value for m in result] == [b"late"], "long poll woken by produce: %r" % result)

# confluent-kafka (librdkafka): an idempotent producer (InitProducerId, sequence
# checks in the log) sends 100,000 zstd messages over 3 partitions; all are
# consumed back, none twice.
from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka import TopicPartition as CTP  # noqa: E402

N = 100000
pr = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
               "compression.type": "zstd", "linger.ms": 5})
errors = []
for i in range(N):
    while True:
        try:
            pr.produce("ck-idem", value=b"m%06d" % i, key=b"%d" % (i % 7),
                       on_delivery=lambda err, msg: errors.append(err) if err else None)
            break
        except BufferError:
            pr.poll(0.1)
    if i % 5000 == 0:
        pr.poll(0)
check(pr.flush(60) == 0 and not errors, "idempotent produce: %d left, errors %r" % (len(pr), errors[:3]))
co = Consumer({"bootstrap.servers": bootstrap, "group.id": "t0104", "enable.auto.commit": False})
co.assign([CTP("ck-idem", p, 0) for p in range(3)])
seen = set()
dups = 0
deadline = time.time() + 60
while len(seen) < N and time.time() < deadline:
    m = co.poll(0.5)
    if m is None or m.error():
        continue
    if m.value() in seen:
        dups += 1
    seen.add(m.value())
co.close()
check(dups == 0, "%d duplicates" % dups)
check(seen == {b"m%06d" % i for i in range(N)}, "consumed %d of %d" % (len(seen), N))

if failures:
    sys.exit(1)
print("produce/fetch OK")
