"""0110: per-topic configs through the admin APIs of real clients and raw
frames: CreateTopics with configs (confluent-kafka; raw v5/v7 for the
returned configs), DescribeConfigs sources, synonyms and documentation,
AlterConfigs (confluent-kafka and kafka-python; whole-set replacement,
ValidateOnly, BROKER refused as a static-config broker) and
IncrementalAlterConfigs v0/v1 (raw: SET, DELETE, APPEND, SUBTRACT).

usage: broker_topicconf.py PORT
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_wire import compact_string, connect, frame, header, kstring, recv_frame, uvarint  # noqa: E402

from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402

port = int(sys.argv[1])
bootstrap = "127.0.0.1:%d" % port
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


DYNAMIC_TOPIC, STATIC_BROKER, DEFAULT = 1, 4, 5
ac = AdminClient({"bootstrap.servers": bootstrap})


def describe(topic):
    r = ConfigResource("topic", topic)
    return ac.describe_configs([r])[r].result(10)


def overrides(topic):
    return {k: v.value for k, v in describe(topic).items() if v.source == DYNAMIC_TOPIC}


def error_of(fut):
    try:
        fut.result(10)
        return None
    except Exception as e:  # noqa: BLE001
        return str(e)


# ---- CreateTopics with configs (confluent-kafka) ----
fs = ac.create_topics([
    NewTopic("cfg-a", 2, 1, config={"cleanup.policy": "compact", "retention.ms": "60000",
                                    "compression.type": "lz4", "min.insync.replicas": "1"}),
    NewTopic("cfg-bad-key", 1, 1, config={"bogus.key": "1"}),
    NewTopic("cfg-bad-val", 1, 1, config={"segment.bytes": "10"}),
    NewTopic("cfg-bad-list", 1, 1, config={"cleanup.policy": "compact,shred"}),
    NewTopic("cfg-lag", 1, 1, config={"min.compaction.lag.ms": "10",
                                      "max.compaction.lag.ms": "5"}),
])
check(fs["cfg-a"].result(10) is None, "create cfg-a")
e = error_of(fs["cfg-bad-key"])
check(e and "INVALID_CONFIG" in e and "Unknown topic config name: bogus.key" in e, "bad key: %s" % e)
e = error_of(fs["cfg-bad-val"])
check(e and "INVALID_CONFIG" in e and
      "Invalid value 10 for configuration segment.bytes: Value must be at least 14" in e,
      "bad value: %s" % e)
e = error_of(fs["cfg-bad-list"])
check(e and "Invalid value shred for configuration cleanup.policy: String must be one of: "
      "compact, delete" in e, "bad list item: %s" % e)
e = error_of(fs["cfg-lag"])
check(e and "INVALID_CONFIG" in e and "min.compaction.lag.ms (10) > max.compaction.lag.ms (5)" in e,
      "lag conflict: %s" % e)
fs = ac.create_topics([NewTopic("cfg-vo", 1, 1, config={"retention.ms": "1"})], validate_only=True)
check(fs["cfg-vo"].result(10) is None, "validate-only create")
topics = ac.list_topics(timeout=10).topics
check("cfg-a" in topics and len(topics["cfg-a"].partitions) == 2, "cfg-a listed")
for t in ("cfg-vo", "cfg-bad-key", "cfg-bad-val", "cfg-bad-list", "cfg-lag"):
    check(t not in topics, "%s must not exist" % t)

# ---- DescribeConfigs: sources and synonyms ----
d = describe("cfg-a")
cp = d["cleanup.policy"]
check(cp.value == "compact" and cp.source == DYNAMIC_TOPIC and not cp.is_read_only,
      "cleanup.policy %r" % cp)
syn = [(s.name, s.value, s.source) for s in cp.synonyms.values()]
check(syn == [("cleanup.policy", "compact", DYNAMIC_TOPIC), ("log.cleanup.policy", "delete", DEFAULT)],
      "cleanup.policy synonyms %r" % syn)
check(d["retention.ms"].value == "60000" and d["retention.ms"].source == DYNAMIC_TOPIC, "retention.ms")
sb = d["segment.bytes"]
check(sb.value == "1048576" and sb.source == STATIC_BROKER, "segment.bytes from the broker %r" % sb)
syn = [(s.name, s.value, s.source) for s in sb.synonyms.values()]
check(syn == [("log.segment.bytes", "1048576", STATIC_BROKER)], "segment.bytes synonyms %r" % syn)
check(d["max.message.bytes"].value == "1048588" and d["max.message.bytes"].source == DEFAULT,
      "max.message.bytes default")
check(d["compression.type"].value == "lz4", "compression.type lz4")
check(overrides("cfg-a") == {"cleanup.policy": "compact", "retention.ms": "60000",
                             "compression.type": "lz4", "min.insync.replicas": "1"},
      "overrides %r" % overrides("cfg-a"))

# ---- AlterConfigs replaces the whole set ----
r = ConfigResource("topic", "cfg-a", set_config={"retention.ms": "120000", "segment.ms": "3600000"})
check(ac.alter_configs([r])[r].result(10) is None, "alter cfg-a")
check(overrides("cfg-a") == {"retention.ms": "120000", "segment.ms": "3600000"},
      "after alter %r" % overrides("cfg-a"))
d = describe("cfg-a")
check(d["cleanup.policy"].value == "delete" and d["cleanup.policy"].source == DEFAULT,
      "cleanup.policy back to the default")
r = ConfigResource("topic", "cfg-a", set_config={"retention.ms": "1"})
check(ac.alter_configs([r], validate_only=True)[r].result(10) is None, "validate-only alter")
check(overrides("cfg-a")["retention.ms"] == "120000", "validate-only changed nothing")
r = ConfigResource("topic", "cfg-a", set_config={"flush.ms": "-3"})
e = error_of(ac.alter_configs([r])[r])
check(e and "INVALID_CONFIG" in e and "Invalid value -3 for configuration flush.ms" in e,
      "alter bad value: %s" % e)
r = ConfigResource("topic", "no-such-topic", set_config={"retention.ms": "1"})
e = error_of(ac.alter_configs([r])[r])
check(e and "UNKNOWN_TOPIC_OR_PART" in e, "alter unknown topic: %s" % e)
r = ConfigResource("broker", "1", set_config={"log.retention.ms": "5"})
e = error_of(ac.alter_configs([r])[r])
check(e and "INVALID_REQUEST" in e and "Cannot update these configs dynamically" in e,
      "alter broker: %s" % e)

# ---- kafka-python's admin client ----
from kafka import KafkaAdminClient  # noqa: E402
from kafka.admin import ConfigResource as KResource, ConfigResourceType  # noqa: E402

ka = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
from kafka.admin import NewTopic as KNewTopic  # noqa: E402

resp = ka.create_topics([KNewTopic("cfg-kp", 1, 1, topic_configs={"segment.ms": "600000",
                                                                  "preallocate": "false"})])
check([t[:2] for t in resp.topic_errors] == [("cfg-kp", 0)], "kafka-python create_topics %r" % (resp,))
try:
    ka.create_topics([KNewTopic("cfg-kp-bad", 1, 1, topic_configs={"preallocate": "maybe"})])
    check(False, "kafka-python: a bad value was accepted")
except Exception as e:  # noqa: BLE001
    check("InvalidConfigurationError" in type(e).__name__ and
          "Invalid value maybe for configuration preallocate" in str(e), "kafka-python bad value %r" % e)
check(overrides("cfg-kp") == {"segment.ms": "600000", "preallocate": "false"},
      "cfg-kp overrides %r" % overrides("cfg-kp"))
resp = ka.alter_configs([KResource(ConfigResourceType.TOPIC, "cfg-a",
                                   configs={"retention.bytes": "1000000"})])
check(resp.resources[0][0] == 0, "kafka-python alter %r" % (resp.resources,))
got = ka.describe_configs([KResource(ConfigResourceType.TOPIC, "cfg-a")])
entries = {c[0]: c for c in got[0].resources[0][4]}
check(entries["retention.bytes"][1] == "1000000", "kafka-python describe %r" % (entries["retention.bytes"],))
check(overrides("cfg-a") == {"retention.bytes": "1000000"}, "kafka-python replaced the set")
ka.close()


# ---- IncrementalAlterConfigs, raw ----
def read_str(b, o):
    (n,) = struct.unpack_from(">h", b, o)
    o += 2
    return (None if n < 0 else b[o:o + n].decode()), o + max(n, 0)


def read_uvarint(b, o):
    shift = n = 0
    while True:
        x = b[o]
        o += 1
        n |= (x & 0x7F) << shift
        if not x & 0x80:
            return n, o
        shift += 7


def read_cstr(b, o):
    n, o = read_uvarint(b, o)
    return (None if n == 0 else b[o:o + n - 1].decode()), o + max(n - 1, 0)


def skip_tags(b, o):
    n, o = read_uvarint(b, o)
    for _ in range(n):
        _, o = read_uvarint(b, o)
        size, o = read_uvarint(b, o)
        o += size
    return o


def incremental(resources, version=0, validate_only=False):
    """resources: [(type, name, [(key, op, value)])] -> [(error, message, type, name)]"""
    flex = version >= 1
    s = connect(port)
    body = b""
    if flex:
        body += uvarint(len(resources) + 1)
        for rtype, name, ops in resources:
            body += struct.pack(">b", rtype) + compact_string(name) + uvarint(len(ops) + 1)
            for key, op, value in ops:
                body += compact_string(key) + struct.pack(">b", op) + compact_string(value) + b"\x00"
            body += b"\x00"
        body += struct.pack(">?", validate_only) + b"\x00"
    else:
        body += struct.pack(">i", len(resources))
        for rtype, name, ops in resources:
            body += struct.pack(">b", rtype) + kstring(name) + struct.pack(">i", len(ops))
            for key, op, value in ops:
                body += kstring(key) + struct.pack(">b", op) + kstring(value)
        body += struct.pack(">?", validate_only)
    s.sendall(frame(header(44, version, 77, flexible=flex) + body))
    resp = recv_frame(s)
    s.close()
    o = 4
    if flex:
        o = skip_tags(resp, o)
    o += 4  # throttle
    out = []
    if flex:
        n, o = read_uvarint(resp, o)
        n -= 1
    else:
        (n,) = struct.unpack_from(">i", resp, o)
        o += 4
    for _ in range(n):
        (err,) = struct.unpack_from(">h", resp, o)
        o += 2
        msg, o = (read_cstr if flex else read_str)(resp, o)
        (rtype,) = struct.unpack_from(">b", resp, o)
        o += 1
        name, o = (read_cstr if flex else read_str)(resp, o)
        if flex:
            o = skip_tags(resp, o)
        out.append((err, msg, rtype, name))
    return out


SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
TOPIC, BROKER = 2, 4
res = incremental([(TOPIC, "cfg-a", [("compression.type", SET, "zstd"),
                                     ("cleanup.policy", APPEND, "compact")])])
check(res == [(0, None, TOPIC, "cfg-a")], "incremental SET/APPEND %r" % res)
check(overrides("cfg-a") == {"retention.bytes": "1000000", "compression.type": "zstd",
                             "cleanup.policy": "delete,compact"},
      "after SET/APPEND %r" % overrides("cfg-a"))
res = incremental([(TOPIC, "cfg-a", [("cleanup.policy", SUBTRACT, "delete"),
                                     ("retention.bytes", DELETE, None)])])
check(res[0][0] == 0, "SUBTRACT/DELETE %r" % res)
check(overrides("cfg-a") == {"compression.type": "zstd", "cleanup.policy": "compact"},
      "after SUBTRACT/DELETE %r" % overrides("cfg-a"))
res = incremental([(TOPIC, "cfg-a", [("retention.ms", APPEND, "5")])])
check(res[0][0] == 40 and res[0][1] == "Can't APPEND to key retention.ms because its type is not LIST.",
      "APPEND to a LONG %r" % res)
res = incremental([(TOPIC, "cfg-a", [("retention.ms", 9, "5")])])
check(res[0][0] == 42, "unknown operation %r" % res)
res = incremental([(TOPIC, "cfg-a", [("retention.ms", SET, "5"), ("retention.ms", SET, "6")])])
check(res[0][0] == 42 and "duplicate" in res[0][1], "duplicate keys %r" % res)
res = incremental([(TOPIC, "cfg-a", [("nope.key", SET, "5")])])
check(res[0][0] == 40 and res[0][1] == "Unknown topic config name: nope.key", "unknown key %r" % res)
res = incremental([(TOPIC, "cfg-a", [("segment.ms", SET, "0")])])
check(res[0][0] == 40 and "Value must be at least 1" in res[0][1], "bad value %r" % res)
res = incremental([(TOPIC, "cfg-a", [("segment.ms", SET, "1000")])], validate_only=True)
check(res[0][0] == 0 and "segment.ms" not in overrides("cfg-a"), "validate-only incremental")
res = incremental([(TOPIC, "gone", [("segment.ms", SET, "1000")])])
check(res[0][0] == 3, "unknown topic %r" % res)
res = incremental([(BROKER, "1", [("log.retention.ms", SET, "1000")]), (BROKER, "", []),
                   (BROKER, "9", [])])
check(res[0][0] == 42 and res[1][0] == 0 and res[2][0] == 42 and
      "Unexpected broker id" in res[2][1], "broker resources %r" % res)
res = incremental([(TOPIC, "cfg-a", [("retention.ms", SET, "777"), ("compression.type", DELETE, None)])],
                  version=1)
check(res == [(0, None, TOPIC, "cfg-a")], "v1 %r" % res)
check(overrides("cfg-a") == {"retention.ms": "777", "cleanup.policy": "compact"},
      "after v1 %r" % overrides("cfg-a"))


# ---- CreateTopics v5 / v7: the created topic's configs in the answer ----
def create_raw(name, configs, version, validate_only=False):
    body = uvarint(2) + compact_string(name) + struct.pack(">ih", 1, -1) + uvarint(1)
    body += uvarint(len(configs) + 1)
    for k, v in configs:
        body += compact_string(k) + compact_string(v) + b"\x00"
    body += b"\x00" + struct.pack(">i?", 10000, validate_only) + b"\x00"
    s = connect(port)
    s.sendall(frame(header(19, version, 5, flexible=True) + body))
    resp = recv_frame(s)
    s.close()
    o = skip_tags(resp, 4) + 4
    n, o = read_uvarint(resp, o)
    check(n == 2, "one topic result")
    tname, o = read_cstr(resp, o)
    if version >= 7:
        o += 16
    (err,) = struct.unpack_from(">h", resp, o)
    msg, o = read_cstr(resp, o + 2)
    nparts, rf = struct.unpack_from(">ih", resp, o)
    o += 6
    n, o = read_uvarint(resp, o)
    cfgs = {}
    for _ in range(max(n - 1, 0)):
        k, o = read_cstr(resp, o)
        v, o = read_cstr(resp, o)
        ro, src, sens = struct.unpack_from(">?b?", resp, o)
        o = skip_tags(resp, o + 3)
        cfgs[k] = (v, src, ro, sens)
    return err, msg, nparts, rf, cfgs


for version in (5, 7):
    name = "cfg-raw%d" % version
    err, msg, nparts, rf, cfgs = create_raw(name, [("retention.ms", "3000"),
                                                   ("message.timestamp.type", "LogAppendTime")], version)
    check(err == 0 and nparts == 1 and rf == 1, "raw v%d create %r %r" % (version, err, msg))
    check(cfgs.get("retention.ms") == ("3000", DYNAMIC_TOPIC, False, False),
          "v%d retention.ms %r" % (version, cfgs.get("retention.ms")))
    check(cfgs.get("message.timestamp.type") == ("LogAppendTime", DYNAMIC_TOPIC, False, False),
          "v%d timestamp type" % version)
    check(cfgs.get("segment.bytes") == ("1048576", STATIC_BROKER, False, False),
          "v%d segment.bytes %r" % (version, cfgs.get("segment.bytes")))
    check(cfgs.get("cleanup.policy") == ("delete", DEFAULT, False, False), "v%d cleanup.policy" % version)
    check(len(cfgs) >= 20, "v%d lists every topic config (%d)" % (version, len(cfgs)))
err, msg, _, _, cfgs = create_raw("cfg-raw-vo", [("segment.jitter.ms", "10")], 5, validate_only=True)
check(err == 0 and cfgs.get("segment.jitter.ms") == ("10", DYNAMIC_TOPIC, False, False),
      "validate-only create answers the configs")
err, msg, _, _, cfgs = create_raw("cfg-raw-bad", [("retention.ms", None)], 5)
check(err == 40 and msg == "Null value not supported for topic configs: retention.ms",
      "null value %r %r" % (err, msg))
check(overrides("cfg-raw5") == {"retention.ms": "3000", "message.timestamp.type": "LogAppendTime"},
      "cfg-raw5 overrides")


# ---- DescribeConfigs v3: documentation and config types ----
def describe_v3(name, keys):
    body = struct.pack(">i", 1) + struct.pack(">b", TOPIC) + kstring(name)
    body += struct.pack(">i", len(keys)) + b"".join(kstring(k) for k in keys)
    body += struct.pack(">??", True, True)
    s = connect(port)
    s.sendall(frame(header(32, 3, 9) + body))
    resp = recv_frame(s)
    s.close()
    o = 8
    (n,) = struct.unpack_from(">i", resp, o)
    o += 4
    (err,) = struct.unpack_from(">h", resp, o)
    _, o = read_str(resp, o + 2)
    _, o = read_str(resp, o + 1)
    (n,) = struct.unpack_from(">i", resp, o)
    o += 4
    out = {}
    for _ in range(n):
        k, o = read_str(resp, o)
        v, o = read_str(resp, o)
        ro, src, sens = struct.unpack_from(">?b?", resp, o)
        o += 3
        (ns,) = struct.unpack_from(">i", resp, o)
        o += 4
        syns = []
        for _ in range(ns):
            sn, o = read_str(resp, o)
            sv, o = read_str(resp, o)
            syns.append((sn, sv, resp[o]))
            o += 1
        ctype = resp[o]
        doc, o = read_str(resp, o + 1)
        out[k] = (v, src, syns, ctype, doc)
    return err, out


err, out = describe_v3("cfg-a", ["retention.ms", "cleanup.policy", "preallocate"])
check(err == 0 and sorted(out) == ["cleanup.policy", "preallocate", "retention.ms"], "v3 keys %r" % out)
v, src, syns, ctype, doc = out["retention.ms"]
check(v == "777" and src == DYNAMIC_TOPIC and ctype == 5 and doc,
      "v3 retention.ms %r" % (out["retention.ms"],))
check(syns == [("retention.ms", "777", DYNAMIC_TOPIC), ("log.retention.ms", "604800000", DEFAULT)],
      "v3 synonyms %r" % syns)
check(out["cleanup.policy"][3] == 7 and out["preallocate"][3] == 1, "v3 config types")

if failures:
    sys.exit(1)
print("topic configs OK")
