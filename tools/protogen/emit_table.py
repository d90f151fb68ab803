"""emit_table.py - the API table (gen/kp_apis.h, gen/kp_apis.c).

One kp_api entry per ApiKey (see brokerd/proto/kp_api.h): versions, header
versions per version, and generic entry points wrapping the typed codecs.
"""

from emit_c import BANNER, c_string


def request_header_version(api, v):
    # Kafka's ApiMessageType.requestHeaderVersion: ControlledShutdown v0 used
    # header v0; otherwise flexible versions use header v2, others v1.
    if api.key == 7 and v == 0:
        return 0
    return 2 if api.flexible.lo <= v <= api.flexible.hi else 1


def response_header_version(api, v):
    # ApiVersions responses always use header v0 so that a client can parse
    # them before it knows which versions the broker supports (KIP-511).
    if api.key == 18:
        return 0
    return 1 if api.flexible.lo <= v <= api.flexible.hi else 0


def table_files(apis):
    h = [BANNER.rstrip(), "/*",
         " * kp_apis.h - every generated API: one header to include them all.",
         " */", "#ifndef KP_GEN_APIS_H", "#define KP_GEN_APIS_H", "",
         '#include "kp_runtime.h"', '#include "kp_header.h"']
    for api in apis:
        h.append('#include "kp_%s.h"' % api.snake)
    h += ["", "#define KP_API_KEY_MAX %d" % max(a.key for a in apis), ""]
    h.append("enum kp_api_key {")
    for api in apis:
        h.append("  KP_API_%s = %d," % (api.snake.upper(), api.key))
    h += ["};", "", "#endif"]
    c = [BANNER.rstrip(), "/*", " * kp_apis.c - the API table (see kp_api.h).", " */",
         '#include "kp_api.h"', "", '#include "kp_apis.h"', ""]
    for api in apis:
        for kind, msg in (("request", api.request), ("response", api.response)):
            m = msg.cname
            c.append("static void %s_init_any(void *o) {" % m)
            c.append("  %s_init_defaults(o);" % m)
            c.append("}")
            c.append("static int %s_decode_any(sl_rbuf *r, int16_t v, kp_arena *a, "
                     "void *o) {" % m)
            c.append("  return %s_decode(r, v, a, o);" % m)
            c.append("}")
            c.append("static int %s_encode_any(sl_buf *w, int16_t v, const void *in) {" % m)
            c.append("  return %s_encode(w, v, in);" % m)
            c.append("}")
    c.append("")
    c.append("static const kp_api kp_api_table[] = {")
    for api in apis:
        flex = -1 if api.flexible.empty() else api.flexible.lo
        hdr_req = "".join(str(request_header_version(api, v))
                          for v in range(api.valid.lo, api.valid.hi + 1))
        hdr_resp = "".join(str(response_header_version(api, v))
                           for v in range(api.valid.lo, api.valid.hi + 1))
        c.append("    {%d, %s, %d, %d, %d, %s, %s, %s," % (
            api.key, c_string(api.name), api.valid.lo, api.valid.hi, flex,
            "true" if api.unstable else "false", c_string(hdr_req), c_string(hdr_resp)))
        for msg in (api.request, api.response):
            m = msg.cname
            c.append("     {%s, sizeof(%s), %s_init_any, %s_decode_any, %s_encode_any}," %
                     (c_string(msg.name), m, m, m, m))
        c[-1] = c[-1].rstrip(",") + "},"
    c.append("};")
    c.append("")
    c.append("const kp_api *kp_api_at(size_t i) {")
    c.append("  return i < sizeof kp_api_table / sizeof kp_api_table[0] ? "
             "&kp_api_table[i] : NULL;")
    c.append("}")
    c.append("")
    c.append("const kp_api *kp_api_find(int16_t key) {")
    c.append("  switch (key) {")
    for i, api in enumerate(apis):
        c.append("  case %d:" % api.key)
        c.append("    return &kp_api_table[%d];" % i)
    c.append("  default:")
    c.append("    return NULL;")
    c.append("  }")
    c.append("}")
    return {"kp_apis.h": "\n".join(h) + "\n", "kp_apis.c": "\n".join(c) + "\n"}


