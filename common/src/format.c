/*
 * format.c - kcat's -f format strings: compiled once into a list of literal
 * runs and tokens, rendered per record into a buffer (slclient/format.h;
 * docs/CLI.md, "Format strings").
 */
#include "slclient/format.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slclient/base64.h"

enum { MOD_NONE = 0, MOD_HEX = 'x', MOD_B64 = 'b', MOD_ISO = 'i' };

typedef struct fmt_op {
  char token; /* 0 = literal run */
  char mod;
  size_t off, len; /* literal run in f->lit */
} fmt_op;

struct sc_format {
  fmt_op *ops;
  size_t nops;
  sl_buf lit;
  char *null_str;
  size_t null_len;
};

static int push_op(sc_format *f, size_t *cap, fmt_op op) {
  if (f->nops > 0 && op.token == 0 && f->ops[f->nops - 1].token == 0) {
    f->ops[f->nops - 1].len += op.len; /* merge adjacent literal runs */
    return SL_OK;
  }
  if (f->nops == *cap) {
    size_t nc = *cap ? *cap * 2 : 8;
    fmt_op *n = realloc(f->ops, nc * sizeof(*n));
    if (!n)
      return SL_ENOMEM;
    f->ops = n;
    *cap = nc;
  }
  f->ops[f->nops++] = op;
  return SL_OK;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int sc_format_compile(const char *fmt, sc_format **out, sl_diag *diag) {
  sc_format *f = calloc(1, sizeof(*f));
  size_t cap = 0;
  int rc = SL_OK;
  if (!f)
    return SL_ENOMEM;
  sl_buf_init(&f->lit);
  f->null_str = calloc(1, 1);
  if (!f->null_str) {
    rc = SL_ENOMEM;
    goto out;
  }
  for (size_t i = 0; fmt[i];) {
    char c = fmt[i];
    if (c == '%') {
      size_t at = i;
      char mod = MOD_NONE;
      i++;
      if (fmt[i] == MOD_HEX || fmt[i] == MOD_B64 || fmt[i] == MOD_ISO)
        mod = fmt[i++];
      char t = fmt[i];
      if (t == '%' && mod == MOD_NONE) {
        fmt_op op = {0, 0, f->lit.len, 1};
        if (sl_buf_u8(&f->lit, '%') || push_op(f, &cap, op)) {
          rc = SL_ENOMEM;
          goto out;
        }
        i++;
        continue;
      }
      if (!t || !strchr("tpoTkKsSRh", t)) {
        rc = sl_diag_set(diag, SL_EINVAL, (int64_t)at, "unknown format token '%%%.*s'",
                         t ? (int)(i - at) : (int)(i - at - 1), fmt + at + 1);
        goto out;
      }
      bool ok = mod == MOD_NONE ||
                ((mod == MOD_HEX || mod == MOD_B64) && strchr("ksh", t)) ||
                (mod == MOD_ISO && t == 'T');
      if (!ok) {
        rc = sl_diag_set(diag, SL_EINVAL, (int64_t)at,
                         "modifier '%c' does not apply to %%%c", mod, t);
        goto out;
      }
      fmt_op op = {t, mod, 0, 0};
      if (push_op(f, &cap, op)) {
        rc = SL_ENOMEM;
        goto out;
      }
      i++;
      continue;
    }
    uint8_t byte = (uint8_t)c;
    size_t adv = 1;
    if (c == '\\') {
      char e = fmt[i + 1];
      adv = 2;
      switch (e) {
      case 'n':
        byte = '\n';
        break;
      case 'r':
        byte = '\r';
        break;
      case 't':
        byte = '\t';
        break;
      case '\\':
        byte = '\\';
        break;
      case '0':
        byte = 0;
        break;
      case 'x': {
        int h1 = hexval(fmt[i + 2]);
        if (h1 < 0) {
          rc = sl_diag_set(diag, SL_EINVAL, (int64_t)i, "\\x needs hex digits");
          goto out;
        }
        int h2 = hexval(fmt[i + 3]);
        if (h2 >= 0) {
          byte = (uint8_t)(h1 << 4 | h2);
          adv = 4;
        } else {
          byte = (uint8_t)h1;
          adv = 3;
        }
        break;
      }
      default:
        rc = sl_diag_set(diag, SL_EINVAL, (int64_t)i, "unknown escape '\\%c'",
                         e ? e : '?');
        goto out;
      }
    }
    fmt_op op = {0, 0, f->lit.len, 1};
    if (sl_buf_u8(&f->lit, byte) || push_op(f, &cap, op)) {
      rc = SL_ENOMEM;
      goto out;
    }
    i += adv;
  }
out:
  if (rc) {
    sc_format_free(f);
    return rc;
  }
  *out = f;
  return SL_OK;
}

void sc_format_free(sc_format *f) {
  if (!f)
    return;
  free(f->ops);
  sl_buf_release(&f->lit);
  free(f->null_str);
  free(f);
}

int sc_format_set_null(sc_format *f, const char *null_str) {
  char *s = strdup(null_str ? null_str : "");
  if (!s)
    return SL_ENOMEM;
  free(f->null_str);
  f->null_str = s;
  f->null_len = strlen(s);
  return SL_OK;
}

int sc_format_iso_time(int64_t ms, sl_buf *out) {
  char tmp[64];
  if (ms < 0)
    return sl_buf_append(out, "-1", 2);
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  if (!gmtime_r(&secs, &tm))
    return sl_buf_append(out, "-1", 2);
  int n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, (int)(ms % 1000));
  if (n < 0 || (size_t)n >= sizeof(tmp))
    return SL_EINVAL;
  return sl_buf_append(out, tmp, (size_t)n);
}

