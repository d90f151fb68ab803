"""0106: an idempotent producer (confluent-kafka) keeps producing across a
SIGTERM restart and a kill -9 restart of seglogd: the log's producer state
(snapshots plus replay) must accept its sequence numbers after each restart,
and every message must be in the log exactly once, in order.

usage: broker_idem_restart.py SEGLOGD DATA_DIR PORT METRICS_PORT LOG
"""
import signal
import socket
import subprocess
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as CTP

seglogd, data, port, mport, logpath = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
bootstrap = "127.0.0.1:%d" % port
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def start():
    log = open(logpath, "ab")
    p = subprocess.Popen([seglogd, "--override", "log.dirs=" + data,
                          "--override", "listeners=PLAINTEXT://" + bootstrap,
                          "--override", "metrics.listener=127.0.0.1:%d" % mport],
                         stderr=log)
    for _ in range(200):
        s = socket.socket()
        s.settimeout(0.5)
        if s.connect_ex(("127.0.0.1", port)) == 0:
            s.close()
            return p
        s.close()
        time.sleep(0.05)
    p.kill()
    raise SystemExit("seglogd did not start")


def stop(p, sig):
    p.send_signal(sig)
    try:
        rc = p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = None
    if sig == signal.SIGTERM:
        check(rc == 0, "SIGTERM exit status %r" % rc)


broker = start()
try:
    errors = []
    pr = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                   "message.timeout.ms": 30000})

    def send(a, b):
        for i in range(a, b):
            pr.produce("idem", value=b"%06d" % i, partition=0,
                       on_delivery=lambda err, msg: errors.append(str(err)) if err else None)
        left = pr.flush(30)
        check(left == 0, "%d messages not delivered" % left)

    send(0, 1000)
    stop(broker, signal.SIGTERM)
    broker = start()
    send(1000, 2000)
    stop(broker, signal.SIGKILL)
    broker = start()
    send(2000, 3000)
    check(not errors, "delivery errors %r" % errors[:3])
    co = Consumer({"bootstrap.servers": bootstrap, "group.id": "t0106",
                   "enable.auto.commit": False})
    co.assign([CTP("idem", 0, 0)])
    seen = []
    deadline = time.time() + 30
    while len(seen) < 3000 and time.time() < deadline:
        m = co.poll(0.5)
        if m is None or m.error():
            continue
        seen.append(m.value())
    co.close()
    check(seen == [b"%06d" % i for i in range(3000)],
          "log holds %d messages, %d unique" % (len(seen), len(set(seen))))
    stop(broker, signal.SIGTERM)
finally:
    if broker.poll() is None:
        broker.kill()
        broker.wait()
if failures:
    sys.exit(1)
print("idempotent restarts OK")
