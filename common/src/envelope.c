/*
 * envelope.c - the JSON record envelope (kcat's -J shape with null/empty kept
 * apart and {"base64":...} for bytes that are not UTF-8): encoder and a small
 * bounded decoder for one object per line (slclient/envelope.h; docs/CLI.md,
 * "Record envelope").  The decoder copies decoded bytes into one arena per
 * record and never allocates more than the input's length in total.
 */
#include "slclient/envelope.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/checkpoint.h"
#include "slclient/base64.h"

void sc_record_init(sc_record *r) {
  memset(r, 0, sizeof(*r));
  r->partition = -1;
  r->offset = -1;
  r->tstype = SC_TSTYPE_NONE;
  r->timestamp = -1;
  r->broker = -1;
  r->key_len = -1;
  r->value_len = -1;
}

bool sc_utf8_valid(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t need;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i - 1 < need)
      return false;
    for (size_t k = 1; k <= need; k++) {
      uint8_t cc = p[i + k];
      if ((cc & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += need + 1;
  }
  return true;
}

static int json_string(sl_buf *out, const uint8_t *p, size_t n) {
  static const char hex[] = "0123456789abcdef";
  if (sl_buf_u8(out, '"'))
    return SL_ENOMEM;
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    if (sl_buf_append(out, p + run, i - run))
      return SL_ENOMEM;
    run = i + 1;
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t elen = 2;
    switch (c) {
    case '"':
      esc[1] = '"';
      break;
    case '\\':
      esc[1] = '\\';
      break;
    case '\n':
      esc[1] = 'n';
      break;
    case '\r':
      esc[1] = 'r';
      break;
    case '\t':
      esc[1] = 't';
      break;
    case '\b':
      esc[1] = 'b';
      break;
    case '\f':
      esc[1] = 'f';
      break;
    default:
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      elen = 6;
      break;
    }
    if (sl_buf_append(out, esc, elen))
      return SL_ENOMEM;
  }
  if (sl_buf_append(out, p + run, n - run) || sl_buf_u8(out, '"'))
    return SL_ENOMEM;
  return SL_OK;
}

int sc_json_bytes(sl_buf *out, const uint8_t *p, int32_t len) {
  if (len < 0)
    return sl_buf_append(out, "null", 4);
  if (sc_utf8_valid(p, (size_t)len))
    return json_string(out, p, (size_t)len);
  if (sl_buf_append(out, "{\"base64\":\"", 11) || sc_base64_encode(p, (size_t)len, out) ||
      sl_buf_append(out, "\"}", 2))
    return SL_ENOMEM;
  return SL_OK;
}

static int append_str(sl_buf *out, const char *s) {
  return sl_buf_append(out, s, strlen(s));
}

static int append_int(sl_buf *out, int64_t v) {
  char tmp[32];
  int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
  return sl_buf_append(out, tmp, (size_t)n);
}

int sc_envelope_encode(const sc_record *r, sl_buf *out) {
  size_t start = out->len;
  int rc = SL_OK;
  const char *tstype = r->tstype == SC_TSTYPE_CREATE      ? "create"
                       : r->tstype == SC_TSTYPE_LOGAPPEND ? "logappend"
                                                          : "none";
  rc |= sl_buf_u8(out, '{');
  if (r->topic) {
    rc |= append_str(out, "\"topic\":");
    rc |= sc_json_bytes(out, (const uint8_t *)r->topic, (int32_t)r->topic_len);
    rc |= sl_buf_u8(out, ',');
  }
  rc |= append_str(out, "\"partition\":");
  rc |= append_int(out, r->partition);
  rc |= append_str(out, ",\"offset\":");
  rc |= append_int(out, r->offset);
  rc |= append_str(out, ",\"tstype\":\"");
  rc |= append_str(out, tstype);
  rc |= append_str(out, "\",\"ts\":");
  rc |= append_int(out, r->timestamp);
  rc |= append_str(out, ",\"broker\":");
  rc |= append_int(out, r->broker);
  if (r->header_count > 0) {
    rc |= append_str(out, ",\"headers\":[");
    for (int32_t i = 0; i < r->header_count; i++) {
      const sl_header *h = &r->headers[i];
      if (i > 0)
        rc |= sl_buf_u8(out, ',');
      rc |= sc_json_bytes(out, h->key, h->key_len);
      rc |= sl_buf_u8(out, ',');
      rc |= sc_json_bytes(out, h->value, h->value_len);
    }
    rc |= sl_buf_u8(out, ']');
  }
  rc |= append_str(out, ",\"key\":");
  rc |= sc_json_bytes(out, r->key, r->key_len);
  rc |= append_str(out, ",\"payload\":");
  rc |= sc_json_bytes(out, r->value, r->value_len);
  rc |= sl_buf_u8(out, '}');
  if (rc != 0 || out->err) {
    out->len = start;
    return SL_ENOMEM;
  }
  return SL_OK;
}