static int put_int(sl_buf *out, int64_t v) {
  char tmp[32];
  int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
  return sl_buf_append(out, tmp, (size_t)n);
}

static int put_bytes(const sc_format *f, sl_buf *out, const uint8_t *p, int32_t len,
                     char mod) {
  static const char hex[] = "0123456789abcdef";
  if (len < 0)
    return sl_buf_append(out, f->null_str, f->null_len);
  if (mod == MOD_B64)
    return sc_base64_encode(p, (size_t)len, out);
  if (mod == MOD_HEX && len > 0) {
    uint8_t *o = sl_buf_reserve(out, (size_t)len * 2);
    if (!o)
      return SL_ENOMEM;
    for (int32_t i = 0; i < len; i++) {
      o[2 * i] = (uint8_t)hex[p[i] >> 4];
      o[2 * i + 1] = (uint8_t)hex[p[i] & 15];
    }
    out->len += (size_t)len * 2;
    return SL_OK;
  }
  return sl_buf_append(out, p, (size_t)len);
}

int sc_format_render(const sc_format *f, const sc_record *r, sl_buf *out) {
  size_t start = out->len;
  int rc = SL_OK;
  for (size_t i = 0; i < f->nops && rc == SL_OK; i++) {
    const fmt_op *op = &f->ops[i];
    switch (op->token) {
    case 0:
      rc = sl_buf_append(out, f->lit.data + op->off, op->len);
      break;
    case 't':
      rc = r->topic ? sl_buf_append(out, r->topic, r->topic_len) : SL_OK;
      break;
    case 'p':
      rc = put_int(out, r->partition);
      break;
    case 'o':
      rc = put_int(out, r->offset);
      break;
    case 'T':
      rc = op->mod == MOD_ISO ? sc_format_iso_time(r->timestamp, out)
                              : put_int(out, r->timestamp);
      break;
    case 'k':
      rc = put_bytes(f, out, r->key, r->key_len, op->mod);
      break;
    case 'K':
      rc = put_int(out, r->key_len);
      break;
    case 's':
      rc = put_bytes(f, out, r->value, r->value_len, op->mod);
      break;
    case 'S':
      rc = put_int(out, r->value_len);
      break;
    case 'R': {
      uint8_t be[4];
      sl_store_be32(be, (uint32_t)r->value_len);
      rc = sl_buf_append(out, be, 4);
      break;
    }
    case 'h':
      for (int32_t h = 0; h < r->header_count && rc == SL_OK; h++) {
        const sl_header *hd = &r->headers[h];
        if (h > 0)
          rc = sl_buf_u8(out, ',');
        if (rc == SL_OK)
          rc = put_bytes(f, out, hd->key, hd->key_len, op->mod);
        if (rc == SL_OK)
          rc = sl_buf_u8(out, '=');
        if (rc == SL_OK)
          rc = put_bytes(f, out, hd->value, hd->value_len, op->mod);
      }
      break;
    default:
      break;
    }
  }
  if (rc) {
    out->len = start;
    return SL_ENOMEM;
  }
  return SL_OK;
}
