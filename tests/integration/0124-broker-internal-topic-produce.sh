#!/usr/bin/env bash
# 0124: clients cannot write the internal topic __consumer_offsets (Kafka's
# INVALID_TOPIC_EXCEPTION "Cannot append to internal topic"): a confluent-kafka
# producer gets the error for its record, nothing lands in the topic, and the
# coordinator's own commits still do.  Nor can they delete it (AdminClient
# delete_topics: INVALID_TOPIC_EXCEPTION), and the commit is still there after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
broker_init
broker_start "$T/broker.log" --override offsets.topic.num.partitions=1 \
  --override group.initial.rebalance.delay.ms=0

PYTHONPATH="$here/lib" timeout 60 "$BROKER_PY" - "$PORT" <<'PY' || broker_fail "internal topic produce"
import sys
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
bs = "127.0.0.1:%s" % sys.argv[1]
errors = []
p = Producer({"bootstrap.servers": bs, "message.timeout.ms": 10000, "retries": 0})
p.produce("__consumer_offsets", key=b"k", value=b"v", partition=0,
          on_delivery=lambda err, msg: errors.append(err))
p.flush(15)
assert len(errors) == 1 and errors[0] is not None, errors
assert errors[0].code() == KafkaError.TOPIC_EXCEPTION, errors[0]
print("produce refused:", errors[0].str())

def end_offset():
    c = Consumer({"bootstrap.servers": bs, "group.id": "probe", "enable.auto.commit": False})
    lo, hi = c.get_watermark_offsets(TopicPartition("__consumer_offsets", 0), timeout=10)
    c.close()
    return hi
before = end_offset()
assert before == 0, before
# A commit by the coordinator is still written (to an existing topic).
p.produce("data", value=b"x", partition=0)
assert p.flush(15) == 0
c = Consumer({"bootstrap.servers": bs, "group.id": "g", "enable.auto.commit": False})
c.commit(offsets=[TopicPartition("data", 0, 5)], asynchronous=False)
c.close()
after = end_offset()
assert after > before, (before, after)
print("ok: client write refused, coordinator commit stored (end %d -> %d)" % (before, after))

from confluent_kafka.admin import AdminClient
a = AdminClient({"bootstrap.servers": bs})
fut = a.delete_topics(["__consumer_offsets"], operation_timeout=10)["__consumer_offsets"]
try:
    fut.result()
    raise AssertionError("internal topic deleted")
except Exception as e:
    err = e.args[0]
    assert err.code() == KafkaError.TOPIC_EXCEPTION, err
    print("delete refused:", err.str())
assert end_offset() == after
c = Consumer({"bootstrap.servers": bs, "group.id": "g", "enable.auto.commit": False})
got = c.committed([TopicPartition("data", 0)], timeout=10)
c.close()
assert got[0].offset == 5, got
print("ok: delete refused, the group's offset is still 5")

# DeleteTopics v5+ carries the reason (confluent-kafka 2.0.2 asks at a lower
# version): raw v5 request, flexible encoding.
from group_wire import Conn, W
conn = Conn(int(sys.argv[1]))
body = W(True).arr(["__consumer_offsets"], lambda w, t: w.str(t)).i32(10000).tags().b
r = conn.recv(20, 5, conn.send(20, 5, body))
r.i32()  # throttle
res = r.arr(lambda r: (r.str(), r.i16(), r.str(), r.tags())[:3])
conn.close()
assert res == [("__consumer_offsets", 17, "Cannot delete internal topic __consumer_offsets")], res
print("ok: DeleteTopics v5:", res[0])
PY
grep -q "Cannot append to internal topic" "$T/broker.log" && broker_fail "refusal logged as a broker fault" || true
echo "ok"