/* ---- decoder ---- */

#define JSON_MAX_DEPTH 32

/* A decoded byte string in the arena: len -1 = null. */
typedef struct span {
  size_t off;
  int32_t len;
} span;

struct sc_envelope_decoder {
  sl_buf arena;
  span *hspans;
  size_t hcap;
  sl_header *headers;
  size_t hdr_cap;
};

int sc_envelope_decoder_new(sc_envelope_decoder **out) {
  sc_envelope_decoder *d = calloc(1, sizeof(*d));
  if (!d)
    return SL_ENOMEM;
  sl_buf_init(&d->arena);
  *out = d;
  return SL_OK;
}

void sc_envelope_decoder_free(sc_envelope_decoder *d) {
  if (!d)
    return;
  sl_buf_release(&d->arena);
  free(d->hspans);
  free(d->headers);
  free(d);
}

typedef struct jp {
  const char *p;
  size_t n;
  size_t pos;
  sl_buf *arena;
  sl_diag *diag;
} jp;

static int jp_fail(jp *j, const char *what) {
  return sl_diag_set(j->diag, SL_EINVAL, (int64_t)j->pos, "JSON envelope: %s", what);
}

static void jp_ws(jp *j) {
  while (j->pos < j->n) {
    char c = j->p[j->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    j->pos++;
  }
}

static bool jp_peek(jp *j, char c) {
  jp_ws(j);
  return j->pos < j->n && j->p[j->pos] == c;
}

static int jp_expect(jp *j, char c) {
  if (!jp_peek(j, c)) {
    char what[40];
    snprintf(what, sizeof(what), "expected '%c'", c);
    return jp_fail(j, what);
  }
  j->pos++;
  return SL_OK;
}

static bool jp_literal(jp *j, const char *lit) {
  size_t n = strlen(lit);
  jp_ws(j);
  if (j->n - j->pos >= n && memcmp(j->p + j->pos, lit, n) == 0) {
    j->pos += n;
    return true;
  }
  return false;
}

static int hex4(const char *p, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (uint32_t)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static int put_utf8(sl_buf *b, uint32_t cp) {
  uint8_t u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (uint8_t)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (uint8_t)(0xc0 | cp >> 6);
    u[1] = (uint8_t)(0x80 | (cp & 0x3f));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (uint8_t)(0xe0 | cp >> 12);
    u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    u[2] = (uint8_t)(0x80 | (cp & 0x3f));
    n = 3;
  } else {
    u[0] = (uint8_t)(0xf0 | cp >> 18);
    u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    u[3] = (uint8_t)(0x80 | (cp & 0x3f));
    n = 4;
  }
  return sl_buf_append(b, u, n);
}

/* A JSON string, decoded and appended to the arena. */
static int jp_string(jp *j, span *out) {
  int rc = jp_expect(j, '"');
  if (rc)
    return rc;
  size_t start = j->arena->len;
  for (;;) {
    size_t run = j->pos;
    while (j->pos < j->n && j->p[j->pos] != '"' && j->p[j->pos] != '\\' &&
           (unsigned char)j->p[j->pos] >= 0x20)
      j->pos++;
    if (sl_buf_append(j->arena, j->p + run, j->pos - run))
      return SL_ENOMEM;
    if (j->pos >= j->n)
      return jp_fail(j, "unterminated string");
    char c = j->p[j->pos];
    if (c == '"') {
      j->pos++;
      break;
    }
    if (c != '\\')
      return jp_fail(j, "control character in string");
    if (j->n - j->pos < 2)
      return jp_fail(j, "unterminated escape");
    char e = j->p[j->pos + 1];
    char lit = 0;
    switch (e) {
    case '"':
    case '\\':
    case '/':
      lit = e;
      break;
    case 'n':
      lit = '\n';
      break;
    case 'r':
      lit = '\r';
      break;
    case 't':
      lit = '\t';
      break;
    case 'b':
      lit = '\b';
      break;
    case 'f':
      lit = '\f';
      break;
    case 'u': {
      uint32_t cp;
      size_t esc_at = j->pos;
      if (j->n - j->pos < 6 || hex4(j->p + j->pos + 2, &cp))
        return jp_fail(j, "bad \\u escape");
      j->pos += 6;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        uint32_t lo;
        if (j->n - j->pos < 6 || j->p[j->pos] != '\\' || j->p[j->pos + 1] != 'u' ||
            hex4(j->p + j->pos + 2, &lo) || lo < 0xdc00 || lo > 0xdfff) {
          j->pos = esc_at;
          return jp_fail(j, "unpaired surrogate in \\u escape");
        }
        j->pos += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        j->pos = esc_at;
        return jp_fail(j, "unpaired surrogate in \\u escape");
      }
      if (put_utf8(j->arena, cp))
        return SL_ENOMEM;
      continue;
    }
    default:
      return jp_fail(j, "unknown escape");
    }
    if (sl_buf_u8(j->arena, (uint8_t)lit))
      return SL_ENOMEM;
    j->pos += 2;
  }
  size_t len = j->arena->len - start;
  if (len > INT32_MAX)
    return jp_fail(j, "string too long");
  out->off = start;
  out->len = (int32_t)len;
  return SL_OK;
}

