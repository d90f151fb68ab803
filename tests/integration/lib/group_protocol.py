"""0134: the group coordinator's wire behaviour, request by request, at every
advertised version of FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
LeaveGroup, DescribeGroups, ListGroups and DeleteGroups: Kafka's errors for
bad input, KIP-394, the leader's view, a rebalance triggered by one member
while another keeps heartbeating, static members, group.max.size, and hostile
sizes.  argv: port (the broker runs with group.initial.rebalance.delay.ms=0,
group.max.size=3)."""
import sys
import threading

from group_wire import (Conn, delete_groups, describe, find_coordinator, heartbeat, join,
                        join_known, join_recv, join_send, join_send_known, leave, list_groups,
                        sync, sync_recv, sync_send)

PORT = int(sys.argv[1])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


NONE, COORDINATOR_NOT_AVAILABLE, ILLEGAL_GENERATION = 0, 15, 22
INCONSISTENT_GROUP_PROTOCOL, INVALID_GROUP_ID, UNKNOWN_MEMBER_ID = 23, 24, 25
INVALID_SESSION_TIMEOUT, REBALANCE_IN_PROGRESS, INVALID_REQUEST = 26, 27, 42
NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, MEMBER_ID_REQUIRED = 68, 69, 79
GROUP_MAX_SIZE_REACHED, FENCED_INSTANCE_ID = 81, 82

c = Conn(PORT)

# FindCoordinator: this node for groups at every version; v4 batches keys;
# transactions have no coordinator yet; unknown key types are invalid.
for v in range(0, 5):
    r = find_coordinator(c, v, key="grp", keys=["a", "b", "c"])
    if v <= 3:
        check(r["error"] == NONE and r["node"] == 1 and r["port"] == PORT and
              r["host"] == "127.0.0.1", "FindCoordinator v%d: %r" % (v, r))
    else:
        check([x["key"] for x in r["coordinators"]] == ["a", "b", "c"] and
              all(x["error"] == NONE and x["port"] == PORT for x in r["coordinators"]),
              "FindCoordinator v4 batch: %r" % r)
r = find_coordinator(c, 1, key="txn", key_type=1)
check(r["error"] == COORDINATOR_NOT_AVAILABLE, "FindCoordinator transaction: %r" % r)
r = find_coordinator(c, 2, key="x", key_type=7)
check(r["error"] == INVALID_REQUEST, "FindCoordinator key type 7: %r" % r)

# JoinGroup errors at every version.
for v in range(0, 10):
    r = join(c, v, "")
    check(r["error"] == INVALID_GROUP_ID, "JoinGroup v%d empty group id: %r" % (v, r))
    r = join(c, v, "e", session=1000)
    check(r["error"] == INVALID_SESSION_TIMEOUT, "JoinGroup v%d session 1000: %r" % (v, r))
    r = join(c, v, "e", member="ghost")
    check(r["error"] == UNKNOWN_MEMBER_ID, "JoinGroup v%d unknown member: %r" % (v, r))
    r = join(c, v, "e", protocols=())
    check(r["error"] == INCONSISTENT_GROUP_PROTOCOL, "JoinGroup v%d no protocols" % v)
    r = join(c, v, "e", ptype="")
    check(r["error"] == INCONSISTENT_GROUP_PROTOCOL, "JoinGroup v%d empty type" % v)
err, groups = list_groups(c, 0)
check(err == NONE and groups == [], "failed joins leave no group: %r" % groups)

