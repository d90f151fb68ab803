"""0102: real Kafka clients against seglogd: kafka-python (consumer and admin
client) and confluent-kafka (AdminClient) must see this broker, its
ApiVersions, its cluster id and the topics found in log.dirs, and create and
delete topics.

usage: broker_clients.py PORT METRICS_PORT CLUSTER_ID
"""
import sys
import urllib.request

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.client_async import KafkaClient

port, metrics_port, cluster_id = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
bootstrap = "127.0.0.1:%d" % port
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


# kafka-python's own client: the ApiVersions answer, key by key.
client = KafkaClient(bootstrap_servers=bootstrap, client_id="t0102")
version = client.check_version(timeout=10)
# Produce v8 is what makes kafka-python 2.0.2 infer 2.4.
check(version == (2, 4, 0), "kafka-python infers broker version %r" % (version,))
api = client.get_api_versions()
check(api.get(18) == (0, 3), "ApiVersions range %r" % (api.get(18),))
check(api.get(3) == (0, 12), "Metadata range %r" % (api.get(3),))
check(api.get(0) == (3, 9) and api.get(1) == (4, 13) and api.get(2) == (1, 7) and
      api.get(22) == (0, 4) and api.get(19) == (0, 7) and api.get(20) == (0, 6),
      "Produce/Fetch/ListOffsets/InitProducerId ranges %r" % ({k: api.get(k) for k in (0, 1, 2, 19, 20, 22)},))
client.close()

consumer = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=11000,
                         api_version_auto_timeout_ms=10000)
check(consumer.config["api_version"] == (2, 4, 0), "consumer api_version %r" % (consumer.config["api_version"],))
topics = consumer.topics()
check(topics == {"orders", "events"}, "consumer topics %r" % (topics,))
check(consumer.partitions_for_topic("orders") == {0, 1, 2}, "orders partitions")
consumer.close()

admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=11000)
# __consumer_offsets (internal, made at start for the group coordinator) is
# listed too, as Kafka lists it.
check(sorted(admin.list_topics()) == ["__consumer_offsets", "events", "orders"],
      "admin list_topics")
desc = admin.describe_topics(["orders", "missing"])
by_name = {d["topic"]: d for d in desc}
orders = by_name["orders"]
check(orders["error_code"] == 0, "orders error %r" % orders["error_code"])
parts = sorted(orders["partitions"], key=lambda p: p["partition"])
check([p["partition"] for p in parts] == [0, 1, 2], "orders partition ids")
for p in parts:
    check(p["leader"] == 7 and p["replicas"] == [7] and p["isr"] == [7],
          "partition %d leader/replicas/isr %r" % (p["partition"], p))
check(by_name["missing"]["error_code"] == 3, "missing topic error %r" % by_name["missing"]["error_code"])
cluster = admin.describe_cluster() if hasattr(admin, "describe_cluster") else None
if cluster is not None:
    check(cluster.get("cluster_id") == cluster_id, "describe_cluster id %r" % cluster)
# CreateTopics / DeleteTopics through kafka-python.
from kafka.admin import NewTopic  # noqa: E402
from kafka.errors import InvalidReplicationFactorError, TopicAlreadyExistsError  # noqa: E402

r = admin.create_topics([NewTopic("made-kp", 4, 1)])
check(r.topic_errors[0][1] == 0, "create_topics made-kp %r" % (r,))
try:
    admin.create_topics([NewTopic("made-kp", 4, 1)])
    check(False, "second create_topics made-kp succeeded")
except TopicAlreadyExistsError:
    pass
try:
    admin.create_topics([NewTopic("made-rf3", 1, 3)])
    check(False, "replication factor 3 accepted on one broker")
except InvalidReplicationFactorError:
    pass
d = {t["topic"]: t for t in admin.describe_topics(["made-kp"])}
check(len(d["made-kp"]["partitions"]) == 4, "made-kp partitions %r" % d["made-kp"])
from kafka.admin import NewPartitions  # noqa: E402
from kafka.errors import InvalidPartitionsError  # noqa: E402

r = admin.create_partitions({"made-kp": NewPartitions(6)})
check(r.topic_errors[0][1] == 0, "create_partitions made-kp %r" % (r,))
try:
    admin.create_partitions({"made-kp": NewPartitions(5)})
    check(False, "shrinking made-kp accepted")
except InvalidPartitionsError:
    pass
d = {t["topic"]: t for t in admin.describe_topics(["made-kp"])}
check(len(d["made-kp"]["partitions"]) == 6, "made-kp partitions after growth %r" % d["made-kp"])
r = admin.delete_topics(["made-kp"])
check(r.topic_error_codes[0][1] == 0, "delete_topics made-kp %r" % (r,))
check(sorted(admin.list_topics()) == ["__consumer_offsets", "events", "orders"],
      "topics after delete %r" % admin.list_topics())