static int jp_skip(jp *j, int depth);

/* null | "string" | {"base64":"..."} */
static int jp_bytes(jp *j, span *out) {
  if (jp_literal(j, "null")) {
    out->off = 0;
    out->len = -1;
    return SL_OK;
  }
  if (jp_peek(j, '"'))
    return jp_string(j, out);
  if (!jp_peek(j, '{'))
    return jp_fail(j, "expected a string, null or {\"base64\":...}");
  j->pos++;
  bool have = false;
  if (jp_peek(j, '}'))
    return jp_fail(j, "empty object where bytes were expected");
  for (;;) {
    span name;
    size_t mark = j->arena->len;
    int rc = jp_string(j, &name);
    if (rc)
      return rc;
    bool is_b64 = name.len == 6 && memcmp(j->arena->data + name.off, "base64", 6) == 0;
    j->arena->len = mark;
    if ((rc = jp_expect(j, ':')))
      return rc;
    if (is_b64) {
      span text;
      size_t pos = j->pos;
      if ((rc = jp_string(j, &text)))
        return rc;
      /* Decode from a copy of the text: the arena may move while growing. */
      size_t tlen = (size_t)text.len;
      char *tmp = malloc(tlen ? tlen : 1);
      if (!tmp)
        return SL_ENOMEM;
      memcpy(tmp, j->arena->data + text.off, tlen);
      j->arena->len = mark;
      rc = sc_base64_decode(tmp, tlen, j->arena);
      free(tmp);
      if (rc == SL_ENOMEM)
        return rc;
      if (rc) {
        j->pos = pos;
        return jp_fail(j, "invalid base64");
      }
      if (j->arena->len - mark > INT32_MAX)
        return jp_fail(j, "value too long");
      out->off = mark;
      out->len = (int32_t)(j->arena->len - mark);
      have = true;
    } else if ((rc = jp_skip(j, 1))) {
      return rc;
    }
    if (jp_peek(j, ',')) {
      j->pos++;
      continue;
    }
    if ((rc = jp_expect(j, '}')))
      return rc;
    break;
  }
  if (!have)
    return jp_fail(j, "object without \"base64\" where bytes were expected");
  return SL_OK;
}