def record_table_files(recs):
    """gen/kp_records.h/.c: every record schema, one header including them all
    and a table (kp_record_at / kp_record_find) with generic entry points."""
    from model import snake
    h = [BANNER.rstrip(), "/*",
         " * kp_records.h - every generated record schema (\"type\": \"data\": the",
         " * records of Kafka's internal topics, e.g. __consumer_offsets) and a",
         " * table of them.  Kafka writes each as an int16 version, then the struct",
         " * at that version (tools/protogen/README.md, \"Record schemas\").",
         " */", "#ifndef KP_GEN_RECORDS_H", "#define KP_GEN_RECORDS_H", "",
         '#include "kp_runtime.h"']
    for msg in recs:
        h.append('#include "kp_rec_%s.h"' % snake(msg.name))
    h += ["",
          "typedef struct kp_record {",
          "  const char *name; /* schema name, \"OffsetCommitValue\" */",
          "  int16_t min_version, max_version;",
          "  int16_t first_flexible; /* -1: none */",
          "  size_t size; /* sizeof the struct */",
          "  void (*init_defaults)(void *o);",
          "  int (*decode)(sl_rbuf *r, int16_t v, kp_arena *a, void *o);",
          "  int (*encode)(sl_buf *w, int16_t v, const void *in);",
          "} kp_record;", "",
          "/* The i-th record schema (sorted by name), NULL past the end. */",
          "const kp_record *kp_record_at(size_t i);",
          "/* The record schema called name (NUL-terminated), or NULL. */",
          "const kp_record *kp_record_find(const char *name);", "", "#endif"]
    c = [BANNER.rstrip(), "/*", " * kp_records.c - the record schema table (see kp_records.h).",
         " */", '#include "kp_records.h"', "", "#include <string.h>", ""]
    for msg in recs:
        m = msg.cname
        c.append("static void %s_init_any(void *o) {" % m)
        c.append("  %s_init_defaults(o);" % m)
        c.append("}")
        c.append("static int %s_decode_any(sl_rbuf *r, int16_t v, kp_arena *a, "
                 "void *o) {" % m)
        c.append("  return %s_decode(r, v, a, o);" % m)
        c.append("}")
        c.append("static int %s_encode_any(sl_buf *w, int16_t v, const void *in) {" % m)
        c.append("  return %s_encode(w, v, in);" % m)
        c.append("}")
    c.append("")
    c.append("static const kp_record kp_record_table[] = {")
    for msg in recs:
        m = msg.cname
        flex = -1 if msg.flexible.empty() else msg.flexible.lo
        c.append("    {%s, %d, %d, %d, sizeof(%s), %s_init_any, %s_decode_any, "
                 "%s_encode_any}," % (c_string(msg.name), msg.valid.lo, msg.valid.hi,
                                      flex, m, m, m, m))
    c.append("};")
    c.append("")
    c.append("const kp_record *kp_record_at(size_t i) {")
    c.append("  return i < sizeof kp_record_table / sizeof kp_record_table[0] ? "
             "&kp_record_table[i] : NULL;")
    c.append("}")
    c.append("")
    c.append("const kp_record *kp_record_find(const char *name) {")
    c.append("  for (size_t i = 0; i < sizeof kp_record_table / sizeof kp_record_table[0]; "
             "i++)")
    c.append("    if (strcmp(kp_record_table[i].name, name) == 0)")
    c.append("      return &kp_record_table[i];")
    c.append("  return NULL;")
    c.append("}")
    return {"kp_records.h": "\n".join(h) + "\n", "kp_records.c": "\n".join(c) + "\n"}
