"""Test 0003: libseglog writes, kafka-python reads.

Part 1 (build): `sltool build` turns generated records into v2 batches with
every codec; kafka-python (MemoryRecords, DefaultRecordBatch.validate_crc)
must read back exactly the generated records and header fields.  Uncompressed
batches must be byte-identical to what kafka-python's own builder writes for
the same records; compressed batches must hold the same records section once
decompressed, in the stream framing Kafka expects for the codec.

Part 2 (append, when `sltool append` exists): records go through the log API
into a partition directory with small segments and a small index interval;
kafka-python reads every segment, and the .index/.timeindex entries are
checked against the batches they point at.

usage: t0003_kafka_python_reads_seglog.py SLTOOL WORKDIR
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slinterop as sl  # noqa: E402

sl.import_kafka()
import kafka.codec as kcodec  # noqa: E402
from kafka.record.default_records import DefaultRecordBatchBuilder  # noqa: E402

T0 = 1700000000000


def rec(ts, key, value, headers=()):
    return {"timestamp": ts, "key": key, "value": value, "headers": list(headers)}


def spec_for(codec, rng):
    """A list of batches: dict(opts=..., records=[...]) or dict(marker=...).
    opts use the names of sltool's {"batch":{...}} line."""
    out = []
    recs = []
    ts = T0
    for i, ks in enumerate(sl.SIZES):
        vs = sl.SIZES[(i * 5 + 2) % len(sl.SIZES)]
        ts += rng.randint(-3000, 3000)
        hdrs = sl.headers_as_bytes(sl.gen_headers(rng, i % 4))
        recs.append(rec(ts, sl.gen_bytes(rng, ks), sl.gen_bytes(rng, vs), hdrs))
    out.append({"opts": {"base_offset": 0}, "records": recs})
    out.append({"opts": {}, "records": [rec(T0, None, None), rec(T0 + 1, b"", b""),
                                        rec(T0 + 2, None, b"", [(b"", None), (b"e", b"")])]
                + [rec(T0 + 3, b"k%d" % i, sl.gen_bytes(rng, 300)) for i in range(20)]})
    out.append({"opts": {"base_offset": 1000, "producer_id": 987654321, "producer_epoch": 4,
                         "base_sequence": 17, "partition_leader_epoch": 9},
                "records": [rec(T0 + i, b"idem-%d" % i, sl.gen_bytes(rng, 500))
                            for i in range(30)]})
    # No base_offset / base_sequence: continues after the previous batch.
    out.append({"opts": {"producer_id": 987654321, "producer_epoch": 4},
                "records": [rec(T0 + 100 + i, b"cont-%d" % i, sl.gen_bytes(rng, 500))
                            for i in range(10)]})
    out.append({"opts": {"base_offset": 5000, "producer_id": 42, "producer_epoch": 1,
                         "base_sequence": 0, "transactional": True},
                "records": [rec(T0 + i, b"txn-%d" % i, sl.gen_bytes(rng, 200),
                                [(b"txn", b"%d" % i)]) for i in range(8)]})
    out.append({"marker": {"type": "commit", "producer_id": 42, "producer_epoch": 1,
                           "coordinator_epoch": 5, "timestamp": T0 + 9}})
    out.append({"opts": {}, "records": [rec(T0 + i * 9973 - (i % 2) * (1 << 41), b"%d" % i,
                                            sl.gen_bytes(rng, i % 40))
                                        for i in range(600)]})
    out.append({"opts": {}, "records": [rec(T0, b"big", sl.gen_bytes(rng, 300000),
                                            [(b"h", sl.gen_bytes(rng, 20000))])]})
    out.append({"opts": {"log_append_time": True, "max_timestamp": T0 + 77777},
                "records": [rec(T0 + i, b"lat", sl.gen_bytes(rng, 300)) for i in range(5)]})
    # Explicit record offsets with gaps (as the cleaner writes them).
    out.append({"opts": {"base_offset": 8000},
                "records": [dict(rec(T0 + d, b"gap-%d" % d, sl.gen_bytes(rng, 300)),
                                 offset=8000 + d) for d in (0, 3, 4, 10, 11, 50)]})
    if codec == "none":
        # An empty batch as the cleaner leaves it: it keeps lastOffsetDelta.
        out.append({"opts": {"base_offset": 9000, "last_offset_delta": 4,
                             "max_timestamp": T0 + 5}, "records": []})
    for b in out:
        if "opts" in b:
            b["opts"]["codec"] = codec
    return out


def input_lines(spec):
    lines = []
    for b in spec:
        if "marker" in b:
            lines.append(json.dumps({"marker": b["marker"]}))
            continue
        lines.append(json.dumps({"batch": b["opts"]}))
        lines += [sl.record_line(r) for r in b["records"]]
    return ("\n".join(lines) + "\n").encode()


