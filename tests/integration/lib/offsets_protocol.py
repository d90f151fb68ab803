"""0135: OffsetCommit 0-8, OffsetFetch 0-8 and OffsetDelete 0 over raw
frames: every version commits and reads back (metadata, leader epochs where
the version has them), Kafka's per-partition errors (unknown partitions,
metadata too large), all offsets of a group (null topics, v2+), several
groups at once (v8), generation checks against a real member (JoinGroup /
SyncGroup through group_wire), OffsetDelete's errors.  argv: port (topic "t"
with 3 partitions exists; group.initial.rebalance.delay.ms=0)."""
import struct
import sys

from group_wire import Conn, heartbeat, join_known, sync
from offsets_wire import offset_commit, offset_delete, offset_fetch, offset_fetch_groups

PORT = int(sys.argv[1])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


NONE, UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE = 0, 3, 12
ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID = 22, 25
GROUP_ID_NOT_FOUND, GROUP_SUBSCRIBED_TO_TOPIC = 69, 86

c = Conn(PORT)

# Every version commits (a simple group: generation -1, no member) and every
# fetch version reads it back.
for v in range(0, 9):
    g = "simple-v%d" % v
    errs = offset_commit(c, v, g, {("t", 0): (100 + v, "meta-%d" % v, 7),
                                   ("t", 1): (200 + v, None, 8),
                                   ("t", 99): (1, "", -1),
                                   ("nope", 0): (1, "", -1)})
    check(errs == {("t", 0): NONE, ("t", 1): NONE, ("t", 99): UNKNOWN_TOPIC_OR_PARTITION,
                   ("nope", 0): UNKNOWN_TOPIC_OR_PARTITION},
          "OffsetCommit v%d errors %r" % (v, errs))
    for fv in range(0, 8):
        err, got = offset_fetch(c, fv, g, {"t": [0, 1, 2]})
        epoch0 = 7 if v >= 6 and fv >= 5 else -1
        epoch1 = 8 if v >= 6 and fv >= 5 else -1
        want = {("t", 0): (100 + v, "meta-%d" % v, epoch0, NONE),
                ("t", 1): (200 + v, "", epoch1, NONE),
                ("t", 2): (-1, "", -1, NONE)}
        check(got == want, "commit v%d fetch v%d: %r" % (v, fv, got))
        check(err == (None if fv < 2 else NONE), "fetch v%d top-level error %r" % (fv, err))
    res = offset_fetch_groups(c, 8, [(g, {"t": [0, 2]})])
    check(res[g][0] == NONE and res[g][1][("t", 0)][0] == 100 + v and
          res[g][1][("t", 2)][0] == -1, "commit v%d fetch v8: %r" % (v, res))

# Null topics (v2+): every committed offset of the group.
for fv in range(2, 8):
    err, got = offset_fetch(c, fv, "simple-v3", None)
    check(err == NONE and sorted(got) == [("t", 0), ("t", 1)] and
          got[("t", 1)][0] == 203, "fetch v%d all: %r" % (fv, got))
# v8: several groups at once, null topics, an unknown group.
res = offset_fetch_groups(c, 8, [("simple-v4", None), ("simple-v8", {"t": [1]}),
                                 ("never-committed", {"t": [0]}), ("also-unknown", None)])
check(sorted(res) == ["also-unknown", "never-committed", "simple-v4", "simple-v8"],
      "v8 groups %r" % sorted(res))
check(sorted(res["simple-v4"][1]) == [("t", 0), ("t", 1)] and
      res["simple-v4"][1][("t", 0)][0] == 104, "v8 all of simple-v4: %r" % (res["simple-v4"],))
check(res["simple-v8"][1] == {("t", 1): (208, "", 8, NONE)}, "v8 simple-v8: %r" %
      (res["simple-v8"],))
check(res["never-committed"] == (NONE, {("t", 0): (-1, "", -1, NONE)}),
      "v8 unknown group: %r" % (res["never-committed"],))
check(res["also-unknown"] == (NONE, {}), "v8 unknown group, all: %r" % (res["also-unknown"],))
# require_stable (v7): nothing is ever pending here.
err, got = offset_fetch(c, 7, "simple-v7", {"t": [0]}, require_stable=True)
check(err == NONE and got[("t", 0)][3] == NONE and got[("t", 0)][0] == 107,
      "require_stable: %r" % (got,))

