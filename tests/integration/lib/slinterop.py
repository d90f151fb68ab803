"""Shared helpers for the interop tests between libseglog (through sltool) and
kafka-python's record module (tests/integration/0001-*, 0003-*).

The model every test compares is plain data:
  batch  = dict of header fields (names as `sltool dump` prints them) plus
           "records": [record, ...]
  record = dict(offset, timestamp, key, value, headers) where key/value are
           bytes or None and headers a list of (bytes, bytes-or-None) pairs.
Expected values always come from what a test generated (the ground truth), not
from either implementation; both implementations are compared against it.
Formats: docs/FORMAT.md ("Record batches", "Indexes").
"""

import base64
import hashlib
import json
import os
import random
import struct
import subprocess
import sys

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
CODEC_NAMES = {v: k for k, v in CODECS.items()}

ATTR_LOG_APPEND_TIME = 0x08
ATTR_TRANSACTIONAL = 0x10
ATTR_CONTROL = 0x20

V2_HEADER = struct.Struct(">qiibIhiqqqhii")
V2_HEADER_SIZE = V2_HEADER.size  # 61
LOG_OVERHEAD = 12


def import_kafka():
    """Imports kafka-python's record module, or exits 77 (skip) with a reason."""
    try:
        import kafka  # noqa: F401
        import kafka.codec as codec
        import kafka.record  # noqa: F401
    except ImportError as e:
        print("SKIP: kafka-python is not importable: %s" % e)
        sys.exit(77)
    missing = [n for n, ok in (("snappy", codec.has_snappy()), ("lz4", codec.has_lz4()),
                               ("zstd", codec.has_zstd())) if not ok]
    if missing:
        print("SKIP: kafka-python lacks codecs: %s" % ", ".join(missing))
        sys.exit(77)
    if codec.xxhash is None:
        # Only lz4_encode_old_kafka (legacy magic 0 LZ4) needs it.
        codec.xxhash = _PyXXHash
    return kafka


# ---------------------------------------------------------------------------
# xxh32 (for kafka-python's magic-0 LZ4 framing when python3-xxhash is absent)
# ---------------------------------------------------------------------------

_P1, _P2, _P3, _P4, _P5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
_M32 = 0xFFFFFFFF


def _rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & _M32


def xxh32(data, seed=0):
    """XXH32 as the xxhash specification defines it."""
    n = len(data)
    i = 0
    if n >= 16:
        v = [(seed + _P1 + _P2) & _M32, (seed + _P2) & _M32, seed & _M32,
             (seed - _P1) & _M32]
        while i + 16 <= n:
            for k in range(4):
                lane = struct.unpack_from("<I", data, i + 4 * k)[0]
                v[k] = (_rotl((v[k] + lane * _P2) & _M32, 13) * _P1) & _M32
            i += 16
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M32
    else:
        h = (seed + _P5) & _M32
    h = (h + n) & _M32
    while i + 4 <= n:
        h = (h + struct.unpack_from("<I", data, i)[0] * _P3) & _M32
        h = (_rotl(h, 17) * _P4) & _M32
        i += 4
    while i < n:
        h = (h + data[i] * _P5) & _M32
        h = (_rotl(h, 11) * _P1) & _M32
        i += 1
    h ^= h >> 15
    h = (h * _P2) & _M32
    h ^= h >> 13
    h = (h * _P3) & _M32
    h ^= h >> 16
    return h


class _PyXXHash(object):
    class xxh32(object):
        def __init__(self, data=b"", seed=0):
            self._data = bytes(data)
            self._seed = seed

        def digest(self):
            return struct.pack(">I", xxh32(self._data, self._seed))


# ---------------------------------------------------------------------------
# CRCs (kafka-python's own implementations)
# ---------------------------------------------------------------------------

def crc32c(data):
    from kafka.record.util import calc_crc32c
    return calc_crc32c(bytes(data))


def crc32_ieee(data):
    from kafka.record.util import calc_crc32
    return calc_crc32(bytes(data))


def v2_fix_crc(buf):
    """Recomputes the CRC-32C of a v2 batch in place (bytes [21, end))."""
    struct.pack_into(">I", buf, 17, crc32c(buf[21:]))


def legacy_fix_crc(buf, pos=0):
    """Recomputes the CRC-32 of the legacy message starting at pos in place."""
    size = struct.unpack_from(">i", buf, pos + 8)[0]
    struct.pack_into(">I", buf, pos + 12, crc32_ieee(buf[pos + 16:pos + 12 + size]))


# ---------------------------------------------------------------------------
# Deterministic test data
# ---------------------------------------------------------------------------

WORDS = [b"kafka", b"seglog", b"segment", b"offset", b"batch", b"record", b"index",
         b"compaction", b"retention", b"producer", b"epoch", b"\x00\x01\x02", b"\xff"]


def gen_bytes(rng, n, compressible=True):
    """n bytes: mostly repeated words (compressible) with some random bytes, or
    all random when compressible is False."""
    if n is None:
        return None
    if not compressible:
        return bytes(rng.getrandbits(8) for _ in range(n))
    out = bytearray()
    while len(out) < n:
        if rng.random() < 0.1:
            out += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 8)))
        else:
            out += rng.choice(WORDS) + b" "
    return bytes(out[:n])


