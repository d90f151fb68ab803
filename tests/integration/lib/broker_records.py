"""0105 (part): DeleteRecords, OffsetForLeaderEpoch and DescribeCluster on
the wire, with exact answers.

usage: broker_records.py PORT TOPIC CLUSTER_ID EMPTY_TOPIC
Topic partition 0 must hold offsets 0..59 with the log start offset below 50;
EMPTY_TOPIC partition 0 must exist and be empty.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from broker_wire import connect, frame, header, kstring, recv_frame  # noqa: E402

port, topic, cluster_id, empty = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


s = connect(port)
# DeleteRecords v1 up to offset 50: LowWatermark 50.  Partition 9 is unknown (3).
body = (struct.pack(">i", 1) + kstring(topic) + struct.pack(">i", 2) +
        struct.pack(">iq", 0, 50) + struct.pack(">iq", 9, 1) + struct.pack(">i", 5000))
s.sendall(frame(header(21, 1, 31) + body))
want = (struct.pack(">ii", 31, 0) + struct.pack(">i", 1) + kstring(topic) + struct.pack(">i", 2) +
        struct.pack(">iqh", 0, 50, 0) + struct.pack(">iqh", 9, -1, 3))
got = recv_frame(s)
check(got == want, "DeleteRecords answer %s" % got.hex())
# Beyond the high watermark: OFFSET_OUT_OF_RANGE (1).
body = (struct.pack(">i", 1) + kstring(topic) + struct.pack(">i", 1) +
        struct.pack(">iq", 0, 61) + struct.pack(">i", 5000))
s.sendall(frame(header(21, 1, 32) + body))
got = recv_frame(s)
check(got[-10:] == struct.pack(">qh", -1, 1), "DeleteRecords past HW %s" % got.hex())

# OffsetForLeaderEpoch v2 for epoch 0: epoch 0 ends at the LEO 60; a newer
# CurrentLeaderEpoch is UNKNOWN_LEADER_EPOCH (75).
body = (struct.pack(">i", 1) + kstring(topic) + struct.pack(">i", 2) +
        struct.pack(">iii", 0, -1, 0) + struct.pack(">iii", 0, 5, 0))
s.sendall(frame(header(23, 2, 33) + body))
want = (struct.pack(">iii", 33, 0, 1) + kstring(topic) + struct.pack(">i", 2) +
        struct.pack(">hiiq", 0, 0, 0, 60) + struct.pack(">hiiq", 75, 0, -1, -1))
got = recv_frame(s)
check(got == want, "OffsetForLeaderEpoch answer %s" % got.hex())

# On a partition nothing was written to, the leader's epoch 0 starts and ends
# at offset 0 (Kafka's leader records the epoch when it becomes leader).
body = (struct.pack(">i", 1) + kstring(empty) + struct.pack(">i", 1) +
        struct.pack(">iii", 0, 0, 0))
s.sendall(frame(header(23, 2, 35) + body))
want = (struct.pack(">iii", 35, 0, 1) + kstring(empty) + struct.pack(">i", 1) +
        struct.pack(">hiiq", 0, 0, 0, 0))
got = recv_frame(s)
check(got == want, "OffsetForLeaderEpoch on an empty partition %s" % got.hex())

# DescribeCluster v0: this broker, the cluster id, controller = this node.
s.sendall(frame(header(60, 0, 34, flexible=True) + b"\x00\x00"))
got = recv_frame(s)
cid = cluster_id.encode()
check(cid in got and got[:4] == struct.pack(">i", 34), "DescribeCluster answer %r" % got)
# Ordering with an asynchronous answer: a Fetch at the end of the log parks
# (MaxWaitMs 400, MinBytes 1) and an ApiVersions behind it is answered at once,
# yet the answers leave in request order.
fetch_v4 = (struct.pack(">iiiib", -1, 400, 1, 1 << 20, 0) + struct.pack(">i", 1) + kstring(topic) +
            struct.pack(">i", 1) + struct.pack(">iqi", 0, 60, 1 << 20))
s.sendall(frame(header(1, 4, 41) + fetch_v4) + frame(header(18, 0, 42)))
first, second = recv_frame(s), recv_frame(s)
check(first[:4] == struct.pack(">i", 41) and second[:4] == struct.pack(">i", 42),
      "answers out of order: %r then %r" % (first[:4], second[:4]))
# The parked fetch answered empty: no error, HW 60, no records.
check(first[4:8] == struct.pack(">i", 0), "fetch throttle")
# DescribeLogDirs v1 for partition 0: one directory (absolute path), holding it
# with a size on disk.
s.sendall(frame(header(35, 1, 43) + struct.pack(">i", 1) + kstring(topic) +
                struct.pack(">ii", 1, 0)))
r = recv_frame(s)
corr, throttle, nres, err, plen = struct.unpack(">iiihh", r[:16])
path = r[16:16 + plen].decode()
rest = r[16 + plen:]
ntop, tlen = struct.unpack(">ih", rest[:6])
name = rest[6:6 + tlen].decode()
npart, index, size, lag, future = struct.unpack(">iiqq?", rest[6 + tlen:6 + tlen + 25])
check((corr, nres, err, ntop, name, npart, index, lag, future) == (43, 1, 0, 1, topic, 1, 0, 0, False),
      "DescribeLogDirs answer %r" % r)
check(path == os.path.realpath(os.environ.get("LOG_DIR", path)), "log dir %s" % path)
check(size > 0, "partition size %d" % size)
s.close()
if failures:
    sys.exit(1)
print("records OK")
