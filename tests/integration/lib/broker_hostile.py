"""0103: hostile and unusual frames against seglogd.  Bad sizes, unknown
ApiKeys, versions that are not advertised and malformed bodies close the
connection (ApiVersions answers UNSUPPORTED_VERSION in a v0 body, KIP-511);
exact ApiVersions bytes; pipelined requests are answered in order; a client
that does not read is held back without stalling others; a frame that
announces a large size costs only the bytes actually sent; the broker keeps
serving throughout.

usage: broker_hostile.py PORT METRICS_PORT PID MAX_REQUEST_BYTES
"""
import socket
import struct
import sys
import threading
import time as _t
import urllib.request

sys.path.insert(0, __import__("os").path.dirname(__file__))
from broker_wire import (TIMEOUT, api_versions, closed_by_peer, connect, frame, header,  # noqa: E402
                         kstring, metadata_v1, recv_exact, recv_frame)

port, metrics_port, pid, max_req = (int(a) for a in sys.argv[1:5])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


# What seglogd advertises: (ApiKey, min, max), in key order.
APIS = [(0, 3, 9), (1, 4, 13), (2, 1, 7), (3, 0, 12),
        (8, 0, 8), (9, 0, 8),
        (10, 0, 4), (11, 0, 9), (12, 0, 4), (13, 0, 5), (14, 0, 5), (15, 0, 5), (16, 0, 4),
        (18, 0, 3), (19, 0, 7), (20, 0, 6),
        (21, 0, 2), (22, 0, 4), (23, 0, 4), (32, 0, 4), (33, 0, 2), (35, 0, 4),
        (37, 0, 3),
        (42, 0, 2),
        (44, 0, 1), (47, 0, 0), (60, 0, 1)]
API_RANGES_V0 = struct.pack(">i", len(APIS)) + b"".join(struct.pack(">hhh", *a) for a in APIS)


def still_serving(what):
    s = connect(port)
    s.sendall(api_versions(4242))
    try:
        resp = recv_frame(s)
        check(resp[:4] == struct.pack(">i", 4242), "after %s: correlation id" % what)
    except (EOFError, OSError) as e:
        check(False, "after %s: broker no longer serves (%s)" % (what, e))
    s.close()


def expect_closed(raw, what):
    s = connect(port)
    s.sendall(raw)
    check(closed_by_peer(s), "%s: connection not closed" % what)
    s.close()
    still_serving(what)


# 1. Exact ApiVersions answers.
s = connect(port)
s.sendall(api_versions(7, 0))
check(recv_frame(s) == struct.pack(">ih", 7, 0) + API_RANGES_V0, "ApiVersions v0 bytes")
s.sendall(api_versions(8, 1))
check(recv_frame(s) == struct.pack(">ih", 8, 0) + API_RANGES_V0 + struct.pack(">i", 0),
      "ApiVersions v1 bytes")
s.sendall(api_versions(9, 3, "kcat", "1.7.1"))
v3 = (struct.pack(">ih", 9, 0) + bytes([len(APIS) + 1]) +
      b"".join(struct.pack(">hhh", *a) + b"\x00" for a in APIS) + struct.pack(">i", 0) + b"\x00")
got = recv_frame(s)
check(got == v3, "ApiVersions v3 bytes %s" % got.hex())
# KIP-511: v99 is answered with a v0 body and UNSUPPORTED_VERSION; the connection stays.
s.sendall(frame(header(18, 99, 10, flexible=True) + b"\x00\x00\x00"))
check(recv_frame(s) == struct.pack(">ih", 10, 35) + API_RANGES_V0, "ApiVersions v99 -> 35")
s.sendall(api_versions(11, 3, "-bad-", "1.0"))
check(recv_frame(s)[:6] == struct.pack(">ih", 11, 42), "invalid ClientSoftwareName -> 42")
s.sendall(api_versions(12, 2))
check(recv_frame(s)[:6] == struct.pack(">ih", 12, 0), "connection usable after errors")
s.close()

# InitProducerId: an idempotent producer gets an id and epoch 0; a
# transactional id is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53).
s = connect(port)
s.sendall(frame(header(22, 1, 21) + kstring(None) + struct.pack(">i", 60000)))
r = recv_frame(s)
check(len(r) == 20 and r[:10] == struct.pack(">iih", 21, 0, 0) and
      struct.unpack(">q", r[10:18])[0] > 0 and r[18:] == b"\x00\x00",
      "InitProducerId v1 answer %s" % r.hex())