# A full round at each JoinGroup/SyncGroup version pair, one group per version.
for v in range(0, 10):
    sv = min(v, 5)
    gid = "solo-%d" % v
    r = join(c, v, gid, protocols=(("range", b"meta-%d" % v),))
    if v >= 4:
        check(r["error"] == MEMBER_ID_REQUIRED and r["member"].startswith("t-group-"),
              "JoinGroup v%d KIP-394: %r" % (v, r))
        r = join(c, v, gid, member=r["member"], protocols=(("range", b"meta-%d" % v),))
    check(r["error"] == NONE and r["generation"] == 1 and r["leader"] == r["member"] and
          r["protocol"] == "range" and len(r["members"]) == 1 and
          r["members"][0]["metadata"] == b"meta-%d" % v, "JoinGroup v%d: %r" % (v, r))
    if v >= 7:
        check(r["protocol_type"] == "consumer", "JoinGroup v%d protocol type" % v)
    if v >= 9:
        check(r["skip"] is False, "JoinGroup v9 skip assignment")
    m = r["member"]
    if sv >= 5:
        s = sync(c, sv, gid, 1, m, ptype="other", pname="range")
        check(s["error"] == INCONSISTENT_GROUP_PROTOCOL, "SyncGroup v5 protocol type: %r" % s)
        s = sync(c, sv, gid, 1, m, ptype="consumer", pname="roundrobin")
        check(s["error"] == INCONSISTENT_GROUP_PROTOCOL, "SyncGroup v5 protocol name: %r" % s)
    s = sync(c, sv, gid, 2, m)
    check(s["error"] == ILLEGAL_GENERATION, "SyncGroup v%d generation: %r" % (sv, s))
    s = sync(c, sv, gid, 1, m, assignments=[(m, b"assigned-%d" % v), ("nobody", b"x")],
             ptype="consumer" if sv >= 5 else None, pname="range" if sv >= 5 else None)
    check(s["error"] == NONE and s["assignment"] == b"assigned-%d" % v,
          "SyncGroup v%d: %r" % (sv, s))
    if sv >= 5:
        check(s["protocol_type"] == "consumer" and s["protocol"] == "range",
              "SyncGroup v5 names: %r" % s)
    hv = min(v, 4)
    check(heartbeat(c, hv, gid, 1, m) == NONE, "Heartbeat v%d" % hv)
    check(heartbeat(c, hv, gid, 0, m) == ILLEGAL_GENERATION, "Heartbeat v%d generation" % hv)
    check(heartbeat(c, hv, gid, 1, "ghost") == UNKNOWN_MEMBER_ID, "Heartbeat v%d member" % hv)
    check(heartbeat(c, hv, "", 1, m) == INVALID_GROUP_ID, "Heartbeat v%d group id" % hv)

# DescribeGroups at every version: Stable shows the protocol, metadata and assignment.
for v in range(0, 6):
    d = describe(c, v, ["solo-3", "missing", ""], authorized=True)
    g = d[0]
    check(g["error"] == NONE and g["state"] == "Stable" and g["protocol"] == "range" and
          g["protocol_type"] == "consumer" and len(g["members"]) == 1 and
          g["members"][0]["assignment"] == b"assigned-3" and
          g["members"][0]["metadata"] == b"meta-3" and
          g["members"][0]["client_id"] == "t-group" and
          g["members"][0]["client_host"] == "/127.0.0.1", "DescribeGroups v%d: %r" % (v, g))
    check(d[1]["error"] == NONE and d[1]["state"] == "Dead" and d[1]["members"] == [],
          "DescribeGroups v%d missing group: %r" % (v, d[1]))
    if v >= 3:
        check(g["ops"] == (1 << 3) | (1 << 6) | (1 << 8), "DescribeGroups v%d ops" % v)

# ListGroups, with the v4 state filter (case-insensitive).
for v in range(0, 5):
    err, groups = list_groups(c, v)
    names = sorted(g["group"] for g in groups)
    check(err == NONE and names == ["solo-%d" % i for i in range(10)],
          "ListGroups v%d: %r" % (v, names))
err, groups = list_groups(c, 4, ["stable"])
check(len(groups) == 10 and all(g["state"] == "Stable" for g in groups), "ListGroups stable")
err, groups = list_groups(c, 4, ["Empty", "Dead"])
check(groups == [], "ListGroups Empty: %r" % groups)