static int jp_int(jp *j, int64_t *out) {
  jp_ws(j);
  size_t start = j->pos;
  if (j->pos < j->n && j->p[j->pos] == '-')
    j->pos++;
  while (j->pos < j->n && j->p[j->pos] >= '0' && j->p[j->pos] <= '9')
    j->pos++;
  if (j->pos < j->n &&
      (j->p[j->pos] == '.' || j->p[j->pos] == 'e' || j->p[j->pos] == 'E')) {
    j->pos = start;
    return jp_fail(j, "expected an integer");
  }
  if (sl_parse_decimal(j->p + start, j->pos - start, INT64_MIN, INT64_MAX, out)) {
    j->pos = start;
    return jp_fail(j, "expected an integer");
  }
  return SL_OK;
}

/* Skips any JSON value (bounded depth). */
static int jp_skip(jp *j, int depth) {
  if (depth > JSON_MAX_DEPTH)
    return jp_fail(j, "nesting too deep");
  jp_ws(j);
  if (j->pos >= j->n)
    return jp_fail(j, "expected a value");
  char c = j->p[j->pos];
  size_t mark = j->arena->len;
  int rc = SL_OK;
  if (c == '"') {
    span s;
    rc = jp_string(j, &s);
    j->arena->len = mark;
    return rc;
  }
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    j->pos++;
    if (jp_peek(j, close)) {
      j->pos++;
      return SL_OK;
    }
    for (;;) {
      if (c == '{') {
        span s;
        if ((rc = jp_string(j, &s)))
          return rc;
        j->arena->len = mark;
        if ((rc = jp_expect(j, ':')))
          return rc;
      }
      if ((rc = jp_skip(j, depth + 1)))
        return rc;
      if (jp_peek(j, ',')) {
        j->pos++;
        continue;
      }
      return jp_expect(j, close);
    }
  }
  if (jp_literal(j, "null") || jp_literal(j, "true") || jp_literal(j, "false"))
    return SL_OK;
  /* A number: sign, digits, fraction, exponent. */
  size_t start = j->pos;
  while (j->pos < j->n && strchr("+-0123456789.eE", j->p[j->pos]) && j->p[j->pos])
    j->pos++;
  if (j->pos == start)
    return jp_fail(j, "unexpected character");
  return SL_OK;
}

static bool key_is(const sl_buf *a, const span *s, const char *name) {
  size_t n = strlen(name);
  return (size_t)s->len == n && memcmp(a->data + s->off, name, n) == 0;
}

static int push_hspan(sc_envelope_decoder *d, size_t *count, span s) {
  if (*count == d->hcap) {
    size_t cap = d->hcap ? d->hcap * 2 : 16;
    span *n = realloc(d->hspans, cap * sizeof(*n));
    if (!n)
      return SL_ENOMEM;
    d->hspans = n;
    d->hcap = cap;
  }
  d->hspans[(*count)++] = s;
  return SL_OK;
}

