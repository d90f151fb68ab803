"""Helpers for the seglog-mirror integration tests (04NN-mirror-*), driven by
confluent-kafka (librdkafka) from the Debian python3: produce keyed records
with headers, wait for a topic to reach a count, and compare source and
target partition by partition.  Subcommands print one line and exit 0 on
success, 1 with a reason on failure."""
import struct
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

PATH_HEADER = "seglog.mirror.path"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def admin(bs):
    return AdminClient({"bootstrap.servers": bs})


def create(bs, topic, parts, pairs=()):
    a = admin(bs)
    fs = a.create_topics([NewTopic(topic, parts, 1,
                                   config=dict(p.split("=", 1) for p in pairs))])
    for f in fs.values():
        f.result(30)


def add_partitions(bs, topic, total):
    a = admin(bs)
    fs = a.create_partitions([NewPartitions(topic, total)])
    for f in fs.values():
        f.result(30)


def configs(bs, topic):
    """name=value of the configs set on the topic itself (source
    DYNAMIC_TOPIC_CONFIG), sorted, space-separated."""
    a = admin(bs)
    for f in a.describe_configs([ConfigResource("topic", topic)]).values():
        items = sorted(f.result(30).items())
    return " ".join("%s=%s" % (k, v.value) for k, v in items if v.source == 1)


def alter_configs(bs, topic, pairs):
    """AlterConfigs (replacing): the topic's set configs become exactly pairs."""
    res = ConfigResource("topic", topic, set_config=dict(p.split("=", 1) for p in pairs))
    a = admin(bs)
    for f in a.alter_configs([res]).values():
        f.result(30)


def wait_configs(bs, topic, want, secs):
    """Waits until configs(bs, topic) == want; prints it."""
    deadline = time.time() + secs
    got = None
    while time.time() < deadline:
        got = configs(bs, topic)
        if got == want:
            return got
        time.sleep(0.2)
    fail("configs of %s: want '%s', have '%s' after %d s" % (topic, want, got, secs))


def produce(bs, topic, parts, n, tag="", start=0):
    """n records spread round-robin over parts partitions; key k<tag><i>,
    value with some bytes, two headers (one binary), explicit timestamps."""
    p = Producer({"bootstrap.servers": bs, "linger.ms": 5, "enable.idempotence": True,
                  "queue.buffering.max.messages": 1000000})
    # Recent timestamps: retention.ms (7 days) must not delete them mid-test.
    base = int(time.time() * 1000) - 60000 - (start + n)
    for i in range(start, start + n):
        key = ("k%s%d" % (tag, i)).encode()
        val = (b"v%d-" % i) + bytes([i % 256]) * (i % 40)
        hdrs = [("seq", str(i).encode()), ("bin", bytes([i % 256, 0, 255]))]
        while True:
            try:
                p.produce(topic, value=val, key=key, partition=i % parts, headers=hdrs,
                          timestamp=base + i)
                break
            except BufferError:
                p.poll(0.1)
        if i % 1000 == 0:
            p.poll(0)
    left = p.flush(60)
    if left:
        fail("%d records not delivered to %s" % (left, topic))


def partitions(bs, topic):
    c = Consumer({"bootstrap.servers": bs, "group.id": "mirror-check"})
    try:
        md = c.list_topics(topic, timeout=10)
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            return 0
        return len(t.partitions)
    finally:
        c.close()


def count(bs, topic):
    c = Consumer({"bootstrap.servers": bs, "group.id": "mirror-check"})
    try:
        md = c.list_topics(topic, timeout=10)
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            return -1
        n = 0
        for p in t.partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            n += hi - lo
        return n
    finally:
        c.close()