SIZES = [None, 0, 1, 2, 3, 63, 64, 127, 128, 255, 256, 1000, 8191, 8192, 16383, 16384,
         16385, 16384 * 2 + 7, 70000]


def gen_headers(rng, count):
    """(str key, bytes-or-None value) pairs, as kafka-python takes them."""
    keys = ["", "h", "trace-id", "ключ", "\u2603", "k" * 300]
    out = []
    for i in range(count):
        k = rng.choice(keys) + ("" if rng.random() < 0.5 else str(i))
        v = rng.choice([None, b"", b"v", gen_bytes(rng, rng.choice([5, 200, 17000]))])
        out.append((k, v))
    return out


def headers_as_bytes(headers):
    return [(k.encode("utf-8") if isinstance(k, str) else bytes(k),
             None if v is None else bytes(v)) for k, v in headers]


# ---------------------------------------------------------------------------
# Parsing a .log file independently (struct only)
# ---------------------------------------------------------------------------

def split_entries(data):
    """[(position, size, magic)] of the complete entries of a .log image; raises
    on an incomplete tail (these tests never write one)."""
    out = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 17:
            raise AssertionError("incomplete entry header at byte %d" % pos)
        length = struct.unpack_from(">i", data, pos + 8)[0]
        size = LOG_OVERHEAD + length
        if length < 14 or pos + size > len(data):
            raise AssertionError("bad entry length %d at byte %d" % (length, pos))
        out.append((pos, size, struct.unpack_from(">b", data, pos + 16)[0]))
        pos += size
    return out


def v2_header_fields(buf):
    (base_offset, length, ple, magic, crc, attrs, lod, base_ts, max_ts, pid, pepoch,
     bseq, count) = V2_HEADER.unpack_from(buf, 0)
    return {
        "size": length + LOG_OVERHEAD, "base_offset": base_offset,
        "last_offset_delta": lod, "last_offset": base_offset + lod,
        "partition_leader_epoch": ple, "magic": magic, "crc": crc,
        "attributes": attrs, "codec": CODEC_NAMES.get(attrs & 7, "unknown"),
        "timestamp_type": "LogAppendTime" if attrs & ATTR_LOG_APPEND_TIME else "CreateTime",
        "transactional": bool(attrs & ATTR_TRANSACTIONAL),
        "control": bool(attrs & ATTR_CONTROL), "delete_horizon": bool(attrs & 0x40),
        "base_timestamp": base_ts, "max_timestamp": max_ts, "producer_id": pid,
        "producer_epoch": pepoch, "base_sequence": bseq, "records_count": count,
    }


def read_with_kafka_python(data):
    """Parses a .log image with kafka-python (MemoryRecords): a list of batches
    in the model above, each with "crc_valid" from validate_crc()."""
    from kafka.record.memory_records import MemoryRecords
    from kafka.record.default_records import DefaultRecordBatch
    mr = MemoryRecords(bytes(data))
    batches = []
    entries = split_entries(data)
    for pos, size, magic in entries:
        batch = mr.next_batch()
        if batch is None:
            raise AssertionError("kafka-python stopped before the entry at byte %d" % pos)
        b = {"position": pos, "size": size, "magic": magic}
        if isinstance(batch, DefaultRecordBatch):
            b.update(v2_header_fields(data[pos:pos + size]))
            b["crc_valid"] = batch.validate_crc()
            b["base_offset_kp"] = batch.base_offset
            b["records"] = [dict(offset=r.offset, timestamp=r.timestamp, key=r.key,
                                 value=r.value, headers=headers_as_bytes(r.headers))
                            for r in batch]
        else:
            b["crc_valid"] = batch.validate_crc()
            b["records"] = [dict(offset=r.offset,
                                 timestamp=-1 if r.timestamp is None else r.timestamp,
                                 key=r.key, value=r.value, headers=[])
                            for r in batch]
        batches.append(b)
    if mr.has_next():
        raise AssertionError("kafka-python sees more entries than the file holds")
    return batches


# ---------------------------------------------------------------------------
# sltool
# ---------------------------------------------------------------------------

