#!/usr/bin/env bash
# 0205: a log directory whose segments kafka-python's record module wrote
# (magic 1 legacy messages, then magic 2 with every codec, keys, headers, null
# vs empty values; a transaction marker; no index files at all) is read offline by
# `seglog consume`, which prints exactly the generated records kcat-style
# (-f with hex modifiers, and -J); `seglog dump` decodes the control record
# and `seglog verify` finds only the missing indexes.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
if ! /usr/bin/python3 -c 'import kafka' 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 cannot import kafka (install python3-kafka)"
  exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 - "$S" "$tmp" "$here/lib" <<'PY'
import base64, json, os, random, struct, subprocess, sys
S, tmp, lib = sys.argv[1:4]
sys.path.insert(0, lib)
import slinterop as sl
sl.import_kafka()
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.legacy_records import LegacyRecordBatchBuilder

rng = random.Random(205)
T0 = 1700000000000
part = os.path.join(tmp, "logs", "kp-0")
os.makedirs(part)
seg = bytearray()
expected = []   # (offset, ts, key, value, [(hk, hv)])
offset = 0

def v2_batch(codec, records, pid=-1, epoch=-1, seq=-1, txn=False):
    global offset
    b = DefaultRecordBatchBuilder(magic=2, compression_type=sl.CODECS[codec],
                                  is_transactional=txn, producer_id=pid,
                                  producer_epoch=epoch, base_sequence=seq,
                                  batch_size=1 << 30)
    for i, (ts, k, v, hs) in enumerate(records):
        b.append(i, timestamp=ts, key=k, value=v, headers=hs)
        expected.append((offset + i, ts, k, v, sl.headers_as_bytes(hs)))
    buf = bytearray(b.build())
    struct.pack_into(">q", buf, 0, offset)
    offset += len(records)
    return buf

# legacy magic 1 messages first, as in a log that predates the v2 format
lb = LegacyRecordBatchBuilder(magic=1, compression_type=0, batch_size=1 << 30)
for i in range(5):
    k = None if i == 2 else b"old-%d" % i
    v = b"" if i == 3 else b"legacy value %d" % i
    lb.append(offset, timestamp=T0 - 100 + i, key=k, value=v)
    expected.append((offset, T0 - 100 + i, k, v, []))
    offset += 1
seg += lb.build()

for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
    recs = []
    for i in range(rng.randint(1, 30)):
        k = rng.choice([None, b"", b"key-%d" % i, bytes([0, 255, i % 256])])
        v = rng.choice([None, b"", sl.gen_bytes(rng, rng.randint(1, 300)),
                        "päyload ✓".encode(), bytes(range(0, 40))])
        hs = sl.gen_headers(rng, rng.randint(0, 2))
        recs.append((T0 + len(expected) + i, k, v, hs))
    seg += v2_batch(codec, recs)

# a transactional batch and its COMMIT marker (control batches are not printed)
seg += v2_batch("none", [(T0 + 500, b"tk", b"tv", [])], pid=7, epoch=0, seq=0, txn=True)
marker = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=True,
                                   producer_id=7, producer_epoch=0, base_sequence=-1,
                                   batch_size=1 << 30)
marker.append(0, timestamp=T0 + 501, key=struct.pack(">hh", 0, 1),
              value=struct.pack(">hi", 0, 3), headers=[])
mbuf = bytearray(marker.build())
struct.pack_into(">q", mbuf, 0, offset)
attrs = struct.unpack_from(">h", mbuf, 21)[0] | 0x20   # control bit
struct.pack_into(">h", mbuf, 21, attrs)
sl.v2_fix_crc(mbuf)
seg += mbuf
offset += 1

sl.write_file(os.path.join(part, "00000000000000000000.log"), bytes(seg))

def run(args, want=0):
    p = subprocess.run([S] + args, capture_output=True)
    if p.returncode != want:
        print("FAIL: seglog %s: rc=%d %s" % (" ".join(args), p.returncode, p.stderr.decode()))
        sys.exit(1)
    return p.stdout

logs = os.path.join(tmp, "logs")
# kcat-style text with hex so every byte is visible
out = run(["consume", "-d", logs, "-t", "kp", "-e", "-f", "%o %T %K %S %xk %xs %xh\n"])
def hx(b):
    return "" if b is None else b.hex()
want = "".join("%d %d %d %d %s %s %s\n" % (
    o, ts, -1 if k is None else len(k), -1 if v is None else len(v), hx(k), hx(v),
    ",".join("%s=%s" % (hk.hex(), hx(hv)) for hk, hv in hs)) for o, ts, k, v, hs in expected)
if out.decode() != want:
    a, b = out.decode().splitlines(), want.splitlines()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            print("FAIL: line %d:\n got  %s\n want %s" % (i, x, y)); break
    print("FAIL: %d lines, want %d" % (len(a), len(b))); sys.exit(1)

# -J: the envelope decodes to the same records
out = run(["consume", "-d", logs, "-t", "kp", "-e", "-J"])
def dec(v):
    return None if v is None else (base64.b64decode(v["base64"]) if isinstance(v, dict) else v.encode())
got = []
for line in out.decode().splitlines():
    e = json.loads(line)
    hs = e.get("headers", [])
    got.append((e["offset"], e["ts"], dec(e["key"]), dec(e["payload"]),
                [(dec(hs[i]), dec(hs[i + 1])) for i in range(0, len(hs), 2)]))
if got != expected:
    print("FAIL: -J records differ"); sys.exit(1)

# dump decodes the marker; verify reports only the missing indexes
out = run(["dump", "--deep-iteration", os.path.join(part, "00000000000000000000.log")])
if b"isControl: true" not in out or b"endTxnMarker: COMMIT coordinatorEpoch: 3" not in out:
    print("FAIL: dump of the marker:\n" + out.decode()[-400:]); sys.exit(1)
out = run(["verify", logs], want=3)
lines = out.decode().splitlines()
if len(lines) != 2 or not all(": at byte 0: missing:" in l for l in lines):
    print("FAIL: verify: %r" % lines); sys.exit(1)
out = run(["offsets", "-d", logs, "-t", "kp", "--time", str(T0 + 500)])
if out.decode().strip() != "kp:0:%d" % (offset - 2):
    print("FAIL: offsets by time: %r" % out); sys.exit(1)
print("0205: ok (%d records from kafka-python)" % len(expected))
PY