# LeaveGroup at every version; the group becomes Empty at once; DeleteGroups.
for v in range(0, 6):
    gid = "solo-%d" % v
    d = describe(c, 0, [gid])[0]
    m = d["members"][0]["member"]
    if v <= 2:
        r = leave(c, v, gid, [(m, None)])
        check(r["error"] == NONE, "LeaveGroup v%d: %r" % (v, r))
        r = leave(c, v, gid, [(m, None)])
        check(r["error"] == UNKNOWN_MEMBER_ID, "LeaveGroup v%d again: %r" % (v, r))
    else:
        r = leave(c, v, gid, [(m, None), ("ghost", None), ("", "no-such-instance")])
        errs = [x["error"] for x in r["members"]]
        check(r["error"] == NONE and errs == [NONE, UNKNOWN_MEMBER_ID, UNKNOWN_MEMBER_ID],
              "LeaveGroup v%d batch: %r" % (v, r))
    check(describe(c, 0, [gid])[0]["state"] == "Empty", "group %s Empty after leave" % gid)
r = leave(c, 3, "no-group", [("a", None)])
check(r["error"] == NONE and r["members"][0]["error"] == UNKNOWN_MEMBER_ID, "leave no group")
r = leave(c, 1, "", [("a", None)])
check(r["error"] == INVALID_GROUP_ID, "LeaveGroup empty group id")
for v in range(0, 3):
    res = delete_groups(c, v, ["solo-%d" % v, "solo-9", "nothing"])
    check(res == {"solo-%d" % v: NONE, "solo-9": NON_EMPTY_GROUP, "nothing": GROUP_ID_NOT_FOUND},
          "DeleteGroups v%d: %r" % (v, res))
err, groups = list_groups(c, 0)
check(sorted(g["group"] for g in groups) == ["solo-%d" % i for i in range(3, 10)],
      "groups left after DeleteGroups")

# A rebalance triggered by a new member: the other member keeps heartbeating
# (REBALANCE_IN_PROGRESS tells it to rejoin), is not evicted, and both end in
# generation 2 with the leader seeing both members' metadata.
a, b = Conn(PORT, "client-a"), Conn(PORT, "client-b")
ra = join_known(a, 5, "coop", protocols=(("cooperative-sticky", b"A"), ("range", b"A")))
ma = ra["member"]
sync(a, 5, "coop", 1, ma, assignments=[(ma, b"all")])
corr_b = join_send_known(b, 5, "coop", protocols=(("cooperative-sticky", b"B"),))
check(heartbeat(a, 4, "coop", 1, ma) == REBALANCE_IN_PROGRESS, "heartbeat during rebalance")
corr_a = join_send(a, 5, "coop", member=ma,
                   protocols=(("cooperative-sticky", b"A"), ("range", b"A")))
ja, jb = join_recv(a, 5, corr_a), join_recv(b, 5, corr_b)
check(ja["generation"] == 2 and jb["generation"] == 2 and ja["leader"] == ma and
      ja["protocol"] == "cooperative-sticky" and
      sorted(x["metadata"] for x in ja["members"]) == [b"A", b"B"] and jb["members"] == [],
      "rebalance with a new member: %r %r" % (ja, jb))
mb = jb["member"]
corr_b = sync_send(b, 5, "coop", 2, mb)
sa = sync(a, 5, "coop", 2, ma, assignments=[(ma, b"half-a"), (mb, b"half-b")])
sb = sync_recv(b, 5, corr_b)
check(sa["assignment"] == b"half-a" and sb["assignment"] == b"half-b", "coop assignments")
d = describe(c, 5, ["coop"])[0]
check(d["state"] == "Stable" and d["protocol"] == "cooperative-sticky" and
      sorted(x["client_id"] for x in d["members"]) == ["client-a", "client-b"], "coop describe")

