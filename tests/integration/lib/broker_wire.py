"""Raw Kafka frames for the seglogd tests: build requests byte by byte and
read responses, with a timeout on every socket operation."""
import socket
import struct

TIMEOUT = 10.0


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def kstring(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def uvarint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def compact_string(s):
    if s is None:
        return b"\x00"
    b = s.encode()
    return uvarint(len(b) + 1) + b


def header(key, version, corr, client="t-wire", flexible=False):
    h = struct.pack(">hhi", key, version, corr) + kstring(client)
    return h + (b"\x00" if flexible else b"")


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def api_versions(corr, version=0, name="t-wire", ver="1.0"):
    if version >= 3:
        return frame(header(18, version, corr, flexible=True) + compact_string(name) +
                     compact_string(ver) + b"\x00")
    return frame(header(18, version, corr))


def metadata_v1(corr, topics=None):
    body = struct.pack(">i", -1) if topics is None else (
        struct.pack(">i", len(topics)) + b"".join(kstring(t) for t in topics))
    return frame(header(3, 1, corr) + body)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_frame(s):
    (size,) = struct.unpack(">i", recv_exact(s, 4))
    return recv_exact(s, size)


def closed_by_peer(s):
    """True if the peer closes the connection (EOF or reset) within TIMEOUT."""
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
