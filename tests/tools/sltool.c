/*
 * sltool.c - a test tool that drives libseglog through its public API only
 * (format/include/seglog/; base64 from slclient), so that integration tests can compare
 * it byte for byte with another implementation (tests/integration/0001-*, 0003-*).
 * Formats are those of docs/FORMAT.md ("Record batches", "Indexes").
 *
 *   sltool dump FILE.log            one JSON line per record (see below)
 *   sltool build [opts] < in.jsonl  v2 batches to stdout
 *   sltool append [opts] DIR < in.jsonl  the same batches through the log API
 *   sltool index FILE.index|.timeindex|.txnindex  one JSON line per entry
 *
 * JSON conventions: byte strings (keys, values, header keys and values) are
 * standard base64 with padding; null is JSON null and the empty string is "",
 * so a null key and an empty key stay distinct.  Integers are plain JSON
 * integers (int64 range); CRCs are unsigned.
 *
 * dump output, one object per line:
 *   {"batch":{...},"record":{...}}   one per record, batch fields repeated
 *   {"batch":{...},"record":null}    for a batch that holds no records
 *   {"tail":{"position":P,"bytes":N}}  an incomplete entry at the end of file
 *   {"error":{"position":P,"code":"CORRUPT","message":"..."}}  then exit 1
 * batch: position, size, base_offset, last_offset_delta, last_offset,
 *   partition_leader_epoch, magic, crc, crc_valid, validate (SL error name of
 *   sl_batch_validate, "OK" when valid), attributes, codec, timestamp_type
 *   ("CreateTime", "LogAppendTime", or "NoTimestampType" for magic 0),
 *   transactional, control, delete_horizon, base_timestamp, max_timestamp,
 *   producer_id, producer_epoch, base_sequence, records_count.
 * record: offset, timestamp, attributes, key, value, headers ([[k, v], ...]).
 *
 * build input, one object per line:
 *   {"timestamp":T,"key":B64|null,"value":B64|null,"headers":[[B64,B64|null]]}
 *     "headers" may be omitted (= []); optional "offset" (absolute, must
 *     increase within the batch) and "attributes" (record attributes byte)
 *     select sl_batch_builder_add_record instead of sl_batch_builder_add.
 *   {"batch":{OPTIONS}}  ends the current batch and starts a new one whose
 *     options are the command-line ones overridden by OPTIONS: codec, level,
 *     base_offset, partition_leader_epoch, producer_id, producer_epoch,
 *     base_sequence, transactional, control, log_append_time, max_timestamp,
 *     delete_horizon_ms, last_offset_delta.  A batch opened this way is written
 *     even when it stays empty.
 *   {"marker":{"type":"commit"|"abort","producer_id":P,"producer_epoch":E,
 *     "coordinator_epoch":C,"timestamp":T}}  ends the current batch and writes
 *     a transaction marker batch.
 * Records before the first separator form a batch with the command-line
 * options (written only if it holds records).  Without an explicit base_offset
 * a batch starts right after the previous one; without an explicit
 * base_sequence a batch with a producer id continues the previous batch's
 * sequence (as a producer does), starting from --base-sequence (default -1).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/batch.h"
#include "seglog/bytes.h"
#include "seglog/compress.h"
#include "seglog/crc.h"
#include "seglog/error.h"
#include "seglog/log.h"
#include "slclient/base64.h"

#define EXIT_DATA 1  /* bad input data or a library error */
#define EXIT_USAGE 2 /* bad command line */

/* ------------------------------------------------------------------------ */
/* JSON writer                                                               */
/* ------------------------------------------------------------------------ */

#define JW_MAX_DEPTH 16

/* Writes one JSON value at a time; commas are placed from a per-level flag. */
typedef struct jw {
  FILE *f;
  int depth;
  bool first[JW_MAX_DEPTH];
  bool after_key;
} jw;

static void jw_init(jw *w, FILE *f) {
  memset(w, 0, sizeof(*w));
  w->f = f;
}

static void jw_sep(jw *w) {
  if (w->after_key) {
    w->after_key = false;
    return;
  }
  if (w->depth > 0) {
    if (!w->first[w->depth - 1])
      fputc(',', w->f);
    w->first[w->depth - 1] = false;
  }
}

static void jw_open(jw *w, char c) {
  jw_sep(w);
  fputc(c, w->f);
  if (w->depth < JW_MAX_DEPTH)
    w->first[w->depth] = true;
  w->depth++;
}

static void jw_close(jw *w, char c) {
  w->depth--;
  fputc(c, w->f);
}

/* Escapes per RFC 8259; bytes >= 0x80 are written as \u00XX so the output is
 * always valid JSON whatever the input bytes (used for messages, not data). */
static void jw_raw_string(jw *w, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  fputc('"', w->f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"':
      fputs("\\\"", w->f);
      break;
    case '\\':
      fputs("\\\\", w->f);
      break;
    case '\n':
      fputs("\\n", w->f);
      break;
    case '\r':
      fputs("\\r", w->f);
      break;
    case '\t':
      fputs("\\t", w->f);
      break;
    default:
      if (c < 0x20 || c >= 0x7f) {
        fputs("\\u00", w->f);
        fputc(hex[c >> 4], w->f);
        fputc(hex[c & 15], w->f);
      } else {
        fputc(c, w->f);
      }
    }
  }
  fputc('"', w->f);
}

static void jw_key(jw *w, const char *k) {
  jw_sep(w);
  jw_raw_string(w, k, strlen(k));
  fputc(':', w->f);
  w->after_key = true;
}

static void jw_str(jw *w, const char *s) {
  jw_sep(w);
  jw_raw_string(w, s, strlen(s));
}

static void jw_i64(jw *w, int64_t v) {
  jw_sep(w);
  fprintf(w->f, "%" PRId64, v);
}

static void jw_bool(jw *w, bool v) {
  jw_sep(w);
  fputs(v ? "true" : "false", w->f);
}

static void jw_null(jw *w) {
  jw_sep(w);
  fputs("null", w->f);
}

/* Bytes as base64; len < 0 means null. */
static void jw_b64(jw *w, const uint8_t *p, int64_t len) {
  if (len < 0) {
    jw_null(w);
    return;
  }
  sl_buf b = SL_BUF_INIT;
  if (sc_base64_encode(p, (size_t)len, &b) != 0) {
    fputs("sltool: out of memory\n", stderr);
    exit(1);
  }
  jw_sep(w);
  fputc('"', w->f);
  if (b.len > 0)
    fwrite(b.data, 1, b.len, w->f);
  fputc('"', w->f);
  sl_buf_release(&b);
}

static void jw_line_end(jw *w) {
  fputc('\n', w->f);
}

/* ------------------------------------------------------------------------ */
/* JSON reader: a small DOM for one input line                               */
/* ------------------------------------------------------------------------ */

typedef enum jv_type { JV_NULL, JV_BOOL, JV_INT, JV_STR, JV_ARR, JV_OBJ } jv_type;

typedef struct jv {
  jv_type type;
  bool b;
  int64_t i;
  char *s; /* JV_STR: malloc'd, NUL-terminated, may contain NULs */
  size_t slen;
  char *key; /* set on members of an object */
  size_t keylen;
  struct jv *items; /* JV_ARR elements, JV_OBJ members */
  size_t n;
} jv;

#define JP_MAX_DEPTH 32

typedef struct jp {
  const char *p;
  size_t len;
  size_t pos;
  int depth;
  char err[200];
} jp;