class Sltool(object):
    def __init__(self, path):
        self.path = path

    def run(self, args, stdin=None):
        p = subprocess.run([self.path] + list(args), input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if p.returncode != 0:
            tail = p.stdout[-2000:]
            shown = tail.decode() if tail.isascii() else "(%d bytes of binary output)" % len(
                p.stdout)
            raise AssertionError("sltool %s failed (exit %d):\n%s\n%s" % (
                " ".join(args), p.returncode, p.stderr.decode(errors="replace"), shown))
        if p.stderr:
            sys.stderr.write(p.stderr.decode(errors="replace"))
        return p.stdout

    def dump(self, path):
        """Batches of a .log file as sltool reads them (model above)."""
        out = self.run(["dump", path])
        batches = []
        for n, line in enumerate(out.decode("ascii").splitlines()):
            obj = json.loads(line)
            if "tail" in obj or "error" in obj:
                raise AssertionError("sltool dump %s, line %d: %s" % (path, n + 1, line))
            b = obj["batch"]
            if not batches or batches[-1]["position"] != b["position"]:
                b = dict(b)
                b["records"] = []
                batches.append(b)
            elif {k: v for k, v in batches[-1].items() if k != "records"} != b:
                raise AssertionError("sltool dump: batch fields differ between records "
                                     "of the batch at byte %d" % b["position"])
            rec = obj["record"]
            if rec is not None:
                batches[-1]["records"].append(decode_record(rec))
        return batches

    def index(self, path):
        return [json.loads(line) for line in
                self.run(["index", path]).decode("ascii").splitlines()]


def b64(data):
    return None if data is None else base64.b64encode(bytes(data)).decode("ascii")


def unb64(s):
    return None if s is None else base64.b64decode(s.encode("ascii"), validate=True)


def decode_record(rec):
    return {"offset": rec["offset"], "timestamp": rec["timestamp"],
            "attributes": rec["attributes"], "key": unb64(rec["key"]),
            "value": unb64(rec["value"]),
            "headers": [(unb64(k), unb64(v)) for k, v in rec["headers"]]}


def record_line(rec):
    """One `sltool build` input line for a record in the model above."""
    obj = {"timestamp": rec["timestamp"], "key": b64(rec["key"]),
           "value": b64(rec["value"]),
           "headers": [[b64(k), b64(v)] for k, v in rec.get("headers", [])]}
    for opt in ("offset", "attributes"):
        if opt in rec:
            obj[opt] = rec[opt]
    return json.dumps(obj, separators=(",", ":"))


# ---------------------------------------------------------------------------
# Comparison with a readable diff
# ---------------------------------------------------------------------------

def show(v):
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v)
        if len(v) <= 48:
            return "b%r (len %d)" % (v.hex(), len(v))
        return "bytes(len %d, sha256 %s, head %s, tail %s)" % (
            len(v), hashlib.sha256(v).hexdigest()[:16], v[:16].hex(), v[-16:].hex())
    return repr(v)


def diff(expected, actual, path, out, limit=60):
    """Appends "path: expected X, got Y" lines; only keys present in `expected`
    are compared (so an expectation can name the fields it cares about)."""
    if len(out) >= limit:
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            out.append("%s: expected a dict, got %s" % (path, show(actual)))
            return
        for k in expected:
            if k not in actual:
                out.append("%s.%s: missing (expected %s)" % (path, k, show(expected[k])))
            else:
                diff(expected[k], actual[k], "%s.%s" % (path, k), out, limit)
    elif isinstance(expected, (list, tuple)) and not isinstance(expected, (bytes, bytearray)):
        if not isinstance(actual, (list, tuple)):
            out.append("%s: expected a list, got %s" % (path, show(actual)))
            return
        if len(expected) != len(actual):
            out.append("%s: expected %d items, got %d" % (path, len(expected), len(actual)))
        for i, (e, a) in enumerate(zip(expected, actual)):
            diff(e, a, "%s[%d]" % (path, i), out, limit)
    else:
        same = expected == actual and type(expected) is type(actual) or (
            isinstance(expected, (bytes, bytearray)) and isinstance(actual, (bytes, bytearray))
            and bytes(expected) == bytes(actual))
        if not same:
            extra = ""
            if isinstance(expected, (bytes, bytearray)) and isinstance(actual, (bytes, bytearray)):
                i = next((i for i, (x, y) in enumerate(zip(expected, actual)) if x != y),
                         min(len(expected), len(actual)))
                extra = " (first difference at byte %d)" % i
            out.append("%s: expected %s, got %s%s" % (path, show(expected), show(actual), extra))


class Checker(object):
    """Collects failures across cases and prints them all at the end."""

    def __init__(self):
        self.failures = []
        self.checks = 0
        self.quiet = False  # for probes whose failures are expected

    def _say(self, line):
        if not self.quiet:
            print(line)

    def compare(self, label, expected, actual):
        self.checks += 1
        out = []
        diff(expected, actual, "$", out)
        if out:
            self.failures.append("MISMATCH %s:\n  " % label + "\n  ".join(out))
            self._say("not ok %d - %s" % (self.checks, label))
        else:
            self._say("ok %d - %s" % (self.checks, label))

    def true(self, label, cond, detail=""):
        self.checks += 1
        if cond:
            self._say("ok %d - %s" % (self.checks, label))
        else:
            self.failures.append("FAILED %s %s" % (label, detail))
            self._say("not ok %d - %s %s" % (self.checks, label, detail))

    def finish(self):
        for f in self.failures:
            print(f)
        print("%d passed, %d failed" % (self.checks - len(self.failures), len(self.failures)))
        return 1 if self.failures else 0


def rng_for(name):
    return random.Random(hashlib.sha256(name.encode()).digest())


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def env_tool(name):
    build = os.environ.get("SEGLOG_BUILD")
    if not build:
        raise SystemExit("SEGLOG_BUILD is not set")
    return os.path.join(build, "tests", name)
