"""Helpers for the seglogfs integration tests (0301-fuse-*.sh, 0302-fuse-*.sh).

  gen N FIRST_OFFSET TS0 [--txn]   sltool input: N records (varied values, keys,
                                   headers, batches of varied size), timestamps
                                   TS0 + 1000*i; --txn adds a committed
                                   transaction (a control batch takes an offset)
  expect VIEW [--from-ts T] IN...  the bytes the mount should show in VIEW
                                   (data, data.lp) for the records of IN...
  check-jsonl TOPIC PART FILE [--from-ts T] IN...   records.jsonl against IN...
  random-reads FILE EXPECTED N     N reads at random positions agree
  value OFFSET IN...               one record's value (offsets/N)
  prefix VIEW FILE... -- IN...     each FILE is VIEW (data, data.lp) of the first
                                   k records of IN... for some k (a reader's
                                   snapshot while a writer appends)
"""
import base64
import json
import os
import random
import struct
import sys


def b64(b):
    return None if b is None else base64.b64encode(b).decode()


def gen(n, first, ts0, txn):
    rnd = random.Random(n * 7919 + first)
    out = []
    i = 0
    batch_left = 0
    while i < n:
        if batch_left == 0:
            batch_left = rnd.choice([1, 3, 17, 50, 120])
            out.append({"batch": {}})
        k = first + i
        kind = k % 11
        if kind == 3:
            value = None
        elif kind == 5:
            value = b""
        elif kind == 7:
            value = bytes([0, 255, 254, 10, 13, 34, 92]) + b"bin%d" % k
        elif kind == 9:
            value = ("u\u00e9\u4e2d \"quoted\" tab\t %d" % k).encode()
        else:
            value = b"value %d " % k + b"x" * rnd.randrange(0, 300)
        key = None if k % 4 == 0 else b"k%d" % k
        headers = [[b64(b"h%d" % k), b64(b"hv")], [b64(b"n"), None]] if k % 6 == 0 else []
        out.append({"timestamp": ts0 + 1000 * k, "key": b64(key), "value": b64(value),
                    "headers": headers})
        i += 1
        batch_left -= 1
        if txn and i == n // 2:
            out.append({"batch": {"producer_id": 7, "producer_epoch": 0, "base_sequence": 0,
                                  "transactional": True}})
            for j in range(5):
                k = first + i
                out.append({"timestamp": ts0 + 1000 * k, "key": b64(b"t%d" % k),
                            "value": b64(b"txn %d" % k)})
                i += 1
            out.append({"marker": {"type": "commit", "producer_id": 7, "producer_epoch": 0,
                                   "coordinator_epoch": 0, "timestamp": ts0 + 1000 * (first + i)}})
            batch_left = 0
    for o in out:
        print(json.dumps(o))


def records(paths):
    """(offset, ts, key, value, headers) in log order; markers take an offset."""
    recs = []
    off = 0
    for p in paths:
        with open(p) as f:
            for line in f:
                o = json.loads(line)
                if "marker" in o:
                    off += 1
                    continue
                if "batch" in o:
                    continue
                dec = lambda s: None if s is None else base64.b64decode(s)
                hs = [(dec(h[0]), dec(h[1])) for h in o.get("headers", [])]
                recs.append((off, o["timestamp"], dec(o["key"]), dec(o["value"]), hs))
                off += 1
    return recs


def select(recs, from_ts):
    if from_ts is None:
        return recs
    for i, r in enumerate(recs):
        if r[1] >= from_ts:
            return recs[i:]
    return []


def parse_from(args):
    if len(args) >= 2 and args[0] == "--from-ts":
        return int(args[1]), args[2:]
    return None, args


def expect(view, args):
    from_ts, paths = parse_from(args)
    w = sys.stdout.buffer
    for _, _, _, v, _ in select(records(paths), from_ts):
        if view == "data":
            w.write((v or b"") + b"\n")
        elif view == "data.lp":
            w.write(struct.pack(">i", -1 if v is None else len(v)) + (v or b""))
        else:
            raise SystemExit("unknown view " + view)


