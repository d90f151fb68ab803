"""OffsetCommit (8), OffsetFetch (9) and OffsetDelete (47) built byte by byte
for the seglogd tests, every version, classic and flexible encodings, on top
of group_wire's writer, reader and connection (timeouts on every socket
operation)."""
import struct

from group_wire import FLEX, R, W  # noqa: F401

FLEX.update({8: 8, 9: 6, 47: 99})  # OffsetDelete has no flexible version


def _i64(w, v):
    w.add(struct.pack(">q", v))
    return w


def _r_i64(r):
    return struct.unpack(">q", r.take(8))[0]


def _null_arr(w):
    w.add(b"\x00" if w.flex else struct.pack(">i", -1))


def offset_commit(c, version, group, offsets, generation=-1, member="", instance=None,
                  retention=-1, commit_ts=-1):
    """offsets: {(topic, partition): (offset, metadata, leader_epoch)}; returns
    {(topic, partition): error}."""
    w = W(version >= FLEX[8])
    w.str(group)
    if version >= 1:
        w.i32(generation).str(member)
    if version >= 7:
        w.str(instance)
    if 2 <= version <= 4:
        _i64(w, retention)
    topics = {}
    for (t, p), v in offsets.items():
        topics.setdefault(t, []).append((p,) + tuple(v))

    def part(w, pv):
        p, off, meta, epoch = pv
        w.i32(p)
        _i64(w, off)
        if version >= 6:
            w.i32(epoch)
        if version == 1:
            _i64(w, commit_ts)
        w.str(meta)
        w.tags()

    w.arr(list(topics.items()), lambda w, t: w.str(t[0]).arr(t[1], part).tags())
    corr = c.send(8, version, w.tags().b)
    r = c.recv(8, version, corr)
    if version >= 3:
        r.i32()
    out = {}

    def rtopic(r):
        name = r.str()

        def rpart(r):
            p, e = r.i32(), r.i16()
            r.tags()
            out[(name, p)] = e
        r.arr(rpart)
        r.tags()
    r.arr(rtopic)
    r.tags()
    return out


def _read_parts(r, version, name, out, with_epoch):
    def rpart(r):
        p, off = r.i32(), _r_i64(r)
        epoch = r.i32() if with_epoch else -1
        meta, err = r.str(), r.i16()
        r.tags()
        out[(name, p)] = (off, meta, epoch, err)
    r.arr(rpart)


def offset_fetch(c, version, group, topics=None, require_stable=False):
    """topics: {topic: [partitions]} or None (all, v2+).  v0-7.  Returns
    (top-level error or None, {(topic, partition): (offset, metadata, epoch, error)})."""
    w = W(version >= FLEX[9])
    w.str(group)
    if topics is None:
        _null_arr(w)
    else:
        w.arr(list(topics.items()),
              lambda w, t: w.str(t[0]).arr(list(t[1]), lambda w, p: w.i32(p)).tags())
    if version >= 7:
        w.bool(require_stable)
    corr = c.send(9, version, w.tags().b)
    r = c.recv(9, version, corr)
    if version >= 3:
        r.i32()
    out = {}

    def rtopic(r):
        name = r.str()
        _read_parts(r, version, name, out, version >= 5)
        r.tags()
    r.arr(rtopic)
    err = r.i16() if version >= 2 else None
    r.tags()
    return err, out


def offset_fetch_groups(c, version, groups, require_stable=False):
    """v8+: groups = [(group, {topic: [partitions]} or None)].  Returns
    {group: (error, {(topic, partition): (offset, metadata, epoch, error)})}."""
    w = W(True)

    def grp(w, g):
        w.str(g[0])
        if version >= 9:
            w.str(None).i32(-1)
        if g[1] is None:
            _null_arr(w)
        else:
            w.arr(list(g[1].items()),
                  lambda w, t: w.str(t[0]).arr(list(t[1]), lambda w, p: w.i32(p)).tags())
        w.tags()
    w.arr(groups, grp)
    w.bool(require_stable)
    corr = c.send(9, version, w.tags().b)
    r = c.recv(9, version, corr)
    r.i32()
    res = {}

    def rgroup(r):
        gid = r.str()
        out = {}

        def rtopic(r):
            name = r.str()
            _read_parts(r, version, name, out, True)
            r.tags()
        r.arr(rtopic)
        err = r.i16()
        r.tags()
        res[gid] = (err, out)
    r.arr(rgroup)
    r.tags()
    return res


def offset_delete(c, group, partitions):
    """partitions: [(topic, partition)].  Returns (error, {(topic, p): error})."""
    w = W(False)
    w.str(group)
    topics = {}
    for t, p in partitions:
        topics.setdefault(t, []).append(p)
    w.arr(list(topics.items()), lambda w, t: w.str(t[0]).arr(t[1], lambda w, p: w.i32(p)))
    corr = c.send(47, 0, w.b)
    r = c.recv(47, 0, corr)
    err = r.i16()
    r.i32()
    out = {}

    def rtopic(r):
        name = r.str()

        def rpart(r):
            p = r.i32()
            out[(name, p)] = r.i16()
        r.arr(rpart)
    r.arr(rtopic)
    return err, out
