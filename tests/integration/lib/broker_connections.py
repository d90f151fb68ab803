"""0121: connection faults against seglogd.

usage: broker_connections.py normal PORT METRICS_PORT PID
       broker_connections.py lowfd  PORT METRICS_PORT PID

normal: clients that disconnect mid-request (half a frame, then FIN or RST),
mid-response (large Fetch answers never read, then FIN or RST) and with 64
pipelined requests outstanding; afterwards every connection is freed
(seglog_connections_active back to 0), the broker still serves, and the
records produced before are all still read back.

lowfd (the broker runs with RLIMIT_NOFILE 64): 150 clients connect at once;
those the broker has descriptors for are answered, the others are closed
(never left hanging), the broker does not spin while it is out of
descriptors, and once the clients leave it serves new ones again.
"""
import os
import socket
import struct
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from broker_wire import TIMEOUT, api_versions, connect, frame, header, kstring, recv_frame  # noqa: E402

mode = sys.argv[1]
port, metrics_port, pid = (int(a) for a in sys.argv[2:5])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def metric(name):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port,
                                  timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def still_serving(what):
    try:
        s = connect(port)
        s.sendall(api_versions(4242))
        resp = recv_frame(s)
        check(resp[:4] == struct.pack(">i", 4242), "after %s: correlation id" % what)
        s.close()
    except (EOFError, OSError) as e:
        check(False, "after %s: broker no longer serves (%s)" % (what, e))


def wait_connections_zero(what):
    for _ in range(200):
        if metric("seglog_connections_active") == 0:
            return
        time.sleep(0.05)
    check(False, "after %s: connections_active stays %r" % (what, metric("seglog_connections_active")))


def reset_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def fetch_v4(corr, topic, partition, offset, max_bytes):
    body = struct.pack(">iiiib", -1, 0, 0, max_bytes, 0)
    body += struct.pack(">i", 1) + kstring(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, max_bytes)
    return frame(header(1, 4, corr) + body)


def produce_records(topic, n, size):
    from confluent_kafka import Producer
    acked = []
    p = Producer({"bootstrap.servers": "127.0.0.1:%d" % port, "acks": "all",
                  "linger.ms": 5})

    def cb(err, msg):
        if err is None:
            acked.append(msg.offset())
    for i in range(n):
        p.produce(topic, value=(b"%08d" % i) * (size // 8), partition=0, on_delivery=cb)
        p.poll(0)
    p.flush(30)
    return len(acked)


def consume_count(topic, expect):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": "127.0.0.1:%d" % port, "group.id": "unused",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    seen = []
    deadline = time.time() + 30
    while len(seen) < expect and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            seen.append(m.offset())
    c.close()
    return seen


def normal():
    topic = "conn-faults"
    n = produce_records(topic, 2000, 2048)
    check(n == 2000, "only %d of 2000 records acknowledged" % n)
    fetch = fetch_v4(1, topic, 0, 0, 64 << 20)

    # Mid-request: half a frame, then FIN or RST.
    for i in range(40):
        s = connect(port)
        s.sendall(fetch[:len(fetch) // 2])
        s.close() if i % 2 else reset_close(s)
    still_serving("disconnects mid-request")

    # Mid-response: several MiB of answers asked for and never read.
    for i in range(20):
        s = connect(port)
        s.sendall(b"".join(fetch_v4(10 + k, topic, 0, 0, 64 << 20) for k in range(4)))
        time.sleep(0.02)
        s.close() if i % 2 else reset_close(s)
    still_serving("disconnects mid-response")

    # 64 pipelined requests outstanding, then gone.
    for i in range(5):
        s = connect(port)
        s.sendall(b"".join(api_versions(k) for k in range(64)) + fetch)
        reset_close(s)
    still_serving("disconnects with pipelined requests")
    wait_connections_zero("the disconnects")

    seen = consume_count(topic, 2000)
    check(seen == list(range(2000)), "records after the disconnects: %d, not 0..1999 in order"
          % len(seen))


def cpu_seconds():
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lowfd():
    conns = []
    for _ in range(150):
        conns.append(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT))
    answered = closed = hung = 0
    for i, s in enumerate(conns):
        s.settimeout(5)
        try:
            s.sendall(api_versions(i))
            body = recv_frame(s)
            answered += body[:4] == struct.pack(">i", i)
        except socket.timeout:
            hung += 1
        except (EOFError, OSError):
            closed += 1
    check(hung == 0, "%d connections left hanging" % hung)
    check(answered >= 20, "only %d connections answered" % answered)
    check(closed >= 1, "no connection was refused with RLIMIT_NOFILE 64 (answered %d)" % answered)
    # Out of descriptors, with clients still knocking: no busy loop.  (A
    # spinning loop burns a full second of CPU per second; allow a tenth.)
    before = cpu_seconds()
    extra = []
    for _ in range(20):
        try:
            extra.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            pass
    time.sleep(1.0)
    used = cpu_seconds() - before
    check(used < 0.5, "broker used %.2f s of CPU in 1 s while out of descriptors" % used)
    for s in conns + extra:
        s.close()
    wait_connections_zero("the descriptor shortage")
    still_serving("the descriptor shortage")


if mode == "normal":
    normal()
else:
    lowfd()
sys.exit(1 if failures else 0)