def expected_batches(spec):
    """What sltool build must write for spec, per the rules in sltool.c."""
    out = []
    next_offset = 0
    next_seq = -1
    for b in spec:
        if "marker" in b:
            m = b["marker"]
            base = next_offset
            e = {"base_offset": base, "last_offset_delta": 0, "magic": 2,
                 "partition_leader_epoch": -1, "codec": "none",
                 "attributes": sl.ATTR_TRANSACTIONAL | sl.ATTR_CONTROL,
                 "transactional": True, "control": True, "producer_id": m["producer_id"],
                 "producer_epoch": m["producer_epoch"], "base_sequence": -1,
                 "base_timestamp": m["timestamp"], "max_timestamp": m["timestamp"],
                 "records_count": 1, "crc_valid": True, "size": 78,
                 "records": [{"offset": base, "timestamp": m["timestamp"],
                              "key": struct.pack(">hh", 0, 1 if m["type"] == "commit" else 0),
                              "value": struct.pack(">hi", 0, m["coordinator_epoch"]),
                              "headers": []}]}
            out.append(e)
            next_offset = base + 1
            continue
        o = b["opts"]
        recs = b["records"]
        base = o.get("base_offset", next_offset)
        pid = o.get("producer_id", -1)
        seq = o.get("base_sequence", next_seq if pid >= 0 else -1)
        offsets = [r.get("offset", base + i) for i, r in enumerate(recs)]
        lod = o.get("last_offset_delta", offsets[-1] - base if recs else 0)
        lat = o.get("log_append_time", False)
        max_ts = o["max_timestamp"] if "max_timestamp" in o else (
            max(r["timestamp"] for r in recs) if recs else -1)
        attrs = sl.CODECS[o["codec"]] if recs else 0
        attrs |= sl.ATTR_LOG_APPEND_TIME if lat else 0
        attrs |= sl.ATTR_TRANSACTIONAL if o.get("transactional") else 0
        out.append({
            "base_offset": base, "last_offset_delta": lod, "magic": 2,
            "partition_leader_epoch": o.get("partition_leader_epoch", -1),
            "attributes": attrs, "codec": sl.CODEC_NAMES[attrs & 7],
            "transactional": bool(o.get("transactional")), "control": False,
            "producer_id": pid, "producer_epoch": o.get("producer_epoch", -1),
            "base_sequence": seq,
            "base_timestamp": recs[0]["timestamp"] if recs else -1,
            "max_timestamp": max_ts, "records_count": len(recs), "crc_valid": True,
            "records": [{"offset": off, "timestamp": max_ts if lat else r["timestamp"],
                         "key": r["key"], "value": r["value"], "headers": r["headers"]}
                        for off, r in zip(offsets, recs)]})
        next_offset = base + lod + 1
        if seq >= 0:
            next_seq = (seq + lod + 1) % (1 << 31)
    return out


def kafka_python_batch(opts, recs):
    """The same batch from kafka-python's builder, uncompressed, with baseOffset
    and leader epoch placed as sltool places them."""
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0,
                                  is_transactional=bool(opts.get("transactional")),
                                  producer_id=opts["producer_id"],
                                  producer_epoch=opts["producer_epoch"],
                                  base_sequence=opts["base_sequence"], batch_size=1 << 30)
    for i, r in enumerate(recs):
        assert b.append(i, timestamp=r["timestamp"], key=r["key"], value=r["value"],
                        headers=[(k.decode("utf-8"), v) for k, v in r["headers"]])
    buf = bytearray(b.build())
    struct.pack_into(">q", buf, 0, opts["base_offset"])
    struct.pack_into(">i", buf, 12, opts["partition_leader_epoch"])
    return bytes(buf)


def check_stream_framing(chk, label, codec, stream):
    """The compressed records section is in the framing Java Kafka writes."""
    if codec == "gzip":
        chk.true(label + ": gzip member header", stream[:3] == b"\x1f\x8b\x08",
                 stream[:4].hex())
    elif codec == "snappy":
        chk.true(label + ": xerial snappy header",
                 stream[:16] == b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1), stream[:16].hex())
    elif codec == "lz4":
        flg, bd = stream[4], stream[5]
        hdr_end = 6 + (8 if flg & 0x08 else 0)
        hc = (sl.xxh32(stream[4:hdr_end]) >> 8) & 0xFF
        chk.true(label + ": lz4 frame, v01, independent blocks, correct header checksum",
                 stream[:4] == b"\x04\x22\x4d\x18" and flg & 0xC0 == 0x40 and flg & 0x20
                 and (bd >> 4) in (4, 5, 6, 7) and stream[hdr_end] == hc,
                 "header %s" % stream[:hdr_end + 1].hex())
    elif codec == "zstd":
        chk.true(label + ": zstd frame magic", stream[:4] == b"\x28\xb5\x2f\xfd",
                 stream[:4].hex())


def decompress(codec, stream):
    return {"gzip": kcodec.gzip_decode, "snappy": kcodec.snappy_decode,
            "lz4": kcodec.lz4_decode, "zstd": kcodec.zstd_decode}[codec](bytes(stream))


