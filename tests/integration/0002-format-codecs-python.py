"""0002-format-codecs-python.py - libseglog's codecs against Python's.

Driven by 0002-format-codecs-python.sh.  For every codec and several payloads:
streams written by `slcodec compress` must be decoded byte-identically by
kafka-python's kafka.codec and by python-lz4, python-snappy, zstandard and
gzip/zlib; streams written by those must be decoded byte-identically by
`slcodec decompress`.  Also checks the framing parameters Kafka expects (xerial
header and chunking, LZ4 FLG/BD, zstd frame) and that damaged streams make
slcodec fail with a message.  Format: docs/FORMAT.md, "Compression".

usage: 0002-format-codecs-python.py SLCODEC TMPDIR
"""
import gzip
import os
import random
import struct
import subprocess
import sys
import zlib

import kafka.codec as kc
import lz4.frame as lf
import snappy
import zstandard as zs

SLCODEC = sys.argv[1]
TMP = sys.argv[2]
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, data):
    # Through files in TMP, not pipes, so big payloads cannot deadlock.
    src = os.path.join(TMP, "in")
    with open(src, "wb") as f:
        f.write(data)
    with open(src, "rb") as f:
        p = subprocess.run([SLCODEC] + args, stdin=f, capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def ours_compress(codec, data, level=None):
    args = ["compress", codec] + ([str(level)] if level is not None else [])
    rc, out, err = run(args, data)
    if rc != 0:
        raise RuntimeError("slcodec %s failed: %s" % (args, err))
    return out


def ours_decompress(codec, data):
    rc, out, err = run(["decompress", codec], data)
    return out if rc == 0 else None


def xxh32(data, seed=0):
    """Pure-Python XXH32 for inputs under 16 bytes (LZ4 header checksums)."""
    p1, p2, p3, p4, p5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
    m = 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & m

    assert len(data) < 16
    h = (seed + p5 + len(data)) & m
    i = 0
    while len(data) - i >= 4:
        h = (h + struct.unpack("<I", data[i:i + 4])[0] * p3) & m
        h = (rotl(h, 17) * p4) & m
        i += 4
    while i < len(data):
        h = (h + data[i] * p5) & m
        h = (rotl(h, 11) * p1) & m
        i += 1
    h ^= h >> 15
    h = (h * p2) & m
    h ^= h >> 13
    h = (h * p3) & m
    h ^= h >> 16
    return h


def xerial_chunks(stream):
    """Splits a xerial stream into raw snappy blocks (an independent parser)."""
    assert stream[:16] == bytes.fromhex("82534e41505059000000000100000001")
    pos, blocks = 16, []
    while pos < len(stream):
        (n,) = struct.unpack(">i", stream[pos:pos + 4])
        blocks.append(stream[pos + 4:pos + 4 + n])
        pos += 4 + n
    assert pos == len(stream)
    return blocks


def payloads():
    rnd = random.Random(2)
    words = [b"offset ", b"record ", b"batch ", b"segment ", b"kafka ", b"\n"]
    text = b"".join(rnd.choice(words) for _ in range(200000))
    noise = bytes(rnd.getrandbits(8) for _ in range(70000))
    return {
        "empty": b"",
        "one": b"x",
        "random100": noise[:100],
        "text65536": text[:65536],
        "random65537": noise[:65537],
        "text300k": text[:300000],
        "mixed1m": (text[:500000] + noise[:24288] + text[:524288])[: 1 << 20],
    }


def python_decoders(codec):
    if codec == "none":
        return {"identity": lambda b: b}
    if codec == "gzip":
        return {
            "kafka.codec.gzip_decode": kc.gzip_decode,
            "gzip.decompress": gzip.decompress,
            "zlib(wbits=31)": lambda b: zlib.decompress(b, 31),
        }
    if codec == "snappy":
        return {
            "kafka.codec.snappy_decode": kc.snappy_decode,
            "xerial chunks + snappy.decompress": lambda b: b"".join(
                snappy.decompress(c) for c in xerial_chunks(b)),
        }
    if codec == "lz4":
        return {"kafka.codec.lz4_decode": kc.lz4_decode, "lz4.frame.decompress": lf.decompress}
    if codec == "zstd":
        return {
            "kafka.codec.zstd_decode": kc.zstd_decode,
            "zstandard stream": lambda b: zs.ZstdDecompressor().decompressobj().decompress(b),
        }
    raise ValueError(codec)


def python_encoders(codec, data):
    """(name, stream, reader) for streams other implementations write."""
    out = []
    if codec == "none":
        out.append(("identity", data, "none"))
    elif codec == "gzip":
        out.append(("kafka.codec.gzip_encode", kc.gzip_encode(data), "gzip"))
        out.append(("gzip.compress level 1", gzip.compress(data, 1), "gzip"))
        half = len(data) // 2
        out.append(("two gzip members",
                    gzip.compress(data[:half]) + gzip.compress(data[half:]), "gzip"))
    elif codec == "snappy":
        out.append(("kafka.codec.snappy_encode", kc.snappy_encode(data), "snappy"))
        out.append(("xerial 1 KiB blocks",
                    kc.snappy_encode(data, xerial_blocksize=1024), "snappy"))
        out.append(("raw snappy.compress", snappy.compress(data), "snappy"))
    elif codec == "lz4":
        out.append(("kafka.codec.lz4_encode", kc.lz4_encode(data), "lz4"))
        out.append(("lz4.frame linked blocks",
                    lf.compress(data, block_linked=True, store_size=False), "lz4"))
        out.append(("lz4.frame checksums 4 MiB blocks",
                    lf.compress(data, content_checksum=True, block_checksum=True,
                                block_size=lf.BLOCKSIZE_MAX4MB), "lz4"))
        f = lf.compress(data, block_linked=False, store_size=False)
        wrong = (xxh32(f[0:6]) >> 8) & 0xFF  # Kafka's magic-0 header checksum
        out.append(("lz4 magic-0 frame", f[:6] + bytes([wrong]) + f[7:], "lz4-legacy"))
    elif codec == "zstd":
        out.append(("kafka.codec.zstd_encode", kc.zstd_encode(data), "zstd"))
        out.append(("zstandard level 19 no content size",
                    zs.ZstdCompressor(level=19, write_content_size=False).compress(data),
                    "zstd"))
        co = zs.ZstdCompressor().compressobj()
        streamed = b"".join(co.compress(data[i:i + 7000]) for i in range(0, len(data), 7000))
        out.append(("zstandard streamed", streamed + co.flush(), "zstd"))
        # Kafka's streaming writer at level 22 declares a 2^27 window.
        big = zs.ZstdCompressionParameters.from_level(3, window_log=27,
                                                      write_content_size=False)
        co = zs.ZstdCompressor(compression_params=big).compressobj()
        out.append(("zstandard 128 MiB window", co.compress(data) + co.flush(), "zstd"))
        half = len(data) // 2
        out.append(("two zstd frames",
                    kc.zstd_encode(data[:half]) + kc.zstd_encode(data[half:]), "zstd"))
    return out


def check_framing(codec, name, data, stream):
    if codec == "gzip":
        check(stream[:4] == b"\x1f\x8b\x08\x00", "%s gzip header" % name)
    elif codec == "snappy":
        blocks = xerial_chunks(stream)
        check(len(blocks) == (len(data) + 32767) // 32768,
              "%s: %d xerial chunks for %d bytes" % (name, len(blocks), len(data)))
    elif codec == "lz4":
        info = lf.get_frame_info(stream)
        check(stream[:7] == bytes.fromhex("04224d18604082"), "%s lz4 header bytes" % name)
        check(not info["block_linked"] and info["block_size"] == 65536
              and not info["content_checksum"] and not info["block_checksum"]
              and info["content_size"] == 0, "%s lz4 frame info %r" % (name, info))
        check(stream[-4:] == b"\0\0\0\0", "%s lz4 end mark" % name)
    elif codec == "zstd":
        params = zs.get_frame_parameters(stream)
        check(params.content_size == len(data), "%s zstd content size" % name)


LEVELS = {"gzip": [None, 1, 9], "lz4": [None, 1, 17], "zstd": [None, 1, 19, -3],
          "snappy": [None], "none": [None]}

for pname, data in payloads().items():
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        # ours -> Python
        for level in LEVELS[codec]:
            name = "%s/%s/level %s" % (pname, codec, level)
            stream = ours_compress(codec, data, level)
            check_framing(codec, name, data, stream)
            for dname, dec in python_decoders(codec).items():
                if codec == "snappy" and not data and dname.startswith("kafka"):
                    # kafka-python only detects xerial streams longer than the
                    # 16-byte header, so it cannot read an empty one.
                    continue
                try:
                    got = dec(stream)
                except Exception as e:  # noqa: BLE001 - report any decoder failure
                    got = e
                check(got == data, "%s: %s decoded %s" % (name, dname,
                      "an error: %r" % got if isinstance(got, Exception) else "wrong bytes"))
        # Python -> ours
        for ename, stream, reader in python_encoders(codec, data):
            got = ours_decompress(reader, stream)
            check(got == data, "%s/%s: slcodec decompress %s of %s" % (pname, codec, reader, ename))
            if reader == "lz4-legacy":
                # The normal reader checks the header checksum and refuses it.
                check(ours_decompress("lz4", stream) is None,
                      "%s: normal lz4 reader accepted the magic-0 checksum" % pname)

# Damage: slcodec exits 1 with a message on stderr.
data = payloads()["text65536"]
for codec in ["gzip", "snappy", "lz4", "zstd"]:
    stream = ours_compress(codec, data)
    for what, bad in [("truncated", stream[: len(stream) - 3]),
                      ("trailing garbage", stream + b"garbage!")]:
        rc, out, err = run(["decompress", codec], bad)
        check(rc == 1 and out == b"" and "slcodec: decompress %s" % codec in err,
              "%s %s: rc=%d stderr=%r" % (codec, what, rc, err))

print("%d checks, %d failures" % (checks, len(failures)))
sys.exit(1 if failures else 0)
