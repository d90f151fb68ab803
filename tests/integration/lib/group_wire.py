"""Group-coordinator requests built byte by byte for the seglogd tests
(FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups,
ListGroups, DeleteGroups), classic and flexible encodings, and a reader for
their responses.  Every socket operation has a timeout (broker_wire.TIMEOUT)."""
import struct

from broker_wire import connect, recv_frame, uvarint  # noqa: F401

# First flexible version of each API (Kafka's message definitions).
FLEX = {10: 3, 11: 6, 20: 4, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3, 42: 2}


class W:
    """Writer of one request body; flexible encodings when `flex`."""

    def __init__(self, flex):
        self.flex = flex
        self.parts = []

    @property
    def b(self):
        return b"".join(self.parts)

    def add(self, data):
        self.parts.append(data)

    def i8(self, v):
        self.add(struct.pack(">b", v))
        return self

    def i16(self, v):
        self.add(struct.pack(">h", v))
        return self

    def i32(self, v):
        self.add(struct.pack(">i", v))
        return self

    def bool(self, v):
        return self.i8(1 if v else 0)

    def str(self, s):
        if s is None:
            self.add(b"\x00" if self.flex else struct.pack(">h", -1))
            return self
        e = s.encode() if isinstance(s, str) else s
        self.add(uvarint(len(e) + 1) if self.flex else struct.pack(">h", len(e)))
        self.add(e)
        return self

    def bytes(self, v):
        if self.flex:
            self.add(uvarint(len(v) + 1) + v)
        else:
            self.add(struct.pack(">i", len(v)) + v)
        return self

    def arr(self, items, fn):
        self.add(uvarint(len(items) + 1) if self.flex else struct.pack(">i", len(items)))
        for it in items:
            fn(self, it)
        return self

    def tags(self):
        if self.flex:
            self.add(b"\x00")
        return self


class R:
    """Reader of one response body."""

    def __init__(self, data, flex):
        self.d = data
        self.o = 0
        self.flex = flex

    def take(self, n):
        if self.o + n > len(self.d):
            raise ValueError("response truncated")
        v = self.d[self.o:self.o + n]
        self.o += n
        return v

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def bool(self):
        return self.i8() != 0

    def uvar(self):
        shift = v = 0
        while True:
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7

    def str(self):
        n = self.uvar() - 1 if self.flex else self.i16()
        return None if n < 0 else self.take(n).decode()

    def bytes(self):
        n = self.uvar() - 1 if self.flex else self.i32()
        return None if n < 0 else self.take(n)

    def arr(self, fn):
        n = self.uvar() - 1 if self.flex else self.i32()
        return [fn(self) for _ in range(max(n, 0))]

    def tags(self):
        if self.flex:
            for _ in range(self.uvar()):
                self.uvar()
                self.take(self.uvar())


class Conn:
    def __init__(self, port, client="t-group"):
        self.s = connect(port)
        self.corr = 0
        self.client = client

    def send(self, key, version, body):
        self.corr += 1
        flex = version >= FLEX[key]
        h = struct.pack(">hhi", key, version, self.corr) + struct.pack(">h", len(self.client))
        h += self.client.encode() + (b"\x00" if flex else b"")
        payload = h + body
        self.s.sendall(struct.pack(">i", len(payload)) + payload)
        return self.corr

    def recv(self, key, version, corr):
        data = recv_frame(self.s)
        (got,) = struct.unpack(">i", data[:4])
        if got != corr:
            raise AssertionError("correlation id %d, expected %d" % (got, corr))
        flex = version >= FLEX[key]
        r = R(data[4:], flex)
        if flex:
            r.tags()  # response header v1
        return r

    def close(self):
        self.s.close()


def find_coordinator(c, version, key="g", key_type=0, keys=None):
    w = W(version >= FLEX[10])
    if version <= 3:
        w.str(key)
        if version >= 1:
            w.i8(key_type)
    else:
        w.i8(key_type).arr(keys or [key], lambda w, k: w.str(k))
    corr = c.send(10, version, w.tags().b)
    r = c.recv(10, version, corr)
    out = {}
    if version >= 1:
        out["throttle"] = r.i32()
    if version <= 3:
        out["error"] = r.i16()
        if version >= 1:
            out["message"] = r.str()
        out["node"], out["host"], out["port"] = r.i32(), r.str(), r.i32()
    else:
        def co(r):
            d = {"key": r.str(), "node": r.i32(), "host": r.str(), "port": r.i32(),
                 "error": r.i16(), "message": r.str()}
            r.tags()
            return d
        out["coordinators"] = r.arr(co)
    return out


def join_send(c, version, group, member="", protocols=(("range", b"m"),), session=10000,
              rebalance=30000, instance=None, ptype="consumer", reason=None):
    w = W(version >= FLEX[11])
    w.str(group).i32(session)
    if version >= 1:
        w.i32(rebalance)
    w.str(member)
    if version >= 5:
        w.str(instance)
    w.str(ptype)

    def proto(w, p):
        w.str(p[0]).bytes(p[1]).tags()
    w.arr(list(protocols), proto)
    if version >= 8:
        w.str(reason)
    return c.send(11, version, w.tags().b)