int sc_envelope_decode(sc_envelope_decoder *d, const char *p, size_t n, sc_record *r,
                       sl_diag *diag) {
  jp j = {p, n, 0, &d->arena, diag};
  span topic = {0, -1}, key = {0, -1}, value = {0, -1};
  size_t nh = 0;
  int rc;
  sl_buf_reset(&d->arena);
  sc_record_init(r);
  if ((rc = jp_expect(&j, '{')))
    return rc;
  if (jp_peek(&j, '}')) {
    j.pos++;
    goto done;
  }
  for (;;) {
    span name;
    size_t mark = d->arena.len;
    if ((rc = jp_string(&j, &name)))
      return rc;
    if ((rc = jp_expect(&j, ':')))
      return rc;
    size_t vpos = j.pos;
    int64_t v;
    if (key_is(&d->arena, &name, "topic")) {
      d->arena.len = mark;
      if ((rc = jp_bytes(&j, &topic)))
        return rc;
    } else if (key_is(&d->arena, &name, "key")) {
      d->arena.len = mark;
      if ((rc = jp_bytes(&j, &key)))
        return rc;
    } else if (key_is(&d->arena, &name, "payload")) {
      d->arena.len = mark;
      if ((rc = jp_bytes(&j, &value)))
        return rc;
    } else if (key_is(&d->arena, &name, "partition")) {
      d->arena.len = mark;
      if ((rc = jp_int(&j, &v)))
        return rc;
      if (v < -1 || v > INT32_MAX) {
        j.pos = vpos;
        return jp_fail(&j, "partition out of range");
      }
      r->partition = (int32_t)v;
    } else if (key_is(&d->arena, &name, "offset")) {
      d->arena.len = mark;
      if ((rc = jp_int(&j, &r->offset)))
        return rc;
    } else if (key_is(&d->arena, &name, "ts")) {
      d->arena.len = mark;
      if ((rc = jp_int(&j, &r->timestamp)))
        return rc;
    } else if (key_is(&d->arena, &name, "broker")) {
      d->arena.len = mark;
      if ((rc = jp_int(&j, &v)))
        return rc;
      r->broker = (v < INT32_MIN || v > INT32_MAX) ? -1 : (int32_t)v;
    } else if (key_is(&d->arena, &name, "tstype")) {
      span t;
      d->arena.len = mark;
      if ((rc = jp_string(&j, &t)))
        return rc;
      if (key_is(&d->arena, &t, "create"))
        r->tstype = SC_TSTYPE_CREATE;
      else if (key_is(&d->arena, &t, "logappend"))
        r->tstype = SC_TSTYPE_LOGAPPEND;
      else
        r->tstype = SC_TSTYPE_NONE;
      d->arena.len = mark;
    } else if (key_is(&d->arena, &name, "headers")) {
      d->arena.len = mark;
      if (jp_literal(&j, "null")) {
        /* no headers */
      } else {
        if ((rc = jp_expect(&j, '[')))
          return rc;
        if (jp_peek(&j, ']')) {
          j.pos++;
        } else {
          for (;;) {
            span s;
            if ((rc = jp_bytes(&j, &s)))
              return rc;
            if (nh % 2 == 0 && s.len < 0)
              return jp_fail(&j, "header name is null");
            if ((rc = push_hspan(d, &nh, s)))
              return rc;
            if (jp_peek(&j, ',')) {
              j.pos++;
              continue;
            }
            if ((rc = jp_expect(&j, ']')))
              return rc;
            break;
          }
          if (nh % 2 != 0)
            return jp_fail(&j, "headers array has an odd number of elements");
        }
      }
    } else {
      d->arena.len = mark;
      if ((rc = jp_skip(&j, 1)))
        return rc;
    }
    if (jp_peek(&j, ',')) {
      j.pos++;
      continue;
    }
    if ((rc = jp_expect(&j, '}')))
      return rc;
    break;
  }
done:
  jp_ws(&j);
  if (j.pos != j.n)
    return jp_fail(&j, "trailing characters after the object");
  if (d->arena.err)
    return SL_ENOMEM;
  /* Pointers only now: the arena does not move any more. */
  const uint8_t *base = d->arena.data;
  if (topic.len >= 0) {
    r->topic = (const char *)(base ? base + topic.off : (const uint8_t *)"");
    r->topic_len = (size_t)topic.len;
  }
  if (key.len >= 0) {
    r->key = base ? base + key.off : (const uint8_t *)"";
    r->key_len = key.len;
  }
  if (value.len >= 0) {
    r->value = base ? base + value.off : (const uint8_t *)"";
    r->value_len = value.len;
  }
  if (nh > 0) {
    size_t count = nh / 2;
    if (count > d->hdr_cap) {
      sl_header *nhdr = realloc(d->headers, count * sizeof(*nhdr));
      if (!nhdr)
        return SL_ENOMEM;
      d->headers = nhdr;
      d->hdr_cap = count;
    }
    for (size_t i = 0; i < count; i++) {
      span k = d->hspans[2 * i], v = d->hspans[2 * i + 1];
      d->headers[i].key = base ? base + k.off : (const uint8_t *)"";
      d->headers[i].key_len = k.len;
      d->headers[i].value =
          v.len >= 0 ? (base ? base + v.off : (const uint8_t *)"") : NULL;
      d->headers[i].value_len = v.len;
    }
    r->headers = d->headers;
    r->header_count = (int32_t)count;
  }
  return SL_OK;
}