# offset.metadata.max.bytes (4096, counted in Java chars): 4096 fits, 4097
# does not; a multi-byte character counts once.
errs = offset_commit(c, 2, "meta", {("t", 0): (1, "x" * 4096, -1),
                                    ("t", 1): (1, "x" * 4097, -1),
                                    ("t", 2): (1, "\u00e9" * 4096, -1)})
check(errs == {("t", 0): NONE, ("t", 1): OFFSET_METADATA_TOO_LARGE, ("t", 2): NONE},
      "metadata sizes %r" % errs)
err, got = offset_fetch(c, 1, "meta", {"t": [1, 2]})
check(got[("t", 1)][0] == -1 and got[("t", 2)][1] == "\u00e9" * 4096,
      "metadata after sizes: %r" % ({k: v[0] for k, v in got.items()},))
# An empty group id is allowed for commits and fetches (Kafka keeps it for
# old clients).
errs = offset_commit(c, 2, "", {("t", 0): (5, "", -1)})
err, got = offset_fetch(c, 2, "", {"t": [0]})
check(errs == {("t", 0): NONE} and got[("t", 0)][0] == 5, "empty group id %r %r" % (errs, got))

# Generation checks against a real member of a consumer group.
m = Conn(PORT)
j = join_known(m, 5, "active", protocols=(("range", b"\x00\x00\x00\x00\x00\x01\x00\x01t"
                                            b"\xff\xff\xff\xff"),))
check(j["error"] == NONE, "join %r" % (j,))
gen, member = j["generation"], j["member"]
s = sync(m, 3, "active", gen, member, assignments=[(member, b"")])
check(s["error"] == NONE, "sync %r" % (s,))
for v in range(1, 9):
    e = offset_commit(c, v, "active", {("t", 0): (10 + v, "", -1)}, gen, member)
    check(e == {("t", 0): NONE}, "member commit v%d: %r" % (v, e))
    e = offset_commit(c, v, "active", {("t", 0): (1, "", -1)}, gen + 1, member)
    check(e == {("t", 0): ILLEGAL_GENERATION}, "wrong generation v%d: %r" % (v, e))
    e = offset_commit(c, v, "active", {("t", 0): (1, "", -1)}, gen, "ghost")
    check(e == {("t", 0): UNKNOWN_MEMBER_ID}, "unknown member v%d: %r" % (v, e))
    # A simple commit into a group with members is refused (Kafka).
    e = offset_commit(c, v, "active", {("t", 0): (1, "", -1)}, -1, "")
    check(e[("t", 0)] != NONE, "simple commit into an active group v%d: %r" % (v, e))
# Unknown partitions keep their own error even when the member is wrong.
e = offset_commit(c, 8, "active", {("t", 0): (1, "", -1), ("t", 50): (1, "", -1)}, gen, "x")
check(e == {("t", 0): UNKNOWN_MEMBER_ID, ("t", 50): UNKNOWN_TOPIC_OR_PARTITION},
      "mixed errors %r" % e)
err, got = offset_fetch(c, 6, "active", {"t": [0]})
check(got[("t", 0)][0] == 18, "active group's offset %r" % (got,))
check(heartbeat(m, 3, "active", gen, member) == NONE, "member still there")

# OffsetDelete: a topic the active group subscribes to is refused per
# partition; unknown partitions; an unknown group; a simple group's offsets go.
err, parts = offset_delete(c, "active", [("t", 0)])
check(err == NONE and parts == {("t", 0): GROUP_SUBSCRIBED_TO_TOPIC}, "delete subscribed %r %r"
      % (err, parts))
err, parts = offset_delete(c, "no-such-group", [("t", 0)])
check(err == GROUP_ID_NOT_FOUND, "delete unknown group %r %r" % (err, parts))
err, parts = offset_delete(c, "simple-v5", [("t", 0), ("t", 7), ("gone", 0)])
check(err == NONE and parts == {("t", 0): NONE, ("t", 7): UNKNOWN_TOPIC_OR_PARTITION,
                                ("gone", 0): UNKNOWN_TOPIC_OR_PARTITION},
      "delete simple %r %r" % (err, parts))
err, got = offset_fetch(c, 3, "simple-v5", None)
check(sorted(got) == [("t", 1)], "after delete %r" % (got,))
err, parts = offset_delete(c, "simple-v5", [("t", 1)])
check(err == NONE and parts == {("t", 1): NONE}, "delete last %r %r" % (err, parts))
err, got = offset_fetch(c, 3, "simple-v5", None)
check(got == {}, "nothing left %r" % (got,))
m.close()
c.close()

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