def join_recv(c, version, corr):
    r = c.recv(11, version, corr)
    out = {}
    if version >= 2:
        out["throttle"] = r.i32()
    out["error"] = r.i16()
    out["generation"] = r.i32()
    if version >= 7:
        out["protocol_type"] = r.str()
    out["protocol"] = r.str()
    out["leader"] = r.str()
    if version >= 9:
        out["skip"] = r.bool()
    out["member"] = r.str()

    def mem(r):
        d = {"member": r.str()}
        if version >= 5:
            d["instance"] = r.str()
        d["metadata"] = r.bytes()
        r.tags()
        return d
    out["members"] = r.arr(mem)
    r.tags()
    return out


def join(c, version, group, **kw):
    return join_recv(c, version, join_send(c, version, group, **kw))


def join_send_known(c, version, group, **kw):
    """KIP-394 (v4+ without an instance id): gets a member id, then sends the
    real JoinGroup with it; returns the correlation id of that second one."""
    if version >= 4 and kw.get("instance") is None and not kw.get("member"):
        r = join(c, version, group, **kw)
        if r["error"] != 79:
            raise AssertionError("expected MEMBER_ID_REQUIRED, got %r" % r)
        kw["member"] = r["member"]
    return join_send(c, version, group, **kw)


def join_known(c, version, group, **kw):
    return join_recv(c, version, join_send_known(c, version, group, **kw))


def sync_send(c, version, group, generation, member, assignments=(), instance=None,
              ptype=None, pname=None):
    w = W(version >= FLEX[14])
    w.str(group).i32(generation).str(member)
    if version >= 3:
        w.str(instance)
    if version >= 5:
        w.str(ptype).str(pname)
    w.arr(list(assignments), lambda w, a: w.str(a[0]).bytes(a[1]).tags())
    return c.send(14, version, w.tags().b)


def sync_recv(c, version, corr):
    r = c.recv(14, version, corr)
    out = {}
    if version >= 1:
        out["throttle"] = r.i32()
    out["error"] = r.i16()
    if version >= 5:
        out["protocol_type"] = r.str()
        out["protocol"] = r.str()
    out["assignment"] = r.bytes()
    r.tags()
    return out


def sync(c, version, group, generation, member, **kw):
    return sync_recv(c, version, sync_send(c, version, group, generation, member, **kw))


def heartbeat(c, version, group, generation, member, instance=None):
    w = W(version >= FLEX[12])
    w.str(group).i32(generation).str(member)
    if version >= 3:
        w.str(instance)
    corr = c.send(12, version, w.tags().b)
    r = c.recv(12, version, corr)
    if version >= 1:
        r.i32()
    return r.i16()


def leave(c, version, group, members):
    """members: [(member_id, instance_id)]; v0-2 use the first member id."""
    w = W(version >= FLEX[13])
    w.str(group)
    if version <= 2:
        w.str(members[0][0])
    else:
        def mi(w, m):
            w.str(m[0]).str(m[1])
            if version >= 5:
                w.str("test")
            w.tags()
        w.arr(members, mi)
    corr = c.send(13, version, w.tags().b)
    r = c.recv(13, version, corr)
    out = {}
    if version >= 1:
        out["throttle"] = r.i32()
    out["error"] = r.i16()
    if version >= 3:
        def mr(r):
            d = {"member": r.str(), "instance": r.str(), "error": r.i16()}
            r.tags()
            return d
        out["members"] = r.arr(mr)
    r.tags()
    return out


def describe(c, version, groups, authorized=False):
    w = W(version >= FLEX[15])
    w.arr(groups, lambda w, g: w.str(g))
    if version >= 3:
        w.bool(authorized)
    corr = c.send(15, version, w.tags().b)
    r = c.recv(15, version, corr)
    if version >= 1:
        r.i32()

    def mem(r):
        d = {"member": r.str()}
        if version >= 4:
            d["instance"] = r.str()
        d["client_id"], d["client_host"] = r.str(), r.str()
        d["metadata"], d["assignment"] = r.bytes(), r.bytes()
        r.tags()
        return d

    def grp(r):
        d = {"error": r.i16(), "group": r.str(), "state": r.str(), "protocol_type": r.str(),
             "protocol": r.str(), "members": r.arr(mem)}
        if version >= 3:
            d["ops"] = r.i32()
        r.tags()
        return d
    out = r.arr(grp)
    r.tags()
    return out


def list_groups(c, version, states=None):
    w = W(version >= FLEX[16])
    if version >= 4:
        w.arr(states or [], lambda w, s: w.str(s))
    corr = c.send(16, version, w.tags().b)
    r = c.recv(16, version, corr)
    if version >= 1:
        r.i32()
    err = r.i16()

    def grp(r):
        d = {"group": r.str(), "protocol_type": r.str()}
        if version >= 4:
            d["state"] = r.str()
        r.tags()
        return d
    groups = r.arr(grp)
    r.tags()
    return err, groups


def delete_groups(c, version, groups):
    w = W(version >= FLEX[42])
    w.arr(groups, lambda w, g: w.str(g))
    corr = c.send(42, version, w.tags().b)
    r = c.recv(42, version, corr)
    r.i32()

    def res(r):
        d = (r.str(), r.i16())
        r.tags()
        return d
    out = dict(r.arr(res))
    r.tags()
    return out