static void jv_release(jv *v) {
  if (!v)
    return;
  for (size_t k = 0; k < v->n; k++)
    jv_release(&v->items[k]);
  free(v->items);
  free(v->s);
  free(v->key);
  memset(v, 0, sizeof(*v));
}

static int jp_fail(jp *s, const char *what) {
  snprintf(s->err, sizeof(s->err), "JSON: %s at column %zu", what, s->pos + 1);
  return -1;
}

static void jp_ws(jp *s) {
  while (s->pos < s->len) {
    char c = s->p[s->pos];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
      break;
    s->pos++;
  }
}

static int jp_hex4(jp *s, uint32_t *out) {
  uint32_t v = 0;
  if (s->len - s->pos < 4)
    return jp_fail(s, "short \\u escape");
  for (int k = 0; k < 4; k++) {
    char c = s->p[s->pos++];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (uint32_t)(c - 'A' + 10);
    else
      return jp_fail(s, "bad hex digit in \\u escape");
  }
  *out = v;
  return 0;
}

/* Appends the UTF-8 encoding of code point cp. */
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

/* Parses a string starting at the opening quote into a malloc'd buffer. */
static int jp_string(jp *s, char **out, size_t *outlen) {
  sl_buf b = SL_BUF_INIT;
  int rc = -1;
  s->pos++; /* opening quote */
  for (;;) {
    if (s->pos >= s->len) {
      jp_fail(s, "unterminated string");
      goto done;
    }
    unsigned char c = (unsigned char)s->p[s->pos++];
    if (c == '"')
      break;
    if (c < 0x20) {
      jp_fail(s, "control character in string");
      goto done;
    }
    if (c != '\\') {
      sl_buf_u8(&b, c);
      continue;
    }
    if (s->pos >= s->len) {
      jp_fail(s, "unterminated escape");
      goto done;
    }
    char e = s->p[s->pos++];
    uint32_t cp;
    switch (e) {
    case '"':
    case '\\':
    case '/':
      sl_buf_u8(&b, (uint8_t)e);
      break;
    case 'b':
      sl_buf_u8(&b, '\b');
      break;
    case 'f':
      sl_buf_u8(&b, '\f');
      break;
    case 'n':
      sl_buf_u8(&b, '\n');
      break;
    case 'r':
      sl_buf_u8(&b, '\r');
      break;
    case 't':
      sl_buf_u8(&b, '\t');
      break;
    case 'u':
      if (jp_hex4(s, &cp) < 0)
        goto done;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        uint32_t lo;
        if (s->len - s->pos < 2 || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u') {
          jp_fail(s, "unpaired surrogate");
          goto done;
        }
        s->pos += 2;
        if (jp_hex4(s, &lo) < 0)
          goto done;
        if (lo < 0xdc00 || lo > 0xdfff) {
          jp_fail(s, "unpaired surrogate");
          goto done;
        }
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        jp_fail(s, "unpaired surrogate");
        goto done;
      }
      put_utf8(&b, cp);
      break;
    default:
      jp_fail(s, "bad escape");
      goto done;
    }
  }
  if (sl_buf_u8(&b, 0) < 0 || b.err) {
    jp_fail(s, "out of memory");
    goto done;
  }
  *outlen = b.len - 1;
  *out = (char *)sl_buf_detach(&b, NULL);
  rc = 0;
done:
  sl_buf_release(&b);
  return rc;
}

/* Integers only: the input format has no use for fractions. */
static int jp_number(jp *s, int64_t *out) {
  char tmp[32];
  size_t start = s->pos, n = 0;
  if (s->pos < s->len && s->p[s->pos] == '-')
    s->pos++;
  while (s->pos < s->len && s->p[s->pos] >= '0' && s->p[s->pos] <= '9')
    s->pos++;
  n = s->pos - start;
  if (s->pos < s->len &&
      (s->p[s->pos] == '.' || s->p[s->pos] == 'e' || s->p[s->pos] == 'E'))
    return jp_fail(s, "only integers are accepted");
  if (n == 0 || (n == 1 && s->p[start] == '-'))
    return jp_fail(s, "bad number");
  if (n >= sizeof(tmp))
    return jp_fail(s, "number out of range");
  memcpy(tmp, s->p + start, n);
  tmp[n] = 0;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(tmp, &end, 10);
  if (errno != 0 || end != tmp + n)
    return jp_fail(s, "number out of range");
  *out = (int64_t)v;
  return 0;
}

static int jp_value(jp *s, jv *out);

static int jp_push(jp *s, jv *parent, jv *item) {
  jv *items = realloc(parent->items, (parent->n + 1) * sizeof(*items));
  if (!items)
    return jp_fail(s, "out of memory");
  parent->items = items;
  parent->items[parent->n++] = *item;
  return 0;
}