def read_all(bs, topic):
    """{partition: [(offset, key, value, headers-without-path, path, ts)]}"""
    c = Consumer({"bootstrap.servers": bs, "group.id": "mirror-check",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    out = {}
    try:
        md = c.list_topics(topic, timeout=10)
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            fail("topic %s missing on %s" % (topic, bs))
        tps, pending = [], set()
        for p in t.partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            out[p] = []
            if hi > lo:
                tps.append(TopicPartition(topic, p, lo))
                pending.add(p)
        c.assign(tps)
        deadline = time.time() + 120
        while pending and time.time() < deadline:
            for m in c.consume(10000, 1.0):
                if m.error():
                    if m.error().code() == -191:  # _PARTITION_EOF
                        pending.discard(m.partition())
                        continue
                    fail("consume %s: %s" % (topic, m.error()))
                hs = m.headers() or []
                path = [v for k, v in hs if k == PATH_HEADER]
                rest = [(k, v) for k, v in hs if k != PATH_HEADER]
                out[m.partition()].append((m.offset(), m.key(), m.value(), rest,
                                           path[-1] if path else None, m.timestamp()[1]))
        if pending:
            fail("timed out reading %s" % topic)
    finally:
        c.close()
    return out


def wait_count(bs, topic, n, secs):
    deadline = time.time() + secs
    last = -1
    while time.time() < deadline:
        last = count(bs, topic)
        if last >= n:
            return last
        time.sleep(0.2)
    fail("%s reached %d records, expected %d within %ds" % (topic, last, n, secs))


def compare(src_bs, src_topic, dst_bs, dst_topic, max_dups, want_path):
    """Target partitions hold the source's records in order; duplicates
    (a record seen again) only as a re-sent run, at most max_dups in all."""
    src = read_all(src_bs, src_topic)
    dst = read_all(dst_bs, dst_topic)
    if sorted(src) != sorted(dst):
        fail("partitions differ: %s vs %s" % (sorted(src), sorted(dst)))
    dups = 0
    total = 0
    for p in sorted(src):
        s = [(k, v, h, ts) for (_, k, v, h, _, ts) in src[p]]
        seen = {}
        firsts = []
        for (_, k, v, h, path, ts) in dst[p]:
            if path != want_path:
                fail("partition %d: path header %r, expected %r" % (p, path, want_path))
            rec = (k, v, h, ts)
            if k in seen:
                if seen[k] != rec:
                    fail("partition %d: key %r copied twice with different content" % (p, k))
                dups += 1
                continue
            seen[k] = rec
            firsts.append(rec)
        if firsts != s:
            for i, (a, b) in enumerate(zip(firsts, s)):
                if a != b:
                    fail("partition %d differs at record %d: %r vs %r" % (p, i, a, b))
            fail("partition %d: %d records on target, %d on source" % (p, len(firsts), len(s)))
        total += len(s)
    if dups > max_dups:
        fail("%d duplicates, bound is %d" % (dups, max_dups))
    print("ok: %d records in %d partitions identical and in order, %d duplicates"
          % (total, len(src), dups))


def decode_internal(a_bs, b_bs, src_topic, dst_topic):
    """Checks offset syncs (on A), heartbeats (on B) byte for byte against the
    Java Schema layouts, and that every sync names a real source/target pair."""
    syncs = read_all(a_bs, "mm2-offset-syncs.B.internal")
    raw = Consumer({"bootstrap.servers": a_bs, "group.id": "x", "enable.auto.commit": False})
    n = 0
    src = read_all(a_bs, src_topic)
    dst = read_all(b_bs, dst_topic)
    for p, recs in syncs.items():
        for (_, k, v, h, path, ts) in recs:
            tl = struct.unpack(">h", k[:2])[0]
            topic = k[2:2 + tl].decode()
            part = struct.unpack(">i", k[2 + tl:])[0]
            up, down = struct.unpack(">qq", v)
            exp_k = struct.pack(">h", len(topic)) + topic.encode() + struct.pack(">i", part)
            if k != exp_k or len(v) != 16:
                fail("offset sync key/value layout: %r %r" % (k, v))
            if topic != src_topic:
                continue
            s = [r for r in src[part] if r[0] == up]
            d = [r for r in dst[part] if r[0] == down]
            if not s or not d or s[0][1] != d[0][1]:
                fail("sync %s/%d %d->%d does not name the same record" % (topic, part, up, down))
            n += 1
    raw.close()
    if n == 0:
        fail("no offset syncs for %s" % src_topic)
    hb = read_all(b_bs, "heartbeats")
    m = 0
    now = int(time.time() * 1000)
    for p, recs in hb.items():
        for (_, k, v, h, path, ts) in recs:
            exp_k = struct.pack(">h", 1) + b"A" + struct.pack(">h", 1) + b"B"
            if k != exp_k:
                fail("heartbeat key %r, expected %r" % (k, exp_k))
            ver, t = struct.unpack(">hq", v)
            if ver != 0 or len(v) != 10 or not (now - 600000 < t <= now + 1000):
                fail("heartbeat value %r" % v)
            m += 1
    if m == 0:
        fail("no heartbeats on B")
    print("ok: %d offset syncs and %d heartbeats decoded with the Java layouts" % (n, m))


def group_consume(bs, topic, group, n, out):
    """A group member reads n records (subscribe), commits them synchronously
    and leaves; the keys it read go to out, one per line."""
    c = Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    keys = []
    deadline = time.time() + 60
    while len(keys) < n and time.time() < deadline:
        for m in c.consume(min(500, n - len(keys)), 1.0):
            if m.error():
                fail("consume: %s" % m.error())
            keys.append(m.key().decode())
    if len(keys) < n:
        fail("group %s read %d of %d records" % (group, len(keys), n))
    c.commit(asynchronous=False)
    c.close()
    with open(out, "w") as f:
        f.write("\n".join(keys) + "\n")
    print("ok: %s read and committed %d records" % (group, n))


def group_resume(bs, topic, group, out):
    """A member of the same group on the other cluster: reads from the
    committed (translated) offsets until idle for 3 s; keys to out."""
    c = Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    keys = []
    # The first records wait for the group join (the coordinator may delay
    # the first rebalance: group.initial.rebalance.delay.ms); then 3 s idle
    # means the end.
    idle = time.time() + 30
    deadline = time.time() + 90
    while time.time() - idle < 3 and time.time() < deadline:
        got = c.consume(1000, 0.5)
        for m in got:
            if m.error():
                fail("consume: %s" % m.error())
            keys.append(m.key().decode())
        if got:
            idle = time.time()
    c.close()
    with open(out, "w") as f:
        f.write("\n".join(keys) + "\n")
    print("ok: %s read %d records on the target" % (group, len(keys)))


def committed(bs, topic, group):
    c = Consumer({"bootstrap.servers": bs, "group.id": group})
    md = c.list_topics(topic, timeout=10)
    tps = [TopicPartition(topic, p) for p in md.topics[topic].partitions]
    res = {tp.partition: tp.offset for tp in c.committed(tps, timeout=10)}
    c.close()
    return res


def checkpoints(bs, topic, group):
    """Decodes Checkpoint records (Java layout, version 0) for group; prints
    partition upstream downstream of the newest per partition."""
    last = {}
    for p, recs in read_all(bs, topic).items():
        for (_, k, v, h, path, ts) in recs:
            gl = struct.unpack(">h", k[:2])[0]
            g = k[2:2 + gl].decode()
            tl = struct.unpack(">h", k[2 + gl:4 + gl])[0]
            t = k[4 + gl:4 + gl + tl].decode()
            part = struct.unpack(">i", k[4 + gl + tl:])[0]
            ver, up, down, ml = struct.unpack(">hqqh", v[:20])
            if ver != 0 or len(v) != 20 + ml:
                fail("checkpoint value layout: %r" % v)
            if g == group:
                last[(t, part)] = (up, down)
    for (t, part), (up, down) in sorted(last.items()):
        print(t, part, up, down)


def main():
    cmd = sys.argv[1]
    a = sys.argv[2:]
    if cmd == "create":
        create(a[0], a[1], int(a[2]), a[3:])
    elif cmd == "add-partitions":
        add_partitions(a[0], a[1], int(a[2]))
    elif cmd == "produce":
        produce(a[0], a[1], int(a[2]), int(a[3]), a[4] if len(a) > 4 else "",
                int(a[5]) if len(a) > 5 else 0)
    elif cmd == "count":
        print(count(a[0], a[1]))
    elif cmd == "partitions":
        print(partitions(a[0], a[1]))
    elif cmd == "wait-count":
        print(wait_count(a[0], a[1], int(a[2]), int(a[3])))
    elif cmd == "compare":
        compare(a[0], a[1], a[2], a[3], int(a[4]), a[5].encode() if a[5] != "-" else None)
    elif cmd == "decode-internal":
        decode_internal(a[0], a[1], a[2], a[3])
    elif cmd == "group-consume":
        group_consume(a[0], a[1], a[2], int(a[3]), a[4])
    elif cmd == "group-resume":
        group_resume(a[0], a[1], a[2], a[3])
    elif cmd == "committed":
        for p, o in sorted(committed(a[0], a[1], a[2]).items()):
            print(p, o)
    elif cmd == "configs":
        print(configs(a[0], a[1]))
    elif cmd == "alter-configs":
        alter_configs(a[0], a[1], a[2:])
    elif cmd == "wait-configs":
        print(wait_configs(a[0], a[1], a[2], int(a[3])))
    elif cmd == "checkpoints":
        checkpoints(a[0], a[1], a[2])
    else:
        fail("unknown command " + cmd)


if __name__ == "__main__":
    main()
