"""0150: seglogd's zero-copy Fetch (sendfile from segment files) against its
copying Fetch path (SEGLOG_FETCH_SENDFILE=0).

usage: broker_zerocopy.py produce PORT
       broker_zerocopy.py dump PORT OUT          (same output from both paths)
       broker_zerocopy.py retention PORT DATADIR BROKER_PID
       broker_zerocopy.py disconnect PORT DATADIR BROKER_PID

produce: topics zc-<codec> (every codec, 6 partitions, 64 KiB segments) and
  zc-many (64 partitions) filled by confluent-kafka with keys and headers.
dump: everything read back by raw Fetch requests (v4 and the flexible v12,
  one partition at a time with several PartitionMaxBytes, and all partitions
  at once under a MaxBytes), by kafka-python and by confluent-kafka; the raw
  answers are hashed, the records written out.  Each batch's CRC and the
  records themselves are checked against what was produced, so the dump is
  right, not only equal.  The shell compares the two dumps byte for byte.
retention: a Fetch whose answer the client does not read stays half-sent
  while DeleteRecords and retention delete the segment it comes from; the
  broker keeps that segment open (a "(deleted)" fd), the client then reads
  answers identical to the one read before the deletion, and the fd goes.
disconnect: the same, but the client resets the connection mid-answer (with
  more fetches pipelined behind it): the segment is released, the broker goes
  on serving.
"""
import hashlib
import os
import socket
import struct
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KTP

