"""emit_testfill.py - gen/kp_testfill.c, test support (not part of slproto).

kp_testfill() fills any message with pseudo-random values valid for a
version: every field present in that version, null only where nullable,
tagged fields sometimes left at their default.  The round-trip unit test
encodes, decodes and re-encodes what it produces.
"""

from emit_c import BANNER, INT_CTYPES, StructEmitter, c_string, guard, local, reachable


def fill_value(e, f, L, elem=False):
    kind = f.kind
    nul = "false" if elem else e.nullable(f)
    if kind in INT_CTYPES:
        if kind == "bool":
            return ["%s = (kp_tf_next(seed) & 1) != 0;" % L]
        if kind == "float64":
            return ["%s = (double)(kp_tf_next(seed) %% 1000) / 4.0;" % L]
        return ["%s = (%s)kp_tf_next64(seed);" % (L, INT_CTYPES[kind])]
    if kind == "uuid":
        return ["kp_tf_uuid(seed, &%s);" % L]
    if kind == "string":
        return ["%s = kp_tf_str(seed, %s);" % (L, nul)]
    if kind in ("bytes", "records"):
        return ["%s = kp_tf_bytes(seed, %s);" % (L, nul)]
    fn = "fill_%s" % local(f.struct)
    if elem or f.nullable.empty():
        return ["%s(&%s, v, a, seed);" % (fn, L)]
    return ["if (kp_tf_null(seed, %s)) {" % nul, "  %s = NULL;" % L, "} else {",
            "  %s = kp_tf_alloc(a, 1, sizeof *%s);" % (L, L),
            "  if (%s != NULL)" % L,
            "    %s(%s, v, a, seed);" % (fn, L), "}"]


def fill_struct(msg, s):
    e = StructEmitter(msg, s, set())
    out = ["static void fill_%s(%s *o, int16_t v, kp_arena *a, uint32_t *seed) {" %
           (local(s), s.cname), "  %s_init_defaults(o);" % s.cname]
    for f in s.fields:
        cond = e.present(f)
        if cond == "false":
            continue
        L = "o->" + f.cname
        if f.is_array:
            lines = ["%s_count = kp_tf_count(seed, %s);" % (L, e.nullable(f)),
                     "%s = kp_tf_alloc(a, %s_count, sizeof *%s);" % (L, L, L),
                     "if (%s == NULL && %s_count > 0)" % (L, L),
                     "  %s_count = 0;" % L,
                     "for (int32_t i = 0; i < %s_count; i++) {" % L] + \
                ["  " + x for x in fill_value(e, f, "%s[i]" % L, elem=True)] + ["}"]
        else:
            lines = fill_value(e, f, L)
        if f.tag is not None:
            lines = ["if (kp_tf_next(seed) % 3 != 0) {"] + ["  " + x for x in lines] + ["}"]
        out += ["  " + x for x in guard(cond, lines, always_block=f.is_array)]
    out.append("}")
    return out


def testfill_files(apis, headers, recs=()):
    c = [BANNER.rstrip(), "/*",
         " * kp_testfill.c - fills any generated message with pseudo-random values",
         " * valid for a version, for the round-trip tests (not part of slproto).",
         " */", '#include "kp_testfill.h"', "", "#include <string.h>", "",
         '#include "kp_apis.h"'] + (['#include "kp_records.h"'] if recs else []) + [""]
    msgs = [headers["RequestHeader"], headers["ResponseHeader"]]
    for api in apis:
        msgs += [api.request, api.response]
    msgs += list(recs)
    for msg in msgs:
        live = reachable(msg)
        for s in msg.order:
            if s.cname in live:
                c.append("static void fill_%s(%s *o, int16_t v, kp_arena *a, "
                         "uint32_t *seed);" % (local(s), s.cname))
    c.append("")
    for msg in msgs:
        live = reachable(msg)
        for s in msg.order:
            if s.cname in live:
                c += fill_struct(msg, s) + [""]
    c.append("int kp_testfill(int16_t api_key, bool response, int16_t v, kp_arena *a,")
    c.append("                uint32_t *seed, void *out) {")
    c.append("  switch (api_key) {")
    for api in apis:
        c.append("  case %d:" % api.key)
        c.append("    if (response)")
        c.append("      fill_%s(out, v, a, seed);" % local(api.response.top))
        c.append("    else")
        c.append("      fill_%s(out, v, a, seed);" % local(api.request.top))
        c.append("    return 0;")
    c.append("  case -1:")
    c.append("    if (response)")
    c.append("      fill_%s(out, v, a, seed);" % local(headers["ResponseHeader"].top))
    c.append("    else")
    c.append("      fill_%s(out, v, a, seed);" % local(headers["RequestHeader"].top))
    c.append("    return 0;")
    c.append("  default:")
    c.append("    return SL_EINVAL;")
    c.append("  }")
    c.append("}")
    if recs:
        c.append("")
        c.append("int kp_testfill_record(const char *name, int16_t v, kp_arena *a, "
                 "uint32_t *seed,")
        c.append("                       void *out) {")
        for msg in recs:
            c.append("  if (strcmp(name, %s) == 0) {" % c_string(msg.name))
            c.append("    fill_%s(out, v, a, seed);" % local(msg.top))
            c.append("    return 0;")
            c.append("  }")
        c.append("  return SL_EINVAL;")
        c.append("}")
    return {"kp_testfill.c": "\n".join(c) + "\n"}