def part_build(chk, tool, workdir):
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        spec = spec_for(codec, sl.rng_for("0003-build-" + codec))
        data = tool.run(["build"], stdin=input_lines(spec))
        path = sl.write_file(os.path.join(workdir, "build-%s.log" % codec), data)
        expected = expected_batches(spec)
        got = sl.read_with_kafka_python(data)
        chk.compare("build %s: kafka-python reads what sltool wrote (%d batches)" % (
            codec, len(expected)), expected, got)
        # Byte-level agreement with kafka-python's builder, batch by batch.
        entries = sl.split_entries(data)
        for b, e, (pos, size, _) in zip(spec, expected, entries):
            if "marker" in b or not b["records"] or "offset" in b["records"][0] \
                    or b["opts"].get("log_append_time"):
                continue
            ours = data[pos:pos + size]
            theirs = kafka_python_batch(
                dict(e, transactional=e["transactional"]), b["records"])
            label = "build %s: batch at offset %d" % (codec, e["base_offset"])
            if codec == "none":
                chk.compare(label + " is byte-identical to kafka-python's", theirs, ours)
            else:
                chk.compare(label + ": header fields equal kafka-python's (bar codec, "
                            "length and CRC)",
                            {k: v for k, v in sl.v2_header_fields(theirs).items()
                             if k not in ("size", "crc", "attributes", "codec")},
                            sl.v2_header_fields(ours))
                check_stream_framing(chk, label, codec, ours[sl.V2_HEADER_SIZE:])
                chk.compare(label + ": decompressed records section is byte-identical to "
                            "kafka-python's", theirs[sl.V2_HEADER_SIZE:],
                            decompress(codec, ours[sl.V2_HEADER_SIZE:]))
        # sltool reads its own output back the same way (round trip).
        chk.compare("build %s: sltool dump of its own output" % codec,
                    [dict(e, validate="OK") for e in expected],
                    [dict(b, records=[{k: v for k, v in r.items() if k != "attributes"}
                                      for r in b["records"]]) for b in tool.dump(path)])


GOOD = '{"timestamp":1,"key":null,"value":"QQ=="}'
BAD_INPUTS = [
    ('{"timestamp":1,"key":null}', "missing value"),
    ('{"timestamp":1,"key":"abc","value":null}', "key must be base64"),
    ('{"timestamp":1,"key":"QQ=","value":null}', "key must be base64"),
    ('{"timestamp":1,"key":"QR==","value":null}', "key must be base64"),  # not canonical
    ('{"timestamp":1.5,"key":null,"value":null}', "only integers"),
    ('{"timestamp":99999999999999999999,"key":null,"value":null}', "out of range"),
    ('{"timestamp":1,"key":null,"value":null,"kye":null}', 'unknown member "kye"'),
    ('{"timestamp":1,"timestamp":2,"key":null,"value":null}', "duplicate member"),
    ('{"timestamp":1,"key":null,"value":null} x', "trailing characters"),
    ('{"timestamp":1,"key":null,"value":null,"headers":[[null,"QQ=="]]}',
     "cannot be null"),
    ('{"timestamp":1,"key":null,"value":null,"headers":[["QQ=="]]}', "pair"),
    ('{"batch":{"codec":"brotli"}}', "codec must be"),
    ('{"batch":{"base_offset":-1}}', "base_offset must be"),
    ('{"batch":{},"timestamp":1}', "no other members"),
    ('{"marker":{"type":"maybe","producer_id":1,"producer_epoch":0,'
     '"coordinator_epoch":0,"timestamp":0}}', "marker type"),
    ('{"timestamp":1,"key":null,"value":"\\ud800"}', "surrogate"),
    ('[1,2]', "JSON object"),
]


def part_input_errors(chk, tool):
    """sltool build rejects malformed input with the line number and a reason."""
    import subprocess
    for bad, reason in BAD_INPUTS:
        p = subprocess.run([tool.path, "build"], input=(GOOD + "\n" + bad + "\n").encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = p.stderr.decode(errors="replace")
        chk.true("build rejects %s" % bad, p.returncode == 1 and "input line 2:" in err
                 and reason in err, "exit %d, stderr %r" % (p.returncode, err))
    # Escapes decode: "\u0067zip" is "gzip".
    data = tool.run(["build"], stdin=('{"batch":{"codec":"\\u0067zip"}}\n' + GOOD + "\n")
                    .encode())
    chk.true("JSON escapes in strings decode", sl.v2_header_fields(data)["codec"] == "gzip")


def main():
    tool = sl.Sltool(sys.argv[1])
    workdir = sys.argv[2]
    chk = sl.Checker()
    part_build(chk, tool, workdir)
    part_input_errors(chk, tool)
    return chk.finish()


if __name__ == "__main__":
    sys.exit(main())