from group_wire import R
from kafka.record import MemoryRecords

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import broker_wire as w  # noqa: E402

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PARTS = 6
PER_TOPIC = 1500
MANY_PARTS = 64
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def value_of(topic, i):
    # Sizes from 0 to ~3 KiB, compressible but not constant.
    n = (i * 37) % 3000
    return (("%s-%06d|" % (topic, i)) * (n // 16 + 1)).encode()[:n]


def key_of(i):
    return None if i % 7 == 0 else b"k%d" % (i % 50)


def headers_of(i):
    return [("h", b"%d" % i)] if i % 3 == 0 else []


def topics():
    return ["zc-" + c for c in CODECS] + ["zc-many"]


def nparts(topic):
    return MANY_PARTS if topic == "zc-many" else PARTS


def count_of(topic):
    return 3 * MANY_PARTS if topic == "zc-many" else PER_TOPIC


def produce(port):
    bs = "127.0.0.1:%d" % port
    admin = AdminClient({"bootstrap.servers": bs})
    new = [NewTopic(t, nparts(t), 1, config={"segment.bytes": "65536"}) for t in topics()]
    for t, f in admin.create_topics(new).items():
        f.result(30)
    for t in topics():
        codec = t[3:] if t != "zc-many" else "lz4"
        p = Producer({"bootstrap.servers": bs, "compression.type": codec, "linger.ms": 20,
                      "batch.num.messages": 40, "acks": "all"})
        for i in range(count_of(t)):
            p.produce(t, value_of(t, i), key_of(i), partition=i % nparts(t),
                      headers=headers_of(i))
            if i % 500 == 0:
                p.poll(0)
        check(p.flush(30) == 0, "%s: not everything was delivered" % t)


# ---- raw Fetch ----

def fetch_v4(corr, parts, max_bytes, max_wait=0, min_bytes=0):
    """parts: [(topic, [(partition, offset, partition_max_bytes)])]"""
    body = struct.pack(">iiiib", -1, max_wait, min_bytes, max_bytes, 0)
    body += struct.pack(">i", len(parts))
    for t, ps in parts:
        body += w.kstring(t) + struct.pack(">i", len(ps))
        for p, off, pmb in ps:
            body += struct.pack(">iqi", p, off, pmb)
    return w.frame(w.header(1, 4, corr) + body)


def fetch_v12(corr, parts, max_bytes, max_wait=0, min_bytes=0):
    body = struct.pack(">iiiibii", -1, max_wait, min_bytes, max_bytes, 0, 0, -1)
    body += w.uvarint(len(parts) + 1)
    for t, ps in parts:
        body += w.compact_string(t) + w.uvarint(len(ps) + 1)
        for p, off, pmb in ps:
            body += struct.pack(">iiqiqi", p, -1, off, -1, -1, pmb) + b"\x00"
        body += b"\x00"
    body += w.uvarint(1)  # forgotten topics: none
    body += w.compact_string("")  # rack id
    body += b"\x00"
    return w.frame(w.header(1, 12, corr, flexible=True) + body)


def parse_fetch(resp, version):
    """-> {(topic, partition): (error, hw, records bytes)}"""
    flex = version >= 12
    r = R(resp, flex)
    r.i32()  # correlation id
    r.tags()  # response header v1 (flexible versions; no-op otherwise)
    r.i32()  # throttle
    if version >= 7:
        r.i16()
        r.i32()
    out = {}

    def aborted(r):
        r.i64()
        r.i64()
        r.tags()

    def partition(r, t):
        p, err, hw, _lso = r.i32(), r.i16(), r.i64(), r.i64()
        if version >= 5:
            r.i64()
        r.arr(aborted)
        if version >= 11:
            r.i32()
        recs = r.bytes() or b""
        r.tags()
        out[(t, p)] = (err, hw, recs)

    def topic(r):
        t = r.str()
        r.arr(lambda r: partition(r, t))
        r.tags()

    r.arr(topic)
    r.tags()
    check(r.o == len(resp), "fetch v%d answer has %d trailing bytes" % (version, len(resp) - r.o))
    return out


def batches(recs):
    """Checks every batch (framing, CRC) and yields (last offset + 1, records)."""
    pos = 0
    while pos + 12 <= len(recs):
        pos += 12 + struct.unpack_from(">i", recs, pos + 8)[0]
    check(pos == len(recs), "records end in a partial batch (%d of %d)" % (pos, len(recs)))
    mr = MemoryRecords(recs)
    while mr.has_next():
        b = mr.next_batch()
        if b is None:
            check(False, "a partial batch was sent")
            return
        check(b.validate_crc(), "batch at %d fails its CRC" % b.base_offset)
        rs = list(b)
        yield b.base_offset + b.last_offset_delta + 1, rs


def expected(topic, partition):
    n = nparts(topic)
    return [i for i in range(count_of(topic)) if i % n == partition]


def check_records(topic, partition, rs, where):
    exp = expected(topic, partition)
    got = [(r.offset, r.key, r.value, [(k, bytes(v)) for k, v in r.headers]) for r in rs]
    want = [(o, key_of(i), value_of(topic, i), headers_of(i)) for o, i in enumerate(exp)]
    check(got == want, "%s: %s-%d records differ (%d read, %d produced)" %
          (where, topic, partition, len(got), len(want)))


def raw_dump(port, out):
    s = w.connect(port)
    corr = 0
    for version, build, sizes in ((4, fetch_v4, (1, 100000)), (12, fetch_v12, (5000, 1048576))):
        for pmb in sizes:
            for t in topics():
                for p in range(nparts(t)):
                    off, rs = 0, []
                    for _ in range(100000):
                        corr += 1
                        s.sendall(build(corr, [(t, [(p, off, pmb)])], 52428800))
                        resp = w.recv_frame(s)
                        out.write(("raw v%d %s-%d @%d %s\n" % (
                            version, t, p, off, hashlib.sha256(resp).hexdigest())).encode())
                        err, hw, recs = parse_fetch(resp, version)[(t, p)]
                        if not check(err == 0, "fetch %s-%d @%d: error %d" % (t, p, off, err)):
                            break
                        if not recs:
                            break
                        for nxt, brs in batches(recs):
                            rs.extend(r for r in brs if r.offset >= off)
                            off = nxt
                        if off >= hw:
                            break
                    check_records(t, p, rs, "raw fetch v%d max %d" % (version, pmb))
        # Every partition in one request, under MaxBytes: which partitions get
        # data, and how much, is the same on both paths.
        for max_bytes in (1, 30000, 1000000):
            corr += 1
            parts = [(t, [(p, 0, 20000) for p in range(nparts(t))]) for t in topics()]
            s.sendall(build(corr, parts, max_bytes))
            resp = w.recv_frame(s)
            out.write(("raw-all v%d max %d %s\n" % (
                version, max_bytes, hashlib.sha256(resp).hexdigest())).encode())
            for (t, p), (err, _hw, recs) in sorted(parse_fetch(resp, version).items()):
                check(err == 0, "fetch-all %s-%d: error %d" % (t, p, err))
                list(batches(recs))
    s.close()


def kafka_python_dump(port, out):
    c = KafkaConsumer(bootstrap_servers="127.0.0.1:%d" % port, enable_auto_commit=False,
                      api_version_auto_timeout_ms=10000, max_partition_fetch_bytes=70000)
    for t in topics():
        tps = [KTP(t, p) for p in range(nparts(t))]
        c.assign(tps)
        c.seek_to_beginning()
        got = {p: [] for p in range(nparts(t))}
        deadline = time.time() + 60  # bounds the wait for the records, not a pause
        while sum(map(len, got.values())) < count_of(t) and time.time() < deadline:
            left = count_of(t) - sum(map(len, got.values()))
            for recs in c.poll(timeout_ms=200, max_records=left).values():
                for m in recs:
                    got[m.partition].append(m)
        for p in range(nparts(t)):
            check_records(t, p, got[p], "kafka-python")
            for m in got[p]:
                out.write(b"kp %s %d %d %d %r %r %r\n" % (t.encode(), p, m.offset, m.timestamp,
                                                         m.key, m.value, m.headers))
    c.close()


def confluent_dump(port, out):
    c = Consumer({"bootstrap.servers": "127.0.0.1:%d" % port, "group.id": "zc-unused",
                  "enable.auto.commit": False, "fetch.max.bytes": 200000,
                  "message.max.bytes": 100000,
                  "max.partition.fetch.bytes": 30000})
    for t in topics():
        n = nparts(t)
        c.assign([TopicPartition(t, p, -2) for p in range(n)])
        got = {p: [] for p in range(n)}
        deadline = time.time() + 60
        while sum(map(len, got.values())) < count_of(t) and time.time() < deadline:
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                check(False, "confluent-kafka: %s" % m.error())
                continue
            got[m.partition()].append(m)
        for p in range(n):
            ms = got[p]
            exp = expected(t, p)
            check([(m.offset(), m.key(), m.value(), m.headers() or []) for m in ms] ==
                  [(o, key_of(i), value_of(t, i), headers_of(i)) for o, i in enumerate(exp)],
                  "confluent-kafka: %s-%d records differ" % (t, p))
            for m in ms:
                out.write(b"ck %s %d %d %r %r %r\n" % (t.encode(), p, m.offset(), m.key(),
                                                      m.value(), m.headers()))
    c.close()


# ---- retention and disconnect during a send ----

def delete_records(port, topic, partition, offset):
    body = struct.pack(">i", 1) + w.kstring(topic) + struct.pack(">iiq", 1, partition, offset)
    body += struct.pack(">i", 10000)
    s = w.connect(port)
    s.sendall(w.frame(w.header(21, 0, 7) + body))
    r = R(w.recv_frame(s), False)
    s.close()
    r.i32()
    r.i32()
    r.i32()
    r.take(r.i16())
    r.i32()
    r.i32()
    low, err = r.i64(), r.i16()
    check(err == 0 and low == offset, "DeleteRecords: error %d, low watermark %d" % (err, low))


def deleted_fds(pid, name):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if name in target and target.endswith("(deleted)"):
            n += 1
    return n


def wait_for(cond, secs, what):
    deadline = time.time() + secs
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return check(False, what)


def slow_socket(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(w.TIMEOUT)
    s.connect(("127.0.0.1", port))
    return s


def stalled_fetch(port, datadir, pid, topic, abort):
    bs = "127.0.0.1:%d" % port
    admin = AdminClient({"bootstrap.servers": bs})
    cfg = {"segment.bytes": "1048576", "file.delete.delay.ms": "0"}
    for _t, f in admin.create_topics([NewTopic(topic, 1, 1, config=cfg)]).items():
        f.result(30)
    p = Producer({"bootstrap.servers": bs, "linger.ms": 50, "batch.num.messages": 64})
    total = 3000
    for i in range(total):
        p.produce(topic, b"%06d" % i + b"x" * 1000, partition=0)
    check(p.flush(30) == 0, "%s: not everything was delivered" % topic)
    first = os.path.join(datadir, "%s-0" % topic, "%020d.log" % 0)
    check(os.path.exists(first), "no first segment " + first)

    # The answer as read at once, before anything is deleted.
    req = fetch_v4(99, [(topic, [(0, 0, 1048576)])], 52428800)
    s = w.connect(port)
    s.sendall(req)
    ref = w.recv_frame(s)
    s.close()
    err, _hw, recs = parse_fetch(ref, 4)[(topic, 0)]
    check(err == 0 and len(recs) > 500000, "reference fetch: error %d, %d bytes" % (err, len(recs)))

    # Eight answers of ~1 MiB: more than the broker's socket can buffer
    # (tcp_wmem's maximum is 4 MiB), so a slice stays pending.
    slow = slow_socket(port)
    copies = 8
    slow.sendall(req * copies)
    head = w.recv_exact(slow, 1000)
    time.sleep(0.5)  # the broker now waits for the socket with the slice held
    delete_records(port, topic, 0, total - 1)  # every segment but the active one may go
    wait_for(lambda: not os.path.exists(first), 15,
             "retention did not delete %s during the send" % first)
    wait_for(lambda: deleted_fds(pid, "%s-0/" % topic) > 0, 5,
             "the broker does not hold the deleted segment for the pending send")
    if abort:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        slow.close()  # reset
    else:
        (size,) = struct.unpack(">i", head[:4])
        rest = w.recv_exact(slow, size + 4 - len(head))
        check(head[4:] + rest == ref, "the answer sent during retention differs")
        for i in range(1, copies):
            check(w.recv_frame(slow) == ref, "answer %d sent during retention differs" % i)
        slow.close()
    wait_for(lambda: deleted_fds(pid, "%s-0/" % topic) == 0, 10,
             "the deleted segment is still open after the send ended")
    # Still serving: the old offsets are gone, the rest is there.
    s = w.connect(port)
    s.sendall(fetch_v4(5, [(topic, [(0, 0, 1048576)])], 52428800))
    err0 = parse_fetch(w.recv_frame(s), 4)[(topic, 0)][0]
    check(err0 == 1, "fetch below the log start: error %d, want OFFSET_OUT_OF_RANGE" % err0)
    s.sendall(fetch_v4(6, [(topic, [(0, total - 1, 1048576)])], 52428800))
    err1, _hw, recs = parse_fetch(w.recv_frame(s), 4)[(topic, 0)]
    vals = [r.value for _n, rs in batches(recs) for r in rs if r.offset == total - 1]
    check(err1 == 0 and vals == [b"%06d" % (total - 1) + b"x" * 1000],
          "the last record after retention: error %d" % err1)
    s.close()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "produce":
        produce(port)
    elif mode == "dump":
        with open(sys.argv[3], "wb") as out:
            raw_dump(port, out)
            kafka_python_dump(port, out)
            confluent_dump(port, out)
    elif mode in ("retention", "disconnect"):
        abort = mode == "disconnect"
        stalled_fetch(port, sys.argv[3], int(sys.argv[4]), "zc-" + mode, abort)
    else:
        sys.exit("unknown mode " + mode)
    if failures:
        sys.exit("%d failure(s)" % len(failures))
    print("ok", mode)


main()
