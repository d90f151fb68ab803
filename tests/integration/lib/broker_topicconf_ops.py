"""Small admin steps for the per-topic config tests (0111-0113), one per call.

usage: broker_topicconf_ops.py PORT create TOPIC PARTITIONS [KEY=VALUE...]
       broker_topicconf_ops.py PORT overrides TOPIC    (prints KEY=VALUE lines, sorted)
       broker_topicconf_ops.py PORT alter TOPIC [KEY=VALUE...]
       broker_topicconf_ops.py PORT delete TOPIC
       broker_topicconf_ops.py PORT partitions TOPIC COUNT
"""
import sys

from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

port, op, topic = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ac = AdminClient({"bootstrap.servers": "127.0.0.1:%d" % port})
kv = dict(a.split("=", 1) for a in sys.argv[4:] if "=" in a)
if op == "create":
    nt = NewTopic(topic, int(sys.argv[4]), 1, config=dict(a.split("=", 1) for a in sys.argv[5:]))
    ac.create_topics([nt])[topic].result(10)
elif op == "overrides":
    r = ConfigResource("topic", topic)
    d = ac.describe_configs([r])[r].result(10)
    for k in sorted(d):
        if d[k].source == 1:
            print("%s=%s" % (k, d[k].value))
elif op == "alter":
    r = ConfigResource("topic", topic, set_config=kv)
    ac.alter_configs([r])[r].result(10)
elif op == "delete":
    ac.delete_topics([topic])[topic].result(10)
elif op == "partitions":
    ac.create_partitions([NewPartitions(topic, int(sys.argv[4]))])[topic].result(10)
else:
    sys.exit("unknown op " + op)