static int jp_container(jp *s, jv *out, bool obj) {
  char close = obj ? '}' : ']';
  out->type = obj ? JV_OBJ : JV_ARR;
  if (++s->depth > JP_MAX_DEPTH)
    return jp_fail(s, "nesting too deep");
  s->pos++;
  jp_ws(s);
  if (s->pos < s->len && s->p[s->pos] == close) {
    s->pos++;
    s->depth--;
    return 0;
  }
  for (;;) {
    jv item;
    memset(&item, 0, sizeof(item));
    jp_ws(s);
    if (obj) {
      if (s->pos >= s->len || s->p[s->pos] != '"')
        return jp_fail(s, "expected a member name");
      if (jp_string(s, &item.key, &item.keylen) < 0)
        return -1;
      for (size_t k = 0; k < out->n; k++) {
        if (out->items[k].keylen == item.keylen &&
            memcmp(out->items[k].key, item.key, item.keylen) == 0) {
          free(item.key);
          return jp_fail(s, "duplicate member name");
        }
      }
      jp_ws(s);
      if (s->pos >= s->len || s->p[s->pos] != ':') {
        free(item.key);
        return jp_fail(s, "expected ':'");
      }
      s->pos++;
    }
    if (jp_value(s, &item) < 0 || jp_push(s, out, &item) < 0) {
      jv_release(&item);
      return -1;
    }
    jp_ws(s);
    if (s->pos < s->len && s->p[s->pos] == ',') {
      s->pos++;
      continue;
    }
    if (s->pos < s->len && s->p[s->pos] == close) {
      s->pos++;
      s->depth--;
      return 0;
    }
    return jp_fail(s, obj ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static bool jp_word(jp *s, const char *w) {
  size_t n = strlen(w);
  if (s->len - s->pos >= n && memcmp(s->p + s->pos, w, n) == 0) {
    s->pos += n;
    return true;
  }
  return false;
}

/* Parses one value into *out (whose key, if any, is kept). */
static int jp_value(jp *s, jv *out) {
  jp_ws(s);
  if (s->pos >= s->len)
    return jp_fail(s, "unexpected end of input");
  char c = s->p[s->pos];
  if (c == '{' || c == '[')
    return jp_container(s, out, c == '{');
  if (c == '"') {
    out->type = JV_STR;
    return jp_string(s, &out->s, &out->slen);
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    out->type = JV_INT;
    return jp_number(s, &out->i);
  }
  if (jp_word(s, "true")) {
    out->type = JV_BOOL;
    out->b = true;
    return 0;
  }
  if (jp_word(s, "false")) {
    out->type = JV_BOOL;
    out->b = false;
    return 0;
  }
  if (jp_word(s, "null")) {
    out->type = JV_NULL;
    return 0;
  }
  return jp_fail(s, "unexpected character");
}

/* Parses a whole line (one JSON value, surrounding blanks allowed). */
static int jp_parse_line(const char *line, size_t len, jv *out, char *err,
                         size_t errcap) {
  jp s = {line, len, 0, 0, {0}};
  memset(out, 0, sizeof(*out));
  int rc = jp_value(&s, out);
  if (rc == 0) {
    jp_ws(&s);
    if (s.pos != s.len)
      rc = jp_fail(&s, "trailing characters");
  }
  if (rc < 0) {
    jv_release(out);
    snprintf(err, errcap, "%s", s.err);
  }
  return rc;
}

static const jv *jv_get(const jv *obj, const char *key) {
  size_t kl = strlen(key);
  if (!obj || obj->type != JV_OBJ)
    return NULL;
  for (size_t k = 0; k < obj->n; k++)
    if (obj->items[k].keylen == kl && memcmp(obj->items[k].key, key, kl) == 0)
      return &obj->items[k];
  return NULL;
}

/* Fails on members not in the NULL-terminated list (typos must not pass). */
static int jv_check_keys(const jv *obj, const char *const *allowed, char *err,
                         size_t errcap) {
  for (size_t k = 0; k < obj->n; k++) {
    bool ok = false;
    for (const char *const *a = allowed; *a; a++)
      if (strlen(*a) == obj->items[k].keylen &&
          memcmp(*a, obj->items[k].key, obj->items[k].keylen) == 0)
        ok = true;
    if (!ok) {
      snprintf(err, errcap, "unknown member \"%.*s\"", (int)obj->items[k].keylen,
               obj->items[k].key);
      return -1;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* base64                                                                    */
/* ------------------------------------------------------------------------ */

/* Strict, canonical base64 with padding into a malloc'd buffer (never NULL
 * on success, even for empty input): slclient's decoder, plus the padding
 * this tool's input format requires. */
static int b64_decode(const char *s, size_t n, uint8_t **out, size_t *outlen) {
  sl_buf b = SL_BUF_INIT;
  if (n % 4 != 0 || sc_base64_decode(s, n, &b) != 0 || sl_buf_reserve(&b, 1) == NULL) {
    sl_buf_release(&b);
    return -1;
  }
  *out = sl_buf_detach(&b, outlen);
  return 0;
}

/* A JSON value that is base64 bytes or null; *len = -1 for null. */
static int jv_bytes(const jv *v, uint8_t **out, int32_t *len, const char *what, char *err,
                    size_t errcap) {
  *out = NULL;
  *len = -1;
  if (!v) {
    snprintf(err, errcap, "missing %s (use null for a null value)", what);
    return -1;
  }
  if (v->type == JV_NULL)
    return 0;
  size_t n;
  if (v->type != JV_STR || b64_decode(v->s, v->slen, out, &n) < 0) {
    snprintf(err, errcap, "%s must be base64 or null", what);
    return -1;
  }
  if (n > INT32_MAX) {
    free(*out);
    *out = NULL;
    snprintf(err, errcap, "%s too large", what);
    return -1;
  }
  *len = (int32_t)n;
  return 0;
}

static int jv_int_in(const jv *v, int64_t lo, int64_t hi, int64_t *out, const char *what,
                     char *err, size_t errcap) {
  if (!v || v->type != JV_INT || v->i < lo || v->i > hi) {
    snprintf(err, errcap, "%s must be an integer in [%" PRId64 ", %" PRId64 "]", what, lo,
             hi);
    return -1;
  }
  *out = v->i;
  return 0;
}

static int jv_bool_of(const jv *v, bool *out, const char *what, char *err,
                      size_t errcap) {
  if (!v || v->type != JV_BOOL) {
    snprintf(err, errcap, "%s must be true or false", what);
    return -1;
  }
  *out = v->b;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* files                                                                     */
/* ------------------------------------------------------------------------ */

/* Reads a whole file into a malloc'd buffer (never NULL on success). */
static int read_whole_file(const char *path, uint8_t **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  sl_buf b = SL_BUF_INIT;
  int rc = -1;
  if (!f) {
    fprintf(stderr, "sltool: %s: %s\n", path, strerror(errno));
    return -1;
  }
  for (;;) {
    uint8_t *room = sl_buf_reserve(&b, 1 << 16);
    if (!room) {
      fprintf(stderr, "sltool: %s: out of memory\n", path);
      goto done;
    }
    size_t got = fread(room, 1, 1 << 16, f);
    b.len += got;
    if (got < (1 << 16)) {
      if (ferror(f)) {
        fprintf(stderr, "sltool: %s: read error\n", path);
        goto done;
      }
      break;
    }
  }
  if (!sl_buf_reserve(&b, 1))
    goto done;
  *len = b.len;
  *out = sl_buf_detach(&b, NULL);
  rc = 0;
done:
  sl_buf_release(&b);
  fclose(f);
  return rc;
}

static int finish_stdout(void) {
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "sltool: error writing standard output\n");
    return EXIT_DATA;
  }
  return 0;
}

static int parse_i64_arg(const char *s, int64_t lo, int64_t hi, int64_t *out) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != 0 || v < lo || v > hi) {
    fprintf(stderr, "sltool: bad number '%s' (expected %" PRId64 "..%" PRId64 ")\n", s,
            lo, hi);
    return -1;
  }
  *out = (int64_t)v;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* dump                                                                      */
/* ------------------------------------------------------------------------ */

static const char *timestamp_type_name(const sl_batch_header *h) {
  if (h->magic == 0)
    return "NoTimestampType";
  return (h->attributes & SL_ATTR_LOG_APPEND_TIME) ? "LogAppendTime" : "CreateTime";
}

static void dump_batch_fields(jw *w, size_t pos, int32_t size, const sl_batch_header *h,
                              bool crc_valid, int vrc) {
  jw_key(w, "batch");
  jw_open(w, '{');
  jw_key(w, "position");
  jw_i64(w, (int64_t)pos);
  jw_key(w, "size");
  jw_i64(w, size);
  jw_key(w, "base_offset");
  jw_i64(w, h->base_offset);
  jw_key(w, "last_offset_delta");
  jw_i64(w, h->last_offset_delta);
  jw_key(w, "last_offset");
  jw_i64(w, sl_batch_last_offset(h));
  jw_key(w, "partition_leader_epoch");
  jw_i64(w, h->partition_leader_epoch);
  jw_key(w, "magic");
  jw_i64(w, h->magic);
  jw_key(w, "crc");
  jw_i64(w, (int64_t)h->crc);
  jw_key(w, "crc_valid");
  jw_bool(w, crc_valid);
  jw_key(w, "validate");
  jw_str(w, sl_errname(vrc));
  jw_key(w, "attributes");
  jw_i64(w, h->attributes);
  jw_key(w, "codec");
  jw_str(w, sl_compression_name(sl_batch_compression(h)));
  jw_key(w, "timestamp_type");
  jw_str(w, timestamp_type_name(h));
  jw_key(w, "transactional");
  jw_bool(w, sl_batch_is_transactional(h));
  jw_key(w, "control");
  jw_bool(w, sl_batch_is_control(h));
  jw_key(w, "delete_horizon");
  jw_bool(w, (h->attributes & SL_ATTR_DELETE_HORIZON) != 0);
  jw_key(w, "base_timestamp");
  jw_i64(w, h->base_timestamp);
  jw_key(w, "max_timestamp");
  jw_i64(w, h->max_timestamp);
  jw_key(w, "producer_id");
  jw_i64(w, h->producer_id);
  jw_key(w, "producer_epoch");
  jw_i64(w, h->producer_epoch);
  jw_key(w, "base_sequence");
  jw_i64(w, h->base_sequence);
  jw_key(w, "records_count");
  jw_i64(w, h->records_count);
  jw_close(w, '}');
}

static void dump_record_fields(jw *w, const sl_record *r) {
  jw_key(w, "record");
  jw_open(w, '{');
  jw_key(w, "offset");
  jw_i64(w, r->offset);
  jw_key(w, "timestamp");
  jw_i64(w, r->timestamp);
  jw_key(w, "attributes");
  jw_i64(w, r->attributes);
  jw_key(w, "key");
  jw_b64(w, r->key, r->key_len);
  jw_key(w, "value");
  jw_b64(w, r->value, r->value_len);
  jw_key(w, "headers");
  jw_open(w, '[');
  for (int32_t k = 0; k < r->header_count; k++) {
    jw_open(w, '[');
    jw_b64(w, r->headers[k].key, r->headers[k].key_len);
    jw_b64(w, r->headers[k].value, r->headers[k].value_len);
    jw_close(w, ']');
  }
  jw_close(w, ']');
  jw_close(w, '}');
}

static void dump_error(jw *w, int64_t pos, int rc, const sl_diag *d) {
  jw_open(w, '{');
  jw_key(w, "error");
  jw_open(w, '{');
  jw_key(w, "position");
  jw_i64(w, pos);
  jw_key(w, "code");
  jw_str(w, sl_errname(rc));
  jw_key(w, "message");
  jw_str(w, d && d->msg[0] ? d->msg : sl_strerror(rc));
  jw_close(w, '}');
  jw_close(w, '}');
  jw_line_end(w);
  fprintf(stderr, "sltool: at byte %" PRId64 ": %s (%s)\n", pos,
          d && d->msg[0] ? d->msg : sl_strerror(rc), sl_errname(rc));
}

/* Whether the stored checksum matches: CRC-32C over [21, size) for v2, CRC-32
 * (IEEE) over [16, size) for legacy messages. */
static bool entry_crc_valid(const uint8_t *p, int32_t size, int8_t magic) {
  if (magic >= 2)
    return sl_load_be32(p + SL_BATCH_OFF_CRC) == sl_batch_crc_compute(p, (size_t)size);
  return sl_load_be32(p + SL_LOG_OVERHEAD) ==
         sl_crc32_ieee(0, p + SL_BATCH_OFF_MAGIC, (size_t)size - SL_BATCH_OFF_MAGIC);
}

static int cmd_dump(int argc, char **argv) {
  uint8_t *data = NULL;
  size_t len = 0, pos = 0;
  sl_batch_reader *r = NULL;
  int status = EXIT_DATA;
  jw w;
  if (argc != 2) {
    fprintf(stderr, "usage: sltool dump FILE.log\n");
    return EXIT_USAGE;
  }
  if (read_whole_file(argv[1], &data, &len) < 0)
    return EXIT_DATA;
  jw_init(&w, stdout);
  int rc = sl_batch_reader_new(0, &r);
  if (rc < 0) {
    dump_error(&w, 0, rc, NULL);
    goto done;
  }
  while (pos < len) {
    int64_t base;
    int32_t size;
    int8_t magic;
    sl_diag d;
    sl_diag_clear(&d);
    rc = sl_batch_peek(data + pos, len - pos, &base, &size, &magic);
    if (rc == SL_ETRUNCATED || (rc == 0 && (size_t)size > len - pos)) {
      jw_open(&w, '{');
      jw_key(&w, "tail");
      jw_open(&w, '{');
      jw_key(&w, "position");
      jw_i64(&w, (int64_t)pos);
      jw_key(&w, "bytes");
      jw_i64(&w, (int64_t)(len - pos));
      jw_close(&w, '}');
      jw_close(&w, '}');
      jw_line_end(&w);
      break;
    }
    if (rc < 0) {
      dump_error(&w, (int64_t)pos, rc, &d);
      goto done;
    }
    const uint8_t *p = data + pos;
    bool crc_valid = entry_crc_valid(p, size, magic);
    int vrc = sl_batch_validate(p, (size_t)size, NULL);
    sl_batch_header h;
    rc = sl_batch_reader_open(r, p, (size_t)size, &h, &d);
    if (rc < 0) {
      dump_error(&w, (int64_t)pos, rc, &d);
      goto done;
    }
    int nrec = 0;
    for (;;) {
      sl_record rec;
      rc = sl_batch_reader_next(r, &rec, &d);
      if (rc < 0) {
        dump_error(&w, (int64_t)pos, rc, &d);
        goto done;
      }
      if (rc == 0)
        break;
      jw_open(&w, '{');
      dump_batch_fields(&w, pos, size, &h, crc_valid, vrc);
      dump_record_fields(&w, &rec);
      jw_close(&w, '}');
      jw_line_end(&w);
      nrec++;
    }
    if (nrec == 0) {
      jw_open(&w, '{');
      dump_batch_fields(&w, pos, size, &h, crc_valid, vrc);
      jw_key(&w, "record");
      jw_null(&w);
      jw_close(&w, '}');
      jw_line_end(&w);
    }
    pos += (size_t)size;
  }
  status = 0;
done:
  sl_batch_reader_free(r);
  free(data);
  rc = finish_stdout();
  return status ? status : rc;
}

/* ------------------------------------------------------------------------ */
/* build                                                                     */
/* ------------------------------------------------------------------------ */

/* Where finished batches go: stdout for build, the log for append. */
typedef int (*batch_sink)(void *ctx, uint8_t *batch, size_t size, char *err,
                          size_t errcap);

typedef struct builder_state {
  sl_batch_builder_opts cli; /* command-line defaults */
  sl_batch_builder_opts cur; /* the open batch */
  bool seq_given;            /* cur.base_sequence came from the separator */
  bool offset_given;         /* cur.base_offset came from the separator */
  bool open_explicit;        /* opened by a separator: written even if empty */
  int64_t next_offset;       /* after the last batch written */
  int32_t next_sequence;     /* continues the producer's sequence */
  sl_batch_builder *b;
  sl_buf out;
  batch_sink sink;
  void *sink_ctx;
  int64_t batches;
} builder_state;

static const char *const batch_opt_keys[] = {"codec",
                                             "level",
                                             "base_offset",
                                             "partition_leader_epoch",
                                             "producer_id",
                                             "producer_epoch",
                                             "base_sequence",
                                             "transactional",
                                             "control",
                                             "log_append_time",
                                             "max_timestamp",
                                             "delete_horizon_ms",
                                             "last_offset_delta",
                                             NULL};

/* Applies the members of a {"batch":{...}} object onto o. */
static int apply_batch_opts(const jv *obj, sl_batch_builder_opts *o, bool *offset_given,
                            bool *seq_given, char *err, size_t errcap) {
  const jv *v;
  int64_t x;
  if (obj->type != JV_OBJ) {
    snprintf(err, errcap, "\"batch\" must be an object");
    return -1;
  }
  if (jv_check_keys(obj, batch_opt_keys, err, errcap) < 0)
    return -1;
  if ((v = jv_get(obj, "codec"))) {
    sl_compression c;
    if (v->type != JV_STR || sl_compression_parse(v->s, &c) < 0) {
      snprintf(err, errcap, "codec must be none, gzip, snappy, lz4 or zstd");
      return -1;
    }
    o->compression = c;
  }
  if ((v = jv_get(obj, "level"))) {
    if (jv_int_in(v, -100, 100, &x, "level", err, errcap) < 0)
      return -1;
    o->level = (int)x;
  }
  if ((v = jv_get(obj, "base_offset"))) {
    if (jv_int_in(v, 0, INT64_MAX, &o->base_offset, "base_offset", err, errcap) < 0)
      return -1;
    *offset_given = true;
  }
  if ((v = jv_get(obj, "partition_leader_epoch"))) {
    if (jv_int_in(v, INT32_MIN, INT32_MAX, &x, "partition_leader_epoch", err, errcap) < 0)
      return -1;
    o->partition_leader_epoch = (int32_t)x;
  }
  if ((v = jv_get(obj, "producer_id")) &&
      jv_int_in(v, INT64_MIN, INT64_MAX, &o->producer_id, "producer_id", err, errcap) < 0)
    return -1;
  if ((v = jv_get(obj, "producer_epoch"))) {
    if (jv_int_in(v, INT16_MIN, INT16_MAX, &x, "producer_epoch", err, errcap) < 0)
      return -1;
    o->producer_epoch = (int16_t)x;
  }
  if ((v = jv_get(obj, "base_sequence"))) {
    if (jv_int_in(v, INT32_MIN, INT32_MAX, &x, "base_sequence", err, errcap) < 0)
      return -1;
    o->base_sequence = (int32_t)x;
    *seq_given = true;
  }
  if ((v = jv_get(obj, "transactional")) &&
      jv_bool_of(v, &o->transactional, "transactional", err, errcap) < 0)
    return -1;
  if ((v = jv_get(obj, "control")) &&
      jv_bool_of(v, &o->control, "control", err, errcap) < 0)
    return -1;
  if ((v = jv_get(obj, "log_append_time")) &&
      jv_bool_of(v, &o->log_append_time, "log_append_time", err, errcap) < 0)
    return -1;
  if ((v = jv_get(obj, "max_timestamp")) &&
      jv_int_in(v, INT64_MIN, INT64_MAX, &o->max_timestamp, "max_timestamp", err,
                errcap) < 0)
    return -1;
  if ((v = jv_get(obj, "delete_horizon_ms")) &&
      jv_int_in(v, INT64_MIN, INT64_MAX, &o->delete_horizon_ms, "delete_horizon_ms", err,
                errcap) < 0)
    return -1;
  if ((v = jv_get(obj, "last_offset_delta"))) {
    if (jv_int_in(v, INT32_MIN, INT32_MAX, &x, "last_offset_delta", err, errcap) < 0)
      return -1;
    o->last_offset_delta = (int32_t)x;
  }
  return 0;
}

/* Advances next_offset/next_sequence past a finished batch and hands it on. */
static int emit_batch(builder_state *st, uint8_t *batch, size_t size, char *err,
                      size_t errcap) {
  sl_batch_header h;
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_batch_header_decode(batch, size, &h, &d);
  if (rc < 0) {
    snprintf(err, errcap, "built batch does not decode: %s (%s)", d.msg, sl_errname(rc));
    return -1;
  }
  if (st->sink(st->sink_ctx, batch, size, err, errcap) < 0)
    return -1;
  /* The sink may have assigned offsets (the log does): re-read. */
  rc = sl_batch_header_decode(batch, size, &h, &d);
  if (rc < 0) {
    snprintf(err, errcap, "batch no longer decodes after the sink: %s", d.msg);
    return -1;
  }
  st->next_offset = sl_batch_last_offset(&h) + 1;
  if (h.base_sequence >= 0 && !sl_batch_is_control(&h)) {
    int64_t next = (int64_t)h.base_sequence + h.last_offset_delta + 1;
    st->next_sequence = (int32_t)(next > INT32_MAX ? next - INT32_MAX - 1 : next);
  }
  st->batches++;
  return 0;
}

static int finish_open_batch(builder_state *st, char *err, size_t errcap) {
  if (sl_batch_builder_count(st->b) == 0 && !st->open_explicit)
    return 0;
  sl_buf_reset(&st->out);
  int rc = sl_batch_builder_finish(st->b, &st->out);
  if (rc < 0) {
    snprintf(err, errcap, "sl_batch_builder_finish: %s (%s)", sl_strerror(rc),
             sl_errname(rc));
    return -1;
  }
  if (emit_batch(st, st->out.data, st->out.len, err, errcap) < 0)
    return -1;
  st->open_explicit = false;
  return 0;
}

/* Opens a new batch with the CLI options overridden by `obj` (may be NULL). */
static int open_batch(builder_state *st, const jv *obj, bool explicit_open, char *err,
                      size_t errcap) {
  sl_batch_builder_opts o = st->cli;
  bool offset_given = false, seq_given = false;
  if (obj && apply_batch_opts(obj, &o, &offset_given, &seq_given, err, errcap) < 0)
    return -1;
  if (!offset_given)
    o.base_offset = st->next_offset;
  if (!seq_given && o.producer_id >= 0)
    o.base_sequence = st->next_sequence;
  st->cur = o;
  st->offset_given = offset_given;
  st->seq_given = seq_given;
  st->open_explicit = explicit_open;
  sl_batch_builder_reset(st->b, &o);
  return 0;
}

static const char *const record_keys[] = {"timestamp", "key",        "value", "headers",
                                          "offset",    "attributes", NULL};

static int add_record(builder_state *st, const jv *obj, char *err, size_t errcap) {
  uint8_t *key = NULL, *value = NULL;
  int32_t key_len, value_len;
  sl_header *hdrs = NULL;
  uint8_t **hbufs = NULL;
  size_t nh = 0;
  int64_t ts, x;
  int rc = -1;
  if (jv_check_keys(obj, record_keys, err, errcap) < 0)
    return -1;
  if (jv_int_in(jv_get(obj, "timestamp"), INT64_MIN, INT64_MAX, &ts, "timestamp", err,
                errcap) < 0)
    return -1;
  if (jv_bytes(jv_get(obj, "key"), &key, &key_len, "key", err, errcap) < 0)
    goto done;
  if (jv_bytes(jv_get(obj, "value"), &value, &value_len, "value", err, errcap) < 0)
    goto done;
  const jv *hv = jv_get(obj, "headers");
  if (hv) {
    if (hv->type != JV_ARR || hv->n > INT32_MAX) {
      snprintf(err, errcap, "headers must be an array of [key, value] pairs");
      goto done;
    }
    nh = hv->n;
    hdrs = calloc(nh ? nh : 1, sizeof(*hdrs));
    hbufs = calloc(nh ? nh * 2 : 1, sizeof(*hbufs));
    if (!hdrs || !hbufs) {
      snprintf(err, errcap, "out of memory");
      goto done;
    }
    for (size_t k = 0; k < nh; k++) {
      const jv *pair = &hv->items[k];
      int32_t hk_len, hvl;
      if (pair->type != JV_ARR || pair->n != 2) {
        snprintf(err, errcap, "header %zu must be a [key, value] pair", k);
        goto done;
      }
      if (jv_bytes(&pair->items[0], &hbufs[2 * k], &hk_len, "header key", err, errcap) <
          0)
        goto done;
      if (hk_len < 0) {
        snprintf(err, errcap, "header %zu: a header key cannot be null", k);
        goto done;
      }
      if (jv_bytes(&pair->items[1], &hbufs[2 * k + 1], &hvl, "header value", err,
                   errcap) < 0)
        goto done;
      hdrs[k].key = hbufs[2 * k];
      hdrs[k].key_len = hk_len;
      hdrs[k].value = hbufs[2 * k + 1];
      hdrs[k].value_len = hvl;
    }
  }
  const jv *ov = jv_get(obj, "offset");
  const jv *av = jv_get(obj, "attributes");
  int lrc;
  if (ov || av) {
    sl_record rec;
    memset(&rec, 0, sizeof(rec));
    if (ov) {
      if (jv_int_in(ov, 0, INT64_MAX, &rec.offset, "offset", err, errcap) < 0)
        goto done;
    } else {
      rec.offset = st->cur.base_offset + sl_batch_builder_count(st->b);
    }
    if (av) {
      if (jv_int_in(av, INT8_MIN, INT8_MAX, &x, "attributes", err, errcap) < 0)
        goto done;
      rec.attributes = (int8_t)x;
    }
    rec.timestamp = ts;
    rec.key = key;
    rec.key_len = key_len;
    rec.value = value;
    rec.value_len = value_len;
    rec.headers = hdrs;
    rec.header_count = (int32_t)nh;
    lrc = sl_batch_builder_add_record(st->b, &rec);
  } else {
    lrc = sl_batch_builder_add(st->b, ts, key, key_len, value, value_len, hdrs,
                               (int32_t)nh);
  }
  if (lrc < 0) {
    snprintf(err, errcap, "adding the record: %s (%s)", sl_strerror(lrc),
             sl_errname(lrc));
    goto done;
  }
  rc = 0;
done:
  for (size_t k = 0; hbufs && k < 2 * nh; k++)
    free(hbufs[k]);
  free(hbufs);
  free(hdrs);
  free(key);
  free(value);
  return rc;
}

static const char *const marker_keys[] = {
    "type",      "producer_id", "producer_epoch",         "coordinator_epoch",
    "timestamp", "base_offset", "partition_leader_epoch", NULL};

static int add_marker(builder_state *st, const jv *obj, char *err, size_t errcap) {
  int64_t pid, epoch, coord, ts, base = st->next_offset, ple = -1;
  int type;
  const jv *v;
  if (obj->type != JV_OBJ || jv_check_keys(obj, marker_keys, err, errcap) < 0) {
    if (obj->type != JV_OBJ)
      snprintf(err, errcap, "\"marker\" must be an object");
    return -1;
  }
  v = jv_get(obj, "type");
  if (v && v->type == JV_STR && strcmp(v->s, "commit") == 0) {
    type = SL_CONTROL_COMMIT;
  } else if (v && v->type == JV_STR && strcmp(v->s, "abort") == 0) {
    type = SL_CONTROL_ABORT;
  } else {
    snprintf(err, errcap, "marker type must be \"commit\" or \"abort\"");
    return -1;
  }
  if (jv_int_in(jv_get(obj, "producer_id"), 0, INT64_MAX, &pid, "producer_id", err,
                errcap) < 0 ||
      jv_int_in(jv_get(obj, "producer_epoch"), 0, INT16_MAX, &epoch, "producer_epoch",
                err, errcap) < 0 ||
      jv_int_in(jv_get(obj, "coordinator_epoch"), INT32_MIN, INT32_MAX, &coord,
                "coordinator_epoch", err, errcap) < 0 ||
      jv_int_in(jv_get(obj, "timestamp"), INT64_MIN, INT64_MAX, &ts, "timestamp", err,
                errcap) < 0)
    return -1;
  if ((v = jv_get(obj, "base_offset")) &&
      jv_int_in(v, 0, INT64_MAX, &base, "base_offset", err, errcap) < 0)
    return -1;
  if ((v = jv_get(obj, "partition_leader_epoch")) &&
      jv_int_in(v, INT32_MIN, INT32_MAX, &ple, "partition_leader_epoch", err, errcap) < 0)
    return -1;
  sl_buf_reset(&st->out);
  int rc = sl_batch_build_marker(&st->out, base, pid, (int16_t)epoch, type,
                                 (int32_t)coord, ts, (int32_t)ple);
  if (rc < 0) {
    snprintf(err, errcap, "sl_batch_build_marker: %s", sl_strerror(rc));
    return -1;
  }
  return emit_batch(st, st->out.data, st->out.len, err, errcap);
}

/* Reads JSON lines from `in` and builds batches into st->sink. */
static int build_from_lines(builder_state *st, FILE *in) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int64_t lineno = 0;
  char err[300] = {0};
  int status = EXIT_DATA;
  if (sl_batch_builder_new(&st->cli, &st->b) < 0) {
    snprintf(err, sizeof(err), "sl_batch_builder_new failed");
    goto done;
  }
  if (open_batch(st, NULL, false, err, sizeof(err)) < 0)
    goto done;
  while ((n = getline(&line, &cap, in)) >= 0) {
    jv v;
    lineno++;
    size_t len = (size_t)n;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      len--;
    bool blank = true;
    for (size_t k = 0; k < len; k++)
      if (line[k] != ' ' && line[k] != '\t')
        blank = false;
    if (blank)
      continue;
    if (jp_parse_line(line, len, &v, err, sizeof(err)) < 0)
      goto done;
    int rc;
    const jv *sep;
    if (v.type != JV_OBJ) {
      snprintf(err, sizeof(err), "each line must be a JSON object");
      rc = -1;
    } else if ((sep = jv_get(&v, "batch")) || (sep = jv_get(&v, "marker"))) {
      bool marker = !jv_get(&v, "batch");
      if (v.n != 1) {
        snprintf(err, sizeof(err), "a \"%s\" line has no other members",
                 marker ? "marker" : "batch");
        rc = -1;
      } else {
        rc = finish_open_batch(st, err, sizeof(err));
      }
      if (rc == 0 && marker)
        rc = add_marker(st, sep, err, sizeof(err));
      if (rc == 0)
        rc = open_batch(st, marker ? NULL : sep, !marker, err, sizeof(err));
    } else {
      rc = add_record(st, &v, err, sizeof(err));
    }
    jv_release(&v);
    if (rc < 0)
      goto done;
  }
  if (ferror(in)) {
    snprintf(err, sizeof(err), "error reading standard input");
    goto done;
  }
  lineno = -1;
  if (finish_open_batch(st, err, sizeof(err)) < 0)
    goto done;
  status = 0;
done:
  if (status) {
    if (lineno > 0)
      fprintf(stderr, "sltool: input line %" PRId64 ": %s\n", lineno, err);
    else
      fprintf(stderr, "sltool: %s\n", err);
  }
  free(line);
  return status;
}

static int stdout_sink(void *ctx, uint8_t *batch, size_t size, char *err, size_t errcap) {
  (void)ctx;
  if (fwrite(batch, 1, size, stdout) != size) {
    snprintf(err, errcap, "error writing standard output");
    return -1;
  }
  return 0;
}

/* Parses the shared build/append options into st->cli; returns the index of
 * the first non-option argument, or -1. */
static int parse_build_opts(int argc, char **argv, builder_state *st) {
  sl_batch_builder_opts *o = &st->cli;
  int k = 1;
  for (; k < argc && strncmp(argv[k], "--", 2) == 0; k++) {
    const char *a = argv[k];
    int64_t x;
    if (strcmp(a, "--transactional") == 0) {
      o->transactional = true;
      continue;
    }
    if (strcmp(a, "--log-append-time") == 0) {
      o->log_append_time = true;
      continue;
    }
    if (k + 1 >= argc) {
      fprintf(stderr, "sltool: %s needs a value\n", a);
      return -1;
    }
    const char *val = argv[++k];
    if (strcmp(a, "--codec") == 0) {
      if (sl_compression_parse(val, &o->compression) < 0) {
        fprintf(stderr, "sltool: unknown codec '%s'\n", val);
        return -1;
      }
    } else if (strcmp(a, "--level") == 0) {
      if (parse_i64_arg(val, -100, 100, &x) < 0)
        return -1;
      o->level = (int)x;
    } else if (strcmp(a, "--base-offset") == 0) {
      if (parse_i64_arg(val, 0, INT64_MAX, &st->next_offset) < 0)
        return -1;
    } else if (strcmp(a, "--partition-leader-epoch") == 0) {
      if (parse_i64_arg(val, INT32_MIN, INT32_MAX, &x) < 0)
        return -1;
      o->partition_leader_epoch = (int32_t)x;
    } else if (strcmp(a, "--producer-id") == 0) {
      if (parse_i64_arg(val, INT64_MIN, INT64_MAX, &o->producer_id) < 0)
        return -1;
    } else if (strcmp(a, "--producer-epoch") == 0) {
      if (parse_i64_arg(val, INT16_MIN, INT16_MAX, &x) < 0)
        return -1;
      o->producer_epoch = (int16_t)x;
    } else if (strcmp(a, "--base-sequence") == 0) {
      if (parse_i64_arg(val, INT32_MIN, INT32_MAX, &x) < 0)
        return -1;
      o->base_sequence = (int32_t)x;
      st->next_sequence = (int32_t)x;
    } else {
      fprintf(stderr, "sltool: unknown option %s\n", a);
      return -1;
    }
  }
  return k;
}

static void builder_state_init(builder_state *st) {
  memset(st, 0, sizeof(*st));
  sl_batch_builder_opts_init(&st->cli);
  st->next_sequence = st->cli.base_sequence;
  sl_buf_init(&st->out);
}

static void builder_state_release(builder_state *st) {
  sl_batch_builder_free(st->b);
  sl_buf_release(&st->out);
}

static int cmd_build(int argc, char **argv) {
  builder_state st;
  builder_state_init(&st);
  int k = parse_build_opts(argc, argv, &st);
  int status;
  if (k < 0 || k != argc) {
    fprintf(stderr,
            "usage: sltool build [--codec C] [--level N] [--base-offset N]\n"
            "         [--partition-leader-epoch N] [--producer-id N]\n"
            "         [--producer-epoch N] [--base-sequence N] [--transactional]\n"
            "         [--log-append-time] < records.jsonl > out.log\n");
    status = EXIT_USAGE;
  } else {
    st.sink = stdout_sink;
    status = build_from_lines(&st, stdin);
  }
  builder_state_release(&st);
  int frc = finish_stdout();
  return status ? status : frc;
}

/* ------------------------------------------------------------------------ */
/* append                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct append_ctx {
  sl_log *log;
  unsigned flags;       /* SL_APPEND_LEADER or SL_APPEND_FOLLOWER */
  int32_t leader_epoch; /* leader mode */
  int64_t now_ms;       /* 0 = the wall clock */
  jw *w;
} append_ctx;

/* Appends one batch through the log and prints what the log reports. */
static int log_sink(void *ctx, uint8_t *batch, size_t size, char *err, size_t errcap) {
  append_ctx *a = ctx;
  sl_append_info info;
  sl_diag d;
  sl_diag_clear(&d);
  int rc =
      sl_log_append(a->log, batch, size, a->flags, a->leader_epoch, a->now_ms, &info, &d);
  if (rc < 0) {
    char msg[700];
    snprintf(err, errcap, "sl_log_append: %s", sl_diag_format(&d, msg, sizeof(msg)));
    return -1;
  }
  jw *w = a->w;
  jw_open(w, '{');
  jw_key(w, "append");
  jw_open(w, '{');
  jw_key(w, "first_offset");
  jw_i64(w, info.first_offset);
  jw_key(w, "last_offset");
  jw_i64(w, info.last_offset);
  jw_key(w, "segment_base");
  jw_i64(w, info.segment_base);
  jw_key(w, "position");
  jw_i64(w, info.position);
  jw_key(w, "size");
  jw_i64(w, (int64_t)size);
  jw_key(w, "max_timestamp");
  jw_i64(w, info.max_timestamp);
  jw_key(w, "log_append_time");
  jw_i64(w, info.log_append_time);
  jw_key(w, "duplicate");
  jw_bool(w, info.duplicate);
  jw_close(w, '}');
  jw_close(w, '}');
  jw_line_end(w);
  return 0;
}

/*
 * sltool append [--config NAME=VALUE]... [--follower] [--leader-epoch N]
 *               [--now-ms N] [--roll] [build options] DIR < records.jsonl
 * Builds batches as `build` does and appends each through sl_log_append into
 * the partition directory DIR (created if missing; --roll first rolls a new
 * segment at the log end), then closes the log cleanly.  Prints one
 * {"append":{...}} line per batch (what sl_append_info says) and a final
 * {"closed":{"log_end_offset":N,"segments":N}} line.
 */
static int cmd_append(int argc, char **argv) {
  builder_state st;
  sl_log_config cfg;
  append_ctx a;
  sl_diag d;
  jw w;
  bool roll = false;
  int status = EXIT_USAGE;
  char msg[700];
  builder_state_init(&st);
  sl_log_config_init(&cfg);
  memset(&a, 0, sizeof(a));
  sl_diag_clear(&d);
  jw_init(&w, stdout);
  a.flags = SL_APPEND_LEADER;
  a.w = &w;
  /* Our own options first, then the build options, then DIR. */
  int k = 1;
  for (; k < argc; k++) {
    int64_t x;
    if (strcmp(argv[k], "--follower") == 0) {
      a.flags = SL_APPEND_FOLLOWER;
    } else if (strcmp(argv[k], "--roll") == 0) {
      roll = true;
    } else if (strcmp(argv[k], "--config") == 0 && k + 1 < argc) {
      char name[128];
      const char *eq = strchr(argv[++k], '=');
      size_t n = eq ? (size_t)(eq - argv[k]) : 0;
      if (!eq || n == 0 || n >= sizeof(name)) {
        fprintf(stderr, "sltool: --config wants NAME=VALUE, got '%s'\n", argv[k]);
        goto done;
      }
      memcpy(name, argv[k], n);
      name[n] = 0;
      int rc = sl_log_config_set(&cfg, name, eq + 1, &d);
      if (rc < 0) {
        fprintf(stderr, "sltool: --config %s: %s\n", argv[k],
                sl_diag_format(&d, msg, sizeof(msg)));
        goto done;
      }
    } else if (strcmp(argv[k], "--leader-epoch") == 0 && k + 1 < argc) {
      if (parse_i64_arg(argv[++k], INT32_MIN, INT32_MAX, &x) < 0)
        goto done;
      a.leader_epoch = (int32_t)x;
    } else if (strcmp(argv[k], "--now-ms") == 0 && k + 1 < argc) {
      if (parse_i64_arg(argv[++k], 1, INT64_MAX, &a.now_ms) < 0)
        goto done;
    } else {
      break;
    }
  }
  int first = parse_build_opts(argc - k + 1, argv + k - 1, &st);
  if (first < 0 || first != argc - k + 1 - 1) {
    fprintf(
        stderr,
        "usage: sltool append [--config NAME=VALUE]... [--follower] [--roll]\n"
        "         [--leader-epoch N] [--now-ms N] [build options] DIR < records.jsonl\n");
    goto done;
  }
  const char *dir = argv[argc - 1];
  status = EXIT_DATA;
  int rc = sl_log_config_validate(&cfg, &d);
  if (rc == 0)
    rc = sl_log_open(dir, &cfg, SL_LOG_CREATE, NULL, &a.log, &d);
  if (rc < 0) {
    fprintf(stderr, "sltool: %s: %s\n", dir, sl_diag_format(&d, msg, sizeof(msg)));
    goto done;
  }
  if (roll && (rc = sl_log_roll(a.log, a.now_ms, &d)) < 0) {
    fprintf(stderr, "sltool: rolling %s: %s\n", dir,
            sl_diag_format(&d, msg, sizeof(msg)));
    goto done;
  }
  if (st.next_offset < sl_log_end_offset(a.log))
    st.next_offset = sl_log_end_offset(a.log);
  st.sink = log_sink;
  st.sink_ctx = &a;
  status = build_from_lines(&st, stdin);
  int64_t leo = sl_log_end_offset(a.log);
  size_t segments = sl_log_segments(a.log, NULL, 0);
  rc = sl_log_close(a.log, &d);
  a.log = NULL;
  if (rc < 0) {
    fprintf(stderr, "sltool: closing %s: %s\n", dir,
            sl_diag_format(&d, msg, sizeof(msg)));
    if (!status)
      status = EXIT_DATA;
  } else if (!status) {
    jw_open(&w, '{');
    jw_key(&w, "closed");
    jw_open(&w, '{');
    jw_key(&w, "log_end_offset");
    jw_i64(&w, leo);
    jw_key(&w, "segments");
    jw_i64(&w, (int64_t)segments);
    jw_close(&w, '}');
    jw_close(&w, '}');
    jw_line_end(&w);
  }
done:
  if (a.log)
    sl_log_close(a.log, NULL);
  builder_state_release(&st);
  int frc = finish_stdout();
  return status ? status : frc;
}

/* ------------------------------------------------------------------------ */
/* index                                                                     */
/* ------------------------------------------------------------------------ */

/* Base offset from a segment file name: 20 decimal digits before the dot. */
static int segment_base_offset(const char *path, int64_t *out) {
  const char *name = strrchr(path, '/');
  name = name ? name + 1 : path;
  const char *dot = strchr(name, '.');
  char digits[32];
  size_t n = dot ? (size_t)(dot - name) : 0;
  if (n != 20)
    return -1;
  memcpy(digits, name, n);
  digits[n] = 0;
  for (size_t k = 0; k < n; k++)
    if (digits[k] < '0' || digits[k] > '9')
      return -1;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(digits, &end, 10);
  if (errno != 0 || *end != 0)
    return -1;
  *out = (int64_t)v;
  return 0;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

typedef enum index_kind { INDEX_OFFSET, INDEX_TIME, INDEX_TXN } index_kind;

static int cmd_index(int argc, char **argv) {
  uint8_t *data = NULL;
  size_t len = 0, entry;
  int64_t base;
  index_kind kind;
  jw w;
  int status = EXIT_DATA;
  if (argc != 2) {
    fprintf(stderr, "usage: sltool index FILE.index|FILE.timeindex|FILE.txnindex\n");
    return EXIT_USAGE;
  }
  if (ends_with(argv[1], ".timeindex")) {
    kind = INDEX_TIME;
    entry = 12;
  } else if (ends_with(argv[1], ".txnindex")) {
    kind = INDEX_TXN;
    entry = 34;
  } else if (ends_with(argv[1], ".index")) {
    kind = INDEX_OFFSET;
    entry = 8;
  } else {
    fprintf(stderr, "sltool: %s: not a .index, .timeindex or .txnindex file\n", argv[1]);
    return EXIT_USAGE;
  }
  if (segment_base_offset(argv[1], &base) < 0) {
    fprintf(stderr, "sltool: %s: name is not a 20-digit base offset\n", argv[1]);
    return EXIT_USAGE;
  }
  if (read_whole_file(argv[1], &data, &len) < 0)
    return EXIT_DATA;
  jw_init(&w, stdout);
  if (len % entry != 0) {
    sl_diag d;
    sl_diag_clear(&d);
    sl_diag_set(&d, SL_ECORRUPT, (int64_t)len,
                "index size %zu is not a multiple of the entry size %zu", len, entry);
    dump_error(&w, (int64_t)(len - len % entry), SL_ECORRUPT, &d);
    goto done;
  }
  sl_rbuf rb;
  sl_rbuf_init(&rb, data, len);
  while (sl_rbuf_left(&rb) >= entry) {
    jw_open(&w, '{');
    jw_key(&w, "position_in_index");
    jw_i64(&w, (int64_t)rb.pos);
    if (kind == INDEX_TIME) {
      int64_t ts = sl_rbuf_i64(&rb);
      int32_t rel = sl_rbuf_i32(&rb);
      jw_key(&w, "timestamp");
      jw_i64(&w, ts);
      jw_key(&w, "relative_offset");
      jw_i64(&w, rel);
      jw_key(&w, "offset");
      jw_i64(&w, base + rel);
    } else if (kind == INDEX_OFFSET) {
      int32_t rel = sl_rbuf_i32(&rb);
      int32_t p = sl_rbuf_i32(&rb);
      jw_key(&w, "relative_offset");
      jw_i64(&w, rel);
      jw_key(&w, "offset");
      jw_i64(&w, base + rel);
      jw_key(&w, "position");
      jw_i64(&w, p);
    } else {
      static const char *const names[] = {"producer_id", "first_offset", "last_offset",
                                          "last_stable_offset"};
      jw_key(&w, "version");
      jw_i64(&w, sl_rbuf_i16(&rb));
      for (size_t k = 0; k < 4; k++) {
        jw_key(&w, names[k]);
        jw_i64(&w, sl_rbuf_i64(&rb));
      }
    }
    jw_close(&w, '}');
    jw_line_end(&w);
  }
  status = 0;
done:
  free(data);
  int frc = finish_stdout();
  return status ? status : frc;
}

/* ------------------------------------------------------------------------ */

typedef struct command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *help;
} command;

static const command commands[] = {
    {"dump", cmd_dump, "dump FILE.log                 records as JSON lines"},
    {"build", cmd_build, "build [opts] < in > out.log   v2 batches from JSON lines"},
    {"append", cmd_append, "append [opts] DIR < in         through the log API"},
    {"index", cmd_index, "index FILE.{index,timeindex,txnindex}  entries as JSON lines"},
};

static int usage(void) {
  fprintf(stderr, "usage: sltool COMMAND ...\n");
  for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
    fprintf(stderr, "  sltool %s\n", commands[k].help);
  return EXIT_USAGE;
}

int main(int argc, char **argv) {
  static char outbuf[1 << 16];
  setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
  if (argc < 2)
    return usage();
  for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
    if (strcmp(argv[1], commands[k].name) == 0)
      return commands[k].fn(argc - 1, argv + 1);
  return usage();
}