def json_bytes(x):
    if x is None:
        return None
    if isinstance(x, dict):
        return base64.b64decode(x["base64"])
    return x.encode()


def check_jsonl(topic, part, path, args):
    from_ts, paths = parse_from(args)
    want = select(records(paths), from_ts)
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines[-1] != b"":
        raise SystemExit("records.jsonl does not end with a newline")
    lines = lines[:-1]
    if len(lines) != len(want):
        raise SystemExit("records.jsonl: %d lines, want %d" % (len(lines), len(want)))
    for line, (off, ts, k, v, hs) in zip(lines, want):
        o = json.loads(line)
        got = (o["topic"], o["partition"], o["offset"], o["tstype"], o["ts"], o["broker"],
               json_bytes(o["key"]), json_bytes(o["payload"]))
        exp = (topic, int(part), off, "create", ts, -1, k, v)
        if got != exp:
            raise SystemExit("records.jsonl: got %r want %r" % (got, exp))
        gh = o.get("headers", [])
        gh = [(json_bytes(gh[i]), json_bytes(gh[i + 1])) for i in range(0, len(gh), 2)]
        if gh != hs:
            raise SystemExit("headers at %d: got %r want %r" % (off, gh, hs))
        if not hs and "headers" in o:
            raise SystemExit("empty headers written at %d" % off)


def random_reads(path, expected, n):
    with open(expected, "rb") as f:
        exp = f.read()
    size = os.stat(path).st_size
    if size != len(exp):
        raise SystemExit("%s: size %d, want %d" % (path, size, len(exp)))
    rnd = random.Random(42)
    fd = os.open(path, os.O_RDONLY)
    try:
        for _ in range(n):
            pos = rnd.randrange(0, len(exp) + 10)
            ln = rnd.choice([1, 7, 100, 4096, 65536, 200000])
            got = os.pread(fd, ln, pos)
            if got != exp[pos:pos + ln]:
                raise SystemExit("%s: pread(%d, %d) differs" % (path, pos, ln))
        # backwards, as tail does
        pos = len(exp)
        while pos > 0:
            step = min(pos, 8192)
            pos -= step
            if os.pread(fd, step, pos) != exp[pos:pos + step]:
                raise SystemExit("%s: backward pread(%d) differs" % (path, pos))
    finally:
        os.close(fd)


def value(offset, paths):
    for off, _, _, v, _ in records(paths):
        if off == offset:
            sys.stdout.buffer.write(v or b"")
            return
    raise SystemExit("no record at %d" % offset)


def render(view, v):
    if view == "data":
        return (v or b"") + b"\n"
    return struct.pack(">i", -1 if v is None else len(v)) + (v or b"")


def prefix(view, files, paths):
    full = b""
    ends = {0}
    for _, _, _, v, _ in records(paths):
        full += render(view, v)
        ends.add(len(full))
    for f in files:
        with open(f, "rb") as fh:
            got = fh.read()
        if len(got) not in ends or full[:len(got)] != got:
            raise SystemExit("%s (%d bytes) is not a record-aligned prefix" % (f, len(got)))


def main(a):
    if a[0] == "gen":
        gen(int(a[1]), int(a[2]), int(a[3]), "--txn" in a[4:])
    elif a[0] == "expect":
        expect(a[1], a[2:])
    elif a[0] == "check-jsonl":
        check_jsonl(a[1], a[2], a[3], a[4:])
    elif a[0] == "random-reads":
        random_reads(a[1], a[2], int(a[3]))
    elif a[0] == "prefix":
        sep = a.index("--")
        prefix(a[1], a[2:sep], a[sep + 1:])
    elif a[0] == "value":
        value(int(a[1]), a[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
