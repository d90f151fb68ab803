"""Test 0001: kafka-python writes record batches, libseglog (sltool dump) reads them.

kafka-python's builders (DefaultRecordBatchBuilder for magic 2 with every
codec, LegacyRecordBatchBuilder for magic 0 and 1) produce the batches; this
script places them at increasing offsets (rewriting baseOffset and the leader
epoch, which the CRC does not cover, as a broker does), writes .log files, and
checks that `sltool dump` returns exactly the generated records and header
fields with valid CRCs.  kafka-python's own reader must agree too, which checks
the generator.

usage: t0001_read_kafka_python_batches.py SLTOOL WORKDIR
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slinterop as sl  # noqa: E402

sl.import_kafka()
from kafka.record.default_records import DefaultRecordBatchBuilder  # noqa: E402
from kafka.record.legacy_records import LegacyRecordBatchBuilder  # noqa: E402
from kafka.record.memory_records import MemoryRecordsBuilder  # noqa: E402

T0 = 1700000000000
LEADER_EPOCH = 7


class Case(object):
    """One entry (v2 batch or legacy message/wrapper) and what it must read as."""

    def __init__(self, name, data, expected):
        self.name = name
        self.data = bytes(data)
        self.expected = expected  # batch fields + "records"


# ---------------------------------------------------------------------------
# magic 2
# ---------------------------------------------------------------------------

def v2_case(name, codec, records, base_offset, producer_id=-1, producer_epoch=-1,
            base_sequence=-1, transactional=False, log_append_time=None, control=False):
    """records: dicts with delta, timestamp, key, value, headers (str keys)."""
    b = DefaultRecordBatchBuilder(magic=2, compression_type=sl.CODECS[codec],
                                  is_transactional=transactional, producer_id=producer_id,
                                  producer_epoch=producer_epoch, base_sequence=base_sequence,
                                  batch_size=1 << 30)
    for r in records:
        md = b.append(r["delta"], timestamp=r["timestamp"], key=r["key"], value=r["value"],
                      headers=r["headers"])
        assert md is not None, name
    buf = bytearray(b.build())
    attrs = struct.unpack_from(">h", buf, 21)[0]
    if attrs & 7 != sl.CODECS[codec]:
        raise AssertionError("%s: kafka-python did not compress with %s (the test data "
                             "must be compressible)" % (name, codec))
    # What a broker does on append: baseOffset and leader epoch, outside the CRC.
    struct.pack_into(">q", buf, 0, base_offset)
    struct.pack_into(">i", buf, 12, LEADER_EPOCH)
    max_ts = max(r["timestamp"] for r in records)
    if log_append_time is not None:
        attrs |= sl.ATTR_LOG_APPEND_TIME
        max_ts = log_append_time
    if control:
        attrs |= sl.ATTR_CONTROL
    if log_append_time is not None or control:
        struct.pack_into(">h", buf, 21, attrs)
        struct.pack_into(">q", buf, 35, max_ts)
        sl.v2_fix_crc(buf)
    expected = {
        "size": len(buf), "base_offset": base_offset,
        "last_offset_delta": records[-1]["delta"],
        "last_offset": base_offset + records[-1]["delta"],
        "partition_leader_epoch": LEADER_EPOCH, "magic": 2,
        "crc": sl.crc32c(buf[21:]), "crc_valid": True, "validate": "OK",
        "attributes": attrs, "codec": codec,
        "timestamp_type": "CreateTime" if log_append_time is None else "LogAppendTime",
        "transactional": transactional, "control": control, "delete_horizon": False,
        "base_timestamp": records[0]["timestamp"], "max_timestamp": max_ts,
        "producer_id": producer_id, "producer_epoch": producer_epoch,
        "base_sequence": base_sequence, "records_count": len(records),
        "records": [{"offset": base_offset + r["delta"],
                     "timestamp": r["timestamp"] if log_append_time is None
                     else log_append_time,
                     "attributes": 0, "key": r["key"], "value": r["value"],
                     "headers": sl.headers_as_bytes(r["headers"])} for r in records],
    }
    return Case(name, buf, expected)


def rec(delta, ts, key, value, headers=()):
    return {"delta": delta, "timestamp": ts, "key": key, "value": value,
            "headers": list(headers)}


def v2_cases(codec, next_offset):
    """A list of cases for one codec, starting at next_offset."""
    rng = sl.rng_for("0001-v2-" + codec)
    cases = []

    def add(case):
        cases.append(case)
        return case.expected["last_offset"] + 1

    # Every key size against every value size (one record each), headers too.
    recs = []
    ts = T0
    for i, ks in enumerate(sl.SIZES):
        vs = sl.SIZES[(i * 7 + 3) % len(sl.SIZES)]
        ts += rng.randint(-5000, 5000)
        recs.append(rec(i, ts, sl.gen_bytes(rng, ks), sl.gen_bytes(rng, vs),
                        sl.gen_headers(rng, i % 4)))
    next_offset = add(v2_case(codec + "/sizes", codec, recs, next_offset))

    # Null key and null value, empty key and value, in one batch.
    recs = [rec(0, T0, None, None), rec(1, T0 + 1, b"", b""), rec(2, T0 + 2, None, b""),
            rec(3, T0 + 3, b"", None, [("", None), ("e", b"")])]
    recs += [rec(4 + i, T0 + 4, b"k%d" % i, sl.gen_bytes(rng, 300)) for i in range(20)]
    next_offset = add(v2_case(codec + "/nulls", codec, recs, next_offset))

    # Idempotent producer fields, offset deltas with gaps (as after compaction).
    recs = [rec(d, T0 + 10 * d, b"key-%d" % d, sl.gen_bytes(rng, 400))
            for d in (0, 1, 2, 5, 9, 10, 40)]
    next_offset = add(v2_case(codec + "/idempotent-gaps", codec, recs, next_offset,
                              producer_id=123456789012, producer_epoch=3,
                              base_sequence=2147483000))

    # Transactional batch.
    recs = [rec(i, T0 + i, b"txn-%d" % i, sl.gen_bytes(rng, 200),
                [("txn", b"%d" % i)]) for i in range(12)]
    next_offset = add(v2_case(codec + "/transactional", codec, recs, next_offset,
                              producer_id=42, producer_epoch=0, base_sequence=0,
                              transactional=True))

    # Many small records; timestamps far apart (multi-byte varlong deltas).
    recs = [rec(i, T0 + (i * 7919) % 1000 - 500 + (i % 3) * (1 << 40), b"%d" % i,
                sl.gen_bytes(rng, i % 50)) for i in range(700)]
    next_offset = add(v2_case(codec + "/many", codec, recs, next_offset))

    # One large record spanning several codec blocks (snappy 32 KiB, lz4 64 KiB).
    recs = [rec(0, T0, b"big", sl.gen_bytes(rng, 300000), [("h", sl.gen_bytes(rng, 20000))])]
    next_offset = add(v2_case(codec + "/large", codec, recs, next_offset))

    # LogAppendTime: every record reads as the batch max timestamp.
    recs = [rec(i, T0 - 100 + i, b"lat", sl.gen_bytes(rng, 200)) for i in range(5)]
    next_offset = add(v2_case(codec + "/log-append-time", codec, recs, next_offset,
                              log_append_time=T0 + 99999))

    # Through kafka-python's producer-side MemoryRecordsBuilder.
    mrb = MemoryRecordsBuilder(magic=2, compression_type=sl.CODECS[codec],
                               batch_size=1 << 20)
    recs = []
    for i in range(30):
        r = rec(i, T0 + 3 * i, b"mrb-%d" % i, sl.gen_bytes(rng, 250), [("m", b"%d" % i)])
        assert mrb.append(r["timestamp"], r["key"], r["value"], r["headers"]) is not None
        recs.append(r)
    mrb.close()
    buf = bytearray(mrb.buffer())
    struct.pack_into(">q", buf, 0, next_offset)
    struct.pack_into(">i", buf, 12, LEADER_EPOCH)
    # Expectations as for the same records from DefaultRecordBatchBuilder; the
    # bytes are MemoryRecordsBuilder's own (gzip stamps the time, so the CRC
    # may differ).
    case = v2_case(codec + "/memory-records-builder", codec, recs, next_offset)
    case.data = bytes(buf)
    case.expected.update(size=len(buf), crc=sl.crc32c(buf[21:]))
    next_offset = add(case)

    if codec == "none":
        # A COMMIT marker as the broker writes it (control + transactional).
        recs = [rec(0, T0, b"\x00\x00\x00\x01", b"\x00\x00\x00\x00\x00\x05")]
        next_offset = add(v2_case("none/commit-marker", codec, recs, next_offset,
                                  producer_id=42, producer_epoch=0, transactional=True,
                                  control=True))
    return cases, next_offset


# ---------------------------------------------------------------------------
# magic 0 and 1
# ---------------------------------------------------------------------------

def legacy_records(rng, n, first_offset, magic):
    out = []
    for i in range(n):
        ks = [None, 0, 1, 10, 200][i % 5]
        vs = [5, None, 0, 1000, 20000, 3][i % 6]
        out.append({"offset": first_offset + i,
                    "timestamp": -1 if magic == 0 else T0 + rng.randint(-1000, 1000),
                    "key": sl.gen_bytes(rng, ks), "value": sl.gen_bytes(rng, vs)})
    return out


def legacy_expected_batch(buf, magic, codec, records, wrapper_offset, wrapper_ts):
    attrs = buf[17]
    fields = {
        "size": len(buf), "magic": magic,
        "crc": struct.unpack_from(">I", buf, 12)[0], "crc_valid": True, "validate": "OK",
        "attributes": attrs, "codec": codec,
        "timestamp_type": "NoTimestampType" if magic == 0 else
        ("LogAppendTime" if attrs & sl.ATTR_LOG_APPEND_TIME else "CreateTime"),
        "transactional": False, "control": False,
        "base_offset": records[0]["offset"], "last_offset": wrapper_offset,
        "producer_id": -1, "producer_epoch": -1, "base_sequence": -1,
        "records_count": len(records), "max_timestamp": wrapper_ts,
    }
    if attrs & sl.ATTR_LOG_APPEND_TIME:
        ts_of = (lambda r: wrapper_ts)
    else:
        ts_of = (lambda r: r["timestamp"])
    fields["records"] = [{"offset": r["offset"], "timestamp": ts_of(r), "key": r["key"],
                          "value": r["value"], "headers": []} for r in records]
    return fields


def legacy_cases(magic, next_offset):
    rng = sl.rng_for("0001-legacy-%d" % magic)
    cases = []
    # Uncompressed: every message is its own entry.
    recs = legacy_records(rng, 12, next_offset, magic)
    b = LegacyRecordBatchBuilder(magic=magic, compression_type=0, batch_size=1 << 30)
    for r in recs:
        assert b.append(r["offset"], timestamp=r["timestamp"], key=r["key"],
                        value=r["value"]) is not None
    data = bytes(b.build())
    for pos, size, m in sl.split_entries(data):
        assert m == magic
        buf = data[pos:pos + size]
        r = recs[len(cases)]
        cases.append(Case("v%d/none/%d" % (magic, r["offset"]), buf,
                          legacy_expected_batch(buf, magic, "none", [r], r["offset"],
                                                r["timestamp"])))
    next_offset = recs[-1]["offset"] + 1

    for codec in ("gzip", "snappy", "lz4"):
        for variant in ("create-time", "log-append-time") if magic == 1 else ("plain",):
            recs = legacy_records(rng, 9, next_offset, magic)
            b = LegacyRecordBatchBuilder(magic=magic, compression_type=sl.CODECS[codec],
                                         batch_size=1 << 30)
            for i, r in enumerate(recs):
                # v0 inner offsets are absolute, v1 inner offsets relative.
                inner = r["offset"] if magic == 0 else i
                assert b.append(inner, timestamp=r["timestamp"], key=r["key"],
                                value=r["value"]) is not None
            buf = bytearray(b.build())
            assert len(sl.split_entries(buf)) == 1 and buf[17] & 7 == sl.CODECS[codec]
            # As a broker stores it: the wrapper carries the last inner offset and,
            # for v1, the max timestamp (or the append time).
            wrapper_offset = recs[-1]["offset"]
            struct.pack_into(">q", buf, 0, wrapper_offset)
            wrapper_ts = -1
            if magic == 1:
                if variant == "log-append-time":
                    wrapper_ts = T0 + 5555
                    buf[17] |= sl.ATTR_LOG_APPEND_TIME
                else:
                    wrapper_ts = max(r["timestamp"] for r in recs)
                struct.pack_into(">q", buf, 18, wrapper_ts)
                sl.legacy_fix_crc(buf)
            cases.append(Case("v%d/%s/%s" % (magic, codec, variant), buf,
                              legacy_expected_batch(bytes(buf), magic, codec, recs,
                                                    wrapper_offset, wrapper_ts)))
            next_offset = wrapper_offset + 1
    return cases, next_offset


# ---------------------------------------------------------------------------

def with_positions(cases):
    pos = 0
    out = []
    for c in cases:
        e = dict(c.expected)
        e["position"] = pos
        out.append(e)
        pos += len(c.data)
    return out


def check_file(chk, tool, path, cases):
    data = b"".join(c.data for c in cases)
    sl.write_file(path, data)
    expected = with_positions(cases)
    name = os.path.basename(path)
    # The generator is right if kafka-python reads back what we meant.
    kp = sl.read_with_kafka_python(data)
    kp_expected = []
    for e in expected:
        if e["magic"] == 2:
            k = {f: v for f, v in e.items() if f != "validate"}
            k["base_offset_kp"] = e["base_offset"]
        else:
            k = {f: e[f] for f in ("position", "size", "magic", "crc_valid")}
        k["records"] = [{f: v for f, v in r.items() if f != "attributes"}
                        for r in e["records"]]
        kp_expected.append(k)
    chk.compare("%s: kafka-python reads the generated batches" % name, kp_expected, kp)
    got = tool.dump(path)
    chk.compare("%s: sltool dump equals what kafka-python wrote (%d entries, %d records)" % (
        name, len(expected), sum(len(e["records"]) for e in expected)), expected, got)


def negative_controls(chk, tool, workdir):
    """The comparison must be able to fail: damaged copies must read as damaged."""
    v2 = [c for c in v2_cases("none", 0)[0] if c.name == "none/nulls"][0]
    buf = bytearray(v2.data)
    buf[-5] ^= 0x01  # inside the last record's value
    path = sl.write_file(os.path.join(workdir, "damaged-v2.log"), buf)
    b = tool.dump(path)[0]
    chk.true("damaged v2 value: crc_valid false, validate CRC",
             b["crc_valid"] is False and b["validate"] == "CRC", str(b["validate"]))
    chk.true("damaged v2 value: the record reads with the damaged byte",
             b["records"][-1]["value"] != v2.expected["records"][-1]["value"])

    buf = bytearray(v2.data)
    struct.pack_into(">i", buf, 12, 12345)  # leader epoch: outside the CRC
    b = tool.dump(sl.write_file(os.path.join(workdir, "epoch-v2.log"), buf))[0]
    chk.true("rewritten leader epoch: CRC still valid", b["crc_valid"] is True and
             b["partition_leader_epoch"] == 12345)

    legacy = legacy_cases(1, 0)[0][0]
    buf = bytearray(legacy.data)
    buf[-1] ^= 0x80
    b = tool.dump(sl.write_file(os.path.join(workdir, "damaged-v1.log"), buf))[0]
    chk.true("damaged v1 message: crc_valid false", b["crc_valid"] is False and
             b["validate"] == "CRC", str(b["validate"]))

    data = v2.data + legacy.data[:-3]
    out = tool.run(["dump", sl.write_file(os.path.join(workdir, "tail.log"), data)])
    last = json.loads(out.decode().splitlines()[-1])
    chk.compare("incomplete last entry is reported as a tail",
                {"tail": {"position": len(v2.data), "bytes": len(legacy.data) - 3}}, last)


def main():
    tool = sl.Sltool(sys.argv[1])
    workdir = sys.argv[2]
    chk = sl.Checker()
    all_cases = []
    next_offset = 0
    for magic in (0, 1):
        cases, next_offset = legacy_cases(magic, next_offset)
        check_file(chk, tool, os.path.join(workdir, "legacy-v%d.log" % magic), cases)
        all_cases += cases
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        cases, next_offset = v2_cases(codec, next_offset)
        check_file(chk, tool, os.path.join(workdir, "v2-%s.log" % codec), cases)
        all_cases += cases
    # Everything in one segment, as a log upgraded from magic 0 to 2 holds it.
    check_file(chk, tool, os.path.join(workdir, "00000000000000000000.log"), all_cases)
    negative_controls(chk, tool, workdir)
    return chk.finish()


if __name__ == "__main__":
    sys.exit(main())