s.sendall(frame(header(22, 1, 22) + kstring("txn-1") + struct.pack(">i", 60000)))
r = recv_frame(s)
check(r[:10] == struct.pack(">iih", 22, 0, 53), "transactional InitProducerId %s" % r.hex())
s.close()

# 2. Hostile sizes: closed before any body is read.
expect_closed(b"\xff\xff\xff\xff", "size 0xFFFFFFFF")
expect_closed(struct.pack(">i", -2), "size -2")
expect_closed(struct.pack(">i", 0x7FFFFFFF), "size 2^31-1")
expect_closed(struct.pack(">i", max_req + 1) + b"\x00" * 64, "size socket.request.max.bytes+1")
expect_closed(struct.pack(">i", 0), "size 0")
expect_closed(frame(b"\x00\x12\x00"), "size 3")

# 3. Unknown or unserved ApiKeys, versions not advertised, malformed bodies.
expect_closed(frame(header(999, 0, 1)), "ApiKey 999")
expect_closed(frame(header(-1, 0, 1)), "ApiKey -1")
expect_closed(frame(header(24, 0, 1) + b"\x00" * 40), "AddPartitionsToTxn (not served yet)")
expect_closed(frame(header(0, 2, 1) + b"\x00" * 40), "Produce v2 (below the advertised range)")
expect_closed(frame(header(22, 5, 1, flexible=True) + b"\x00" * 20), "InitProducerId v5")
expect_closed(frame(header(3, 13, 1, flexible=True) + b"\x01\x00\x00\x00"), "Metadata v13")
expect_closed(frame(header(3, 1, 1) + struct.pack(">i", 1000000)), "Metadata count > bytes")
expect_closed(frame(struct.pack(">hhi", 3, 1, 1) + struct.pack(">h", 500) + b"abc"),
              "client id longer than frame")
expect_closed(frame(header(3, 1, 1) + struct.pack(">i", 1) + struct.pack(">h", -1)),
              "null topic name before v10")

# 4. A frame of exactly socket.request.max.bytes is accepted (padding after the body is ignored).
s = connect(port)
req = header(18, 0, 77)
s.sendall(frame(req + b"\x00" * (max_req - len(req))))
check(recv_frame(s)[:6] == struct.pack(">ih", 77, 0), "frame of exactly the max size")
s.close()

# 5. Byte-at-a-time delivery.
s = connect(port)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for b in metadata_v1(55, ["nope"]):
    s.sendall(bytes([b]))
resp = recv_frame(s)
check(resp[:4] == struct.pack(">i", 55), "byte-at-a-time correlation")
s.close()

# 6. Pipelining: 500 requests in one write, answers in request order.
s = connect(port)
s.sendall(b"".join(api_versions(i, i % 4) if i % 2 else metadata_v1(i) for i in range(500)))
order = [struct.unpack(">i", recv_frame(s)[:4])[0] for _ in range(500)]
check(order == list(range(500)), "pipelined answers out of order")
s.close()

# 7. A client that does not read: its answers pile up until the broker stops
#    reading from it (seglog_connections_paused), while another client is served;
#    then it reads everything, in order.
def metric(name):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port,
                                  timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def sysctl_max(path, default):
    try:
        with open(path) as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return default


# Each answer echoes 400 topic names of 249 bytes (~100 KB).  Send more than
# the kernel can buffer (receive + send maxima) plus the broker's 8 MiB, so the
# broker has to push back whatever this machine's TCP settings.
kernel = (sysctl_max("/proc/sys/net/ipv4/tcp_rmem", 6 << 20) +
          sysctl_max("/proc/sys/net/ipv4/tcp_wmem", 4 << 20))
