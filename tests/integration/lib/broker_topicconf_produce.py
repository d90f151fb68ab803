"""0112: a topic's configs govern Produce: max.message.bytes (MESSAGE_TOO_LARGE,
also on partitions added later, raised live by AlterConfigs), min.insync.replicas
(acks=all refused with NOT_ENOUGH_REPLICAS while the one-node ISR is smaller),
message.timestamp.before/after/difference.max.ms (INVALID_TIMESTAMP),
message.timestamp.type=LogAppendTime (the broker's clock replaces the
producer's timestamp), compression.type (checked by the shell script).

usage: broker_topicconf_produce.py PORT STEP   (STEP: before | after)
"""
import sys
import time

from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import InvalidTimestampError, MessageSizeTooLargeError, NotEnoughReplicasError

port, step = int(sys.argv[1]), sys.argv[2]
bootstrap = "127.0.0.1:%d" % port
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


ac = AdminClient({"bootstrap.servers": bootstrap})
producer = None


def new_producer():
    # Made after the partitions it writes to exist: kafka-python's first
    # (all-topics) metadata fetch runs in the background and would otherwise
    # cache a partition count from before CreatePartitions.
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=10 << 20,
                         retries=0, linger_ms=0)


def send(topic, value, partition=0, ts=None):
    try:
        md = producer.send(topic, value, partition=partition, timestamp_ms=ts).get(timeout=20)
        return md.offset
    except MessageSizeTooLargeError:
        return "too large"


def read_all(topic, partition=0):
    """Every record of the partition up to its high watermark (30 s at most).
    Reading until the consumer has been idle for a while would return early
    when the first fetch is slow (a loaded machine)."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                      enable_auto_commit=False)
    tp = TopicPartition(topic, partition)
    c.assign([tp])
    c.seek_to_beginning(tp)
    end = c.end_offsets([tp])[tp]
    out, deadline = [], time.time() + 30
    while c.position(tp) < end and time.time() < deadline:
        for recs in c.poll(timeout_ms=500).values():
            out.extend(recs)
    c.close()
    return out


if step == "before":
    fs = ac.create_topics([NewTopic("small", 1, 1, config={"max.message.bytes": "2000"}),
                           NewTopic("lat", 1, 1, config={"message.timestamp.type": "LogAppendTime"}),
                           NewTopic("ct", 1, 1)])
    for f in fs.values():
        f.result(10)
    ac.create_partitions([NewPartitions("small", 2)])["small"].result(10)
    producer = new_producer()
    check(send("small", b"a" * 1000) == 0, "1000 bytes fit")
    check(send("small", b"b" * 3000) == "too large", "3000 bytes refused on partition 0")
    check(send("small", b"c" * 3000, partition=1) == "too large",
          "3000 bytes refused on a partition added later")
    r = ConfigResource("topic", "small", set_config={"max.message.bytes": "10000"})
    ac.alter_configs([r])[r].result(10)
    check(send("small", b"d" * 3000, partition=1) == 0, "3000 bytes fit after the alter, live")
    # LogAppendTime: the broker's clock; CreateTime: the producer's.
    t0 = int(time.time() * 1000)
    check(send("lat", b"x", ts=1000) == 0, "send lat")
    check(send("ct", b"y", ts=1000) == 0, "send ct")
    got = read_all("lat")
    check(len(got) == 1 and got[0].timestamp_type == 1 and got[0].timestamp >= t0 - 1000,
          "LogAppendTime record %r" % (got,))
    got = read_all("ct")
    check(len(got) == 1 and got[0].timestamp_type == 0 and got[0].timestamp == 1000,
          "CreateTime record %r" % (got,))
    # Switched live: LogAppendTime -> CreateTime.
    r = ConfigResource("topic", "lat", set_config={})
    ac.alter_configs([r])[r].result(10)
    check(send("lat", b"z", ts=2000) == 1, "send lat again")
    got = read_all("lat")
    check(len(got) == 2 and got[1].timestamp == 2000 and got[1].timestamp_type == 0,
          "CreateTime after the alter %r" % (got,))
    # min.insync.replicas=2 on a one-node ISR: acks=all refused, acks=1 served.
    ac.create_topics([NewTopic("misr", 1, 1, config={"min.insync.replicas": "2"})])["misr"].result(10)
    try:
        producer.send("misr", b"all").get(timeout=20)
        check(False, "acks=all accepted with min.insync.replicas=2")
    except NotEnoughReplicasError:
        pass
    one = KafkaProducer(bootstrap_servers=bootstrap, acks=1, retries=0)
    check(one.send("misr", b"one").get(timeout=20).offset == 0, "acks=1 with min.insync.replicas=2")
    one.close()
    r = ConfigResource("topic", "misr", set_config={"min.insync.replicas": "1"})
    ac.alter_configs([r])[r].result(10)
    check(producer.send("misr", b"all").get(timeout=20).offset == 1, "acks=all after the alter")
    # Timestamp limits on CreateTime topics: INVALID_TIMESTAMP outside the window.
    fs = ac.create_topics([
        NewTopic("tslim", 1, 1, config={"message.timestamp.before.max.ms": "3600000",
                                        "message.timestamp.after.max.ms": "60000"}),
        NewTopic("tsdiff", 1, 1, config={"message.timestamp.difference.max.ms": "5000"}),
        NewTopic("tslat", 1, 1, config={"message.timestamp.difference.max.ms": "5000",
                                        "message.timestamp.type": "LogAppendTime"})])
    for f in fs.values():
        f.result(10)

    def ts_send(topic, ts):
        try:
            return producer.send(topic, b"t", timestamp_ms=ts).get(timeout=20).offset
        except InvalidTimestampError:
            return "invalid"
    now = int(time.time() * 1000)
    check(ts_send("tslim", now - 2 * 3600000) == "invalid", "2 h old refused")
    check(ts_send("tslim", now + 86400000) == "invalid", "1 day ahead refused")
    check(ts_send("tslim", now - 600000) == 0, "10 min old accepted")
    check(ts_send("tsdiff", now - 60000) == "invalid", "difference.max.ms: 1 min old refused")
    check(ts_send("tsdiff", int(time.time() * 1000)) == 0, "difference.max.ms: now accepted")
    check(ts_send("tslat", 1000) == 0, "LogAppendTime topics ignore the limits")
else:
    # After a kill -9: the altered limit holds for both partitions.
    producer = new_producer()
    check(send("small", b"e" * 3000, partition=1) == 1, "3000 bytes fit after restart")
    check(send("small", b"f" * 20000) == "too large", "20000 bytes refused after restart")
    got = read_all("small", 1)
    check([len(m.value) for m in got] == [3000, 3000], "partition 1 holds %r" % ([len(m.value) for m in got],))

producer.close()
if failures:
    sys.exit(1)
print("produce", step, "OK")
