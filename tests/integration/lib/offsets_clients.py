"""0136: committed offsets through real clients.  kafka-python 2.0.2 and
confluent-kafka (librdkafka 2.0.2): manual commits with metadata in a
"simple" group (assign(), generation -1), committed() and the admin view
(kafka-python's list_consumer_group_offsets), commits by a subscribed member
of a real group (generation checked), each client reading what the other
committed, and a new consumer of the group resuming at the committed offset.
argv: port.  Topic "ct" (3 partitions, 30 records, 10 per partition) exists."""
import sys
import time

from confluent_kafka import Consumer, TopicPartition as CTP
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

BS = "127.0.0.1:%s" % sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def poll_n(consumer, n, secs=30):
    got = []
    end = time.time() + secs
    while len(got) < n and time.time() < end:
        m = consumer.poll(1.0)
        if m is not None and not m.error():
            got.append(m)
    return got


# 1. kafka-python, simple group: assign + commit with metadata.
kp = KafkaConsumer(bootstrap_servers=BS, group_id="kp-simple", enable_auto_commit=False,
                   api_version=(2, 5, 0))
tps = [TopicPartition("ct", p) for p in range(3)]
kp.assign(tps)
kp.commit({tps[0]: OffsetAndMetadata(3, "kp-meta"), tps[1]: OffsetAndMetadata(7, "")})
check(kp.committed(tps[0]) == 3 and kp.committed(tps[1]) == 7 and kp.committed(tps[2]) is None,
      "kafka-python committed %r" % [kp.committed(t) for t in tps])
kp.close()

# 2. confluent-kafka reads them (metadata included) and commits its own.
cc = Consumer({"bootstrap.servers": BS, "group.id": "kp-simple", "enable.auto.commit": False})
got = cc.committed([CTP("ct", p) for p in range(3)], timeout=10)
check([t.offset for t in got] == [3, 7, -1001], "confluent sees %r" % got)
md = [getattr(t, "metadata", None) for t in got]
if md[0] is not None:  # confluent-kafka >= 2.? exposes metadata
    check(md[0] == "kp-meta", "metadata %r" % md)
cc.commit(offsets=[CTP("ct", 2, 9)], asynchronous=False)
cc.close()
kp = KafkaConsumer(bootstrap_servers=BS, group_id="kp-simple", enable_auto_commit=False,
                   api_version=(2, 5, 0))
check(kp.committed(tps[2]) == 9, "kafka-python sees confluent's commit %r" % kp.committed(tps[2]))
kp.close()

# 3. The admin view.
admin = KafkaAdminClient(bootstrap_servers=BS)
offs = admin.list_consumer_group_offsets("kp-simple")
check({tp.partition: om.offset for tp, om in offs.items()} == {0: 3, 1: 7, 2: 9},
      "list_consumer_group_offsets %r" % offs)
check(offs[tps[0]].metadata == "kp-meta", "admin metadata %r" % (offs[tps[0]],))
admin.close()

# 4. A subscribed confluent consumer commits as a group member (generation
#    checked); a second one in the same group resumes after it.
c1 = Consumer({"bootstrap.servers": BS, "group.id": "cg", "enable.auto.commit": False,
               "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
c1.subscribe(["ct"])
msgs = poll_n(c1, 15)
check(len(msgs) == 15, "c1 got %d" % len(msgs))
last = {}
for m in msgs:
    last[m.partition()] = m.offset()
c1.commit(asynchronous=False)
committed = {t.partition: t.offset for t in c1.committed([CTP("ct", p) for p in range(3)],
                                                          timeout=10)}
check(all(committed[p] == last[p] + 1 for p in last), "c1 committed %r vs last %r" %
      (committed, last))
c1.close()
rest = 30 - sum(committed[p] for p in last)
c2 = Consumer({"bootstrap.servers": BS, "group.id": "cg", "enable.auto.commit": False,
               "auto.offset.reset": "earliest"})
c2.subscribe(["ct"])
msgs2 = poll_n(c2, rest)
check(len(msgs2) == rest, "c2 got %d, want %d" % (len(msgs2), rest))
check(all(m.offset() >= committed.get(m.partition(), 0) for m in msgs2),
      "c2 re-read committed records")
time.sleep(0.5)
check(c2.poll(1.0) is None, "c2 got more than the rest")
c2.close()

# 5. kafka-python as a subscribed member with auto commit off.
k1 = KafkaConsumer("ct", bootstrap_servers=BS, group_id="kg", enable_auto_commit=False,
                   auto_offset_reset="earliest", api_version=(2, 5, 0),
                   consumer_timeout_ms=15000)
n = 0
for m in k1:
    n += 1
    if n == 30:
        break
k1.commit()
pos = {p: k1.committed(TopicPartition("ct", p)) for p in range(3)}
check(pos == {0: 10, 1: 10, 2: 10}, "kafka-python member committed %r" % pos)
k1.close()
cc = Consumer({"bootstrap.servers": BS, "group.id": "kg"})
got = cc.committed([CTP("ct", p) for p in range(3)], timeout=10)
check([t.offset for t in got] == [10, 10, 10], "confluent sees kg %r" % got)
cc.close()

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