N_SLOW = max(200, (kernel + (12 << 20)) // 100000 + 1)
names = ["t%03d" % i + "x" * 245 for i in range(400)]
slow = connect(port)
batch = b"".join(metadata_v1(i, names) for i in range(N_SLOW))
sender = threading.Thread(target=lambda: slow.sendall(batch))
sender.daemon = True
sender.start()
paused = None
for _ in range(100):  # up to 10 s for the broker to push back
    paused = metric("seglog_connections_paused")
    if paused:
        break
    _t.sleep(0.1)
check(paused == 1, "slow client: reading never paused (%r)" % paused)
check(sender.is_alive(), "slow client: the broker read everything without pushing back")
for k in range(5):
    still_serving("slow client %d" % k)
got = 0
while got < N_SLOW:
    r = recv_frame(slow)
    (corr,) = struct.unpack(">i", r[:4])
    if corr != got:
        check(False, "slow client: answer %d has correlation %d" % (got, corr))
        break
    got += 1
sender.join(TIMEOUT)
check(not sender.is_alive(), "slow client: sender still blocked")
check(metric("seglog_connections_paused") == 0, "slow client: still paused after draining")
slow.close()


# 8. Announced-but-unsent sizes cost only what arrives: 100 connections each
#    announce max_req bytes and send 10.
def rss_kib():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


before = rss_kib()
idle = []
for i in range(100):
    c = connect(port)
    c.sendall(struct.pack(">i", max_req) + header(18, 0, i)[:10])
    idle.append(c)
still_serving("100 half-sent frames")
grown = rss_kib() - before
check(grown < 50 * 1024, "RSS grew by %d KiB for 100 announced frames of %d bytes" % (grown, max_req))
for c in idle:
    c.close()

# 9. 1000 idle connections are held, then each is answered.
import resource  # noqa: E402

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = 1000
if soft < want + 200:
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    except (ValueError, OSError):
        pass
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < want + 200:
        want = max(100, soft - 200)
        print("note: only %d connections (RLIMIT_NOFILE %d)" % (want, soft), file=sys.stderr)
before = rss_kib()
conns = [connect(port) for _ in range(want)]
still_serving("%d idle connections" % want)
check(metric("seglog_connections_active") >= want, "connections_active %r" % metric("seglog_connections_active"))
grown = rss_kib() - before
check(grown < 32 * 1024, "RSS grew by %d KiB for %d idle connections" % (grown, want))
for i, c in enumerate(conns):
    c.sendall(api_versions(i, 0))
for i, c in enumerate(conns):
    check(recv_frame(c)[:4] == struct.pack(">i", i), "connection %d answer" % i)
    c.close()

# 10. Random bodies under every served API and version (seeded): each is
#     answered or its connection closed; the broker keeps serving.  Admin APIs
#     that create things get raw random bytes only (a plausible body could ask
#     for 100000 partitions).
import random  # noqa: E402

FIRST_FLEXIBLE = {0: 9, 1: 12, 2: 6, 3: 9, 18: 3, 19: 5, 20: 4, 21: 2, 22: 2, 23: 4, 32: 4, 33: 2, 44: 1,
                  35: 2, 37: 2, 60: 0}
FIRST_FLEXIBLE.update({10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3, 42: 2})  # groups
FIRST_FLEXIBLE.update({8: 8, 9: 6, 47: 99})  # offsets (OffsetDelete is never flexible)
rng = random.Random(20261125)


def plausible(n):
    out = b""
    while len(out) < n:
        kind = rng.randrange(6)
        if kind == 0:
            out += struct.pack(">i", rng.choice([0, 1, 2, -1, 3]))
        elif kind == 1:
            out += struct.pack(">h", rng.choice([0, 1, -1, 5]))
        elif kind == 2:
            out += kstring(rng.choice(["t", "ret", "a-b", "", "x" * 300]))
        elif kind == 3:
            out += bytes([rng.choice([0, 1, 2, 3, 0x7f, 0x80, 0xff])])
        elif kind == 4:
            out += struct.pack(">q", rng.choice([0, -1, -2, 1 << 40]))
        else:
            out += bytes(rng.randrange(256) for _ in range(rng.randrange(8)))
    return out


sent = 0
conn = None
for key, lo, hi in APIS:
    for version in range(lo, hi + 1):
        for k in range(12):
            if conn is None:
                conn = connect(port)
            flex = version >= FIRST_FLEXIBLE[key]
            n = rng.randrange(0, 96)
            body = (bytes(rng.randrange(256) for _ in range(n)) if key in (19, 37) or k % 3 == 0
                    else plausible(n))
            corr = 100000 + sent
            sent += 1
            try:
                conn.sendall(frame(header(key, version, corr, flexible=flex) + body))
                r = recv_frame(conn)
                check(r[:4] == struct.pack(">i", corr),
                      "random %d v%d: correlation %r" % (key, version, r[:4]))
            except (EOFError, ConnectionError):
                conn.close()
                conn = None
            except socket.timeout:
                # Only Produce with acks=0 may go unanswered.
                check(key == 0, "random %d v%d: no answer and not closed" % (key, version))
                conn.close()
                conn = None
if conn is not None:
    conn.close()
still_serving("%d random bodies" % sent)

still_serving("everything")
text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port, timeout=10).read().decode()
perr = [l for l in text.splitlines() if l.startswith("seglog_protocol_errors_total ")]
check(perr and int(perr[0].split()[1]) >= 15, "protocol errors counted: %r" % perr)
if failures:
    sys.exit(1)
print("hostile OK")