admin.close()

from confluent_kafka.admin import AdminClient  # noqa: E402
from confluent_kafka.admin import NewTopic as CNewTopic  # noqa: E402

ac = AdminClient({"bootstrap.servers": bootstrap})
md = ac.list_topics(timeout=10)
check(md.cluster_id == cluster_id, "confluent cluster_id %r" % md.cluster_id)
check(md.controller_id == 7, "controller %r" % md.controller_id)
check(list(md.brokers) == [7] and md.brokers[7].host == "127.0.0.1" and md.brokers[7].port == port,
      "brokers %r" % md.brokers)
check(sorted(md.topics) == ["__consumer_offsets", "events", "orders"],
      "confluent topics %r" % sorted(md.topics))
check(sorted(md.topics["orders"].partitions) == [0, 1, 2], "confluent orders partitions")
check(md.topics["orders"].partitions[1].leader == 7, "confluent leader")
check(md.topics["orders"].partitions[1].isrs == [7], "confluent isr")
fs = ac.create_topics([CNewTopic("made-ck", 3, 1),
                       CNewTopic("made-cfg", 1, 1, config={"retention.ms": "1000"}),
                       CNewTopic("made-bad", 1, 1, config={"no.such.key": "1"})])
check(fs["made-ck"].result(10) is None, "confluent create made-ck")
check(fs["made-cfg"].result(10) is None, "confluent create made-cfg with a config")
try:
    fs["made-bad"].result(10)
    check(False, "unknown topic config accepted")
except Exception as e:  # noqa: BLE001
    check("INVALID_CONFIG" in str(e), "made-bad error %s" % e)
check(sorted(ac.list_topics(timeout=10).topics["made-ck"].partitions) == [0, 1, 2], "made-ck partitions")
fs = ac.delete_topics(["made-ck", "made-cfg", "never-made"])
check(fs["made-ck"].result(10) is None, "confluent delete made-ck")
check(fs["made-cfg"].result(10) is None, "confluent delete made-cfg")
try:
    fs["never-made"].result(10)
    check(False, "deleting an unknown topic succeeded")
except Exception as e:  # noqa: BLE001
    check("UNKNOWN_TOPIC" in str(e), "never-made error %s" % e)
check(sorted(ac.list_topics(timeout=10).topics) == ["__consumer_offsets", "events", "orders"],
      "confluent topics after delete")
from confluent_kafka.admin import ConfigResource  # noqa: E402

fs = ac.describe_configs([ConfigResource("topic", "orders"), ConfigResource("broker", "7")])
for res, f in fs.items():
    cfg = f.result(10)
    if res.name == "orders":
        check(cfg["retention.ms"].value == "604800000" and cfg["retention.ms"].source == 5,
              "orders retention.ms %r" % cfg["retention.ms"])
        check(cfg["cleanup.policy"].value == "delete", "orders cleanup.policy")
        check(cfg["max.message.bytes"].value == "1048588", "orders max.message.bytes")
    else:
        check(cfg["node.id"].value == "7" and cfg["node.id"].source == 4,
              "broker node.id %r" % cfg["node.id"])
        check(cfg["num.partitions"].value == "1" and cfg["num.partitions"].is_default,
              "broker num.partitions %r" % cfg["num.partitions"])
one = ac.list_topics(topic="events", timeout=10)
check(list(one.topics) == ["events"] and one.topics["events"].error is None, "list_topics(events)")

# The metrics endpoint counts what was served.
text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port, timeout=10).read().decode()
series = {}
for line in text.splitlines():
    if line and not line.startswith("#"):
        name, _, value = line.rpartition(" ")
        series[name] = float(value)
check(series.get('seglog_requests_total{api="ApiVersions"}', 0) >= 3, "ApiVersions counted")
check(series.get('seglog_requests_total{api="Metadata"}', 0) >= 4, "Metadata counted")
check(series.get('seglog_request_errors_total{api="Metadata"}', 0) >= 1, "Metadata errors counted")
check(series.get("seglog_network_bytes_in_total", 0) > 0, "bytes in")
check(series.get("seglog_network_bytes_out_total", 0) > 0, "bytes out")
check(series.get("seglog_connections_total", 0) >= 3, "connections counted")
check(series.get("seglog_partitions") == 4 + 50, "partitions gauge %r" % series.get("seglog_partitions"))
check('seglog_request_latency_seconds_bucket{api="Metadata",le="+Inf"}' in series, "latency histogram")
try:
    urllib.request.urlopen("http://127.0.0.1:%d/other" % metrics_port, timeout=10)
    check(False, "GET /other should be 404")
except urllib.error.HTTPError as e:
    check(e.code == 404, "GET /other status %d" % e.code)

if failures:
    sys.exit(1)
print("clients OK")
