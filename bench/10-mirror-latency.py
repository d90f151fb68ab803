"""Replication latency measurer for bench/10-mirror.sh (issue #7).

A producer writes to topic "lat" on cluster A at a fixed rate for SECS
seconds, round-robin over the partitions, CreateTime = send time.  Two
consumers, each in its own process (no shared GIL with the producer), read
partition 0 of "lat" on A and of the mirrored topic on B and note each
record's arrival time.  Only partition 0 (1/PARTITIONS of the records) is
measured, and only its records get a delivery callback, so that the
measurer's own CPU (Python, per record) does not starve the brokers and the
mirror on a small machine.  Printed (ms, p50/p99/max):
  source       send -> acknowledged by A (the producer's own queueing)
  end_to_end   send -> seen on B
  replication  seen on A -> seen on B, per record: what the mirror adds
Usage: 10-mirror-latency.py A_BOOTSTRAP B_BOOTSTRAP RATE PARTITIONS REMOTE_TOPIC
"""
import multiprocessing as mp
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

SECS = 10


def quantiles(xs):
    xs = sorted(xs)
    if not xs:
        return "n=0"
    q = lambda f: xs[min(len(xs) - 1, int(f * len(xs)))]
    return "n=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f" % (len(xs), q(0.5), q(0.99), xs[-1])


def consume(bs, topic, expect, ready, out):
    c = Consumer({"bootstrap.servers": bs, "group.id": "bench-lat", "fetch.wait.max.ms": 5,
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    seen = {}
    ready.set()
    deadline = time.time() + SECS + 60
    while (expect.value == 0 or len(seen) < expect.value) and time.time() < deadline:
        # consume(n, t) returns after n records or t seconds, whichever
        # comes first: a long t would add up to t to every arrival time.
        for m in c.consume(500, 0.002):
            if not m.error():
                seen[m.key()] = (time.time() * 1000, m.timestamp()[1])
    c.close()
    out.put(seen)


def main():
    a_bs, b_bs, rate, parts, remote = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4]), sys.argv[5]
    expect = mp.Value("l", 0)
    ready = [mp.Event(), mp.Event()]
    outs = [mp.Queue(), mp.Queue()]
    procs = [mp.Process(target=consume, args=(a_bs, "lat", expect, ready[0], outs[0])),
             mp.Process(target=consume, args=(b_bs, remote, expect, ready[1], outs[1]))]
    for p in procs:
        p.start()
    for r in ready:
        r.wait()
    time.sleep(1)
    acks = []

    def on_delivery(err, m):
        if not err:
            acks.append(time.time() * 1000 - m.timestamp()[1])

    p = Producer({"bootstrap.servers": a_bs, "linger.ms": 1, "enable.idempotence": True})
    start = time.time()
    end = start + SECS
    sent = 0
    while time.time() < end:
        due = int((time.time() - start) * rate)
        while sent < due:
            try:
                part = sent % parts
                p.produce("lat", value=b"x" * 97, key=b"%d" % sent, partition=part,
                          timestamp=int(time.time() * 1000),
                          on_delivery=on_delivery if part == 0 else None)
                sent += 1
            except BufferError:
                p.poll(0.001)
        p.poll(0)
        time.sleep(0.0005)
    p.flush(30)
    expect.value = (sent + parts - 1) // parts  # records of partition 0
    sa, sb = outs[0].get(), outs[1].get()
    for q in procs:
        q.join()
    if len(sb) < expect.value:
        print("bench-mirror: latency consumer on B saw %d of %d" % (len(sb), expect.value),
              file=sys.stderr)
    print("mirror-latency target_rps=%d actual_rps=%.0f" % (rate, sent / SECS))
    print("  source      %s" % quantiles(acks))
    print("  end_to_end  %s" % quantiles([t - ts for t, ts in sb.values()]))
    print("  replication %s" % quantiles([sb[k][0] - sa[k][0] for k in sb if k in sa]))


if __name__ == "__main__":
    main()