# group.max.size=3: the fourth member is refused.
c3 = Conn(PORT, "client-c")
corr = join_send_known(c3, 5, "coop", protocols=(("cooperative-sticky", b"C"),))
corr_b = join_send(b, 5, "coop", member=mb, protocols=(("cooperative-sticky", b"B"),))
ja = join(a, 5, "coop", member=ma, protocols=(("cooperative-sticky", b"A"),))
jc = join_recv(c3, 5, corr)
jb = join_recv(b, 5, corr_b)
check(ja["generation"] == 3 and len(ja["members"]) == 3, "three members: %r" % ja)
check(jc["error"] == NONE and jc["generation"] == 3, "third member joins: %r" % jc)
c4 = Conn(PORT, "client-d")
r = join(c4, 5, "coop", protocols=(("cooperative-sticky", b"D"),))
check(r["error"] == GROUP_MAX_SIZE_REACHED, "group.max.size: %r" % r)

check(describe(c, 5, ["coop"])[0]["state"] == "CompletingRebalance", "coop completing")
check(delete_groups(c, 2, ["coop"]) == {"coop": NON_EMPTY_GROUP}, "delete active group")

# Static members: a restart with the same group.instance.id in a Stable group
# gets a new member id, the same generation, its old assignment; the old id is
# fenced.
s1 = Conn(PORT, "static")
r = join(s1, 5, "st", instance="inst-1", protocols=(("range", b"S"),))
check(r["error"] == NONE and r["member"].startswith("inst-1-"), "static join: %r" % r)
old = r["member"]
sync(s1, 5, "st", 1, old, instance="inst-1", assignments=[(old, b"mine")])
r = join(s1, 7, "st", instance="inst-1", protocols=(("range", b"S"),))
check(r["error"] == NONE and r["generation"] == 1 and r["member"] != old and
      r["leader"] == old, "static rejoin keeps the generation: %r" % r)
new = r["member"]
s = sync(s1, 5, "st", 1, new, instance="inst-1")
check(s["error"] == NONE and s["assignment"] == b"mine", "static member's old assignment")
check(heartbeat(s1, 3, "st", 1, old, instance="inst-1") == FENCED_INSTANCE_ID, "fenced")
check(heartbeat(s1, 3, "st", 1, new, instance="inst-1") == NONE, "new static id")
check(describe(c, 4, ["st"])[0]["members"][0]["instance"] == "inst-1", "instance id shown")
r = leave(s1, 4, "st", [("", "inst-1")])
check(r["members"][0]["error"] == NONE, "leave by instance id: %r" % r)
check(describe(c, 4, ["st"])[0]["state"] == "Empty", "static group empty")

# Hostile sizes: a SyncGroup naming 100000 unknown members, a JoinGroup with
# 5000 protocols, huge timeouts.
h = Conn(PORT, "hostile")
r = join_known(h, 5, "big", protocols=[("p%d" % i, b"x" * 10) for i in range(5000)])
check(r["error"] == NONE and r["protocol"] == "p0", "5000 protocols: %r" % r["error"])
hm = r["member"]
s = sync(h, 5, "big", 1, hm, assignments=[("m%d" % i, b"") for i in range(100000)])
check(s["error"] == NONE and s["assignment"] == b"", "sync with 100000 unknown members %r" % s)
r = join_known(h, 7, "big3", protocols=[("q%d" % i, b"") for i in range(200000)])
check(r["error"] == NONE and r["protocol"] == "q0", "200000 protocols: %r" % r["error"])
r = join(h, 5, "big2", session=2 ** 31 - 1)
check(r["error"] == INVALID_SESSION_TIMEOUT, "session 2^31-1")
r = join_known(h, 5, "big2", rebalance=-5)
check(r["error"] == NONE, "negative rebalance timeout: %r" % r)

# Parked JoinGroups are answered even when many arrive at once.
results = []


def joiner(i):
    cc = Conn(PORT, "many-%d" % i)
    rr = join(cc, 3, "many", session=30000, rebalance=2000)
    results.append(rr)
    cc.close()


threads = [threading.Thread(target=joiner, args=(i,)) for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join(30)
check(len(results) == 3 and all(r["error"] == NONE for r in results), "3 parked joins")

if failures:
    sys.exit(1)
print("ok")
