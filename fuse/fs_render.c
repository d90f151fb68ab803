/*
 * fs_render.c - renders one record for the data, data.lp and records.jsonl
 * views of seglogfs (docs/FUSE.md, "Views").  The JSON envelope is kcat's
 * `-J` shape with the CLI's rules (null differs from empty; bytes that are
 * not valid UTF-8 become {"base64":"..."}; "headers" omitted when empty).
 */
#include "fs_render.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int64_t fs_render_data_len(const sl_record *rec) {
  return (rec->value_len > 0 ? rec->value_len : 0) + 1;
}

int64_t fs_render_lp_len(const sl_record *rec) {
  return 4 + (rec->value_len > 0 ? rec->value_len : 0);
}

int fs_render_data(sl_buf *out, const sl_record *rec) {
  if (rec->value_len > 0)
    sl_buf_append(out, rec->value, (size_t)rec->value_len);
  sl_buf_u8(out, '\n');
  return out->err;
}

int fs_render_lp(sl_buf *out, const sl_record *rec) {
  sl_buf_i32(out, rec->value_len < 0 ? -1 : rec->value_len);
  if (rec->value_len > 0)
    sl_buf_append(out, rec->value, (size_t)rec->value_len);
  return out->err;
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static bool utf8_valid(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    size_t k;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      k = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      k = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      k = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < k + 1)
      return false;
    for (size_t j = 1; j <= k; j++) {
      if ((p[i + j] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i + j] & 0x3F);
    }
    if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += k + 1;
  }
  return true;
}

static void json_string(sl_buf *out, const uint8_t *p, size_t n) {
  static const char hex[] = "0123456789abcdef";
  sl_buf_u8(out, '"');
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    sl_buf_append(out, p + run, i - run);
    run = i + 1;
    char esc[6];
    size_t el = 2;
    esc[0] = '\\';
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
      el = 6;
    }
    sl_buf_append(out, esc, el);
  }
  sl_buf_append(out, p + run, n - run);
  sl_buf_u8(out, '"');
}

static void base64_string(sl_buf *out, const uint8_t *p, size_t n) {
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  sl_buf_u8(out, '"');
  uint8_t *w = sl_buf_reserve(out, (n + 2) / 3 * 4);
  if (w != NULL) {
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
      uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
      w[o++] = (uint8_t)tab[v >> 18];
      w[o++] = (uint8_t)tab[(v >> 12) & 63];
      w[o++] = (uint8_t)tab[(v >> 6) & 63];
      w[o++] = (uint8_t)tab[v & 63];
    }
    if (n - i == 1) {
      uint32_t v = (uint32_t)p[i] << 16;
      w[o++] = (uint8_t)tab[v >> 18];
      w[o++] = (uint8_t)tab[(v >> 12) & 63];
      w[o++] = '=';
      w[o++] = '=';
    } else if (n - i == 2) {
      uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);
      w[o++] = (uint8_t)tab[v >> 18];
      w[o++] = (uint8_t)tab[(v >> 12) & 63];
      w[o++] = (uint8_t)tab[(v >> 6) & 63];
      w[o++] = '=';
    }
    out->len += o;
  }
  sl_buf_u8(out, '"');
}

static void lit(sl_buf *out, const char *s) {
  sl_buf_append(out, s, strlen(s));
}

static void i64(sl_buf *out, int64_t v) {
  char tmp[32];
  int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
  if (n > 0)
    sl_buf_append(out, tmp, (size_t)n);
}

/* A byte string as JSON: null, a string, or {"base64":"..."} when it is not
 * valid UTF-8. */
static void bytes_value(sl_buf *out, const uint8_t *p, int32_t n) {
  if (n < 0) {
    lit(out, "null");
  } else if (utf8_valid(p, (size_t)n)) {
    json_string(out, p, (size_t)n);
  } else {
    lit(out, "{\"base64\":");
    base64_string(out, p, (size_t)n);
    sl_buf_u8(out, '}');
  }
}

int fs_render_jsonl(sl_buf *out, const char *topic, int32_t partition,
                    const sl_batch_header *h, const sl_record *rec) {
  lit(out, "{\"topic\":");
  json_string(out, (const uint8_t *)topic, strlen(topic));
  lit(out, ",\"partition\":");
  i64(out, partition);
  lit(out, ",\"offset\":");
  i64(out, rec->offset);
  if (rec->timestamp < 0)
    lit(out, ",\"tstype\":\"none\"");
  else if (h->magic >= 1 && (h->attributes & SL_ATTR_LOG_APPEND_TIME))
    lit(out, ",\"tstype\":\"logappend\"");
  else
    lit(out, ",\"tstype\":\"create\"");
  lit(out, ",\"ts\":");
  i64(out, rec->timestamp);
  lit(out, ",\"broker\":-1");
  if (rec->header_count > 0) {
    lit(out, ",\"headers\":[");
    for (int32_t i = 0; i < rec->header_count; i++) {
      const sl_header *hd = &rec->headers[i];
      if (i)
        sl_buf_u8(out, ',');
      bytes_value(out, hd->key, hd->key_len);
      sl_buf_u8(out, ',');
      bytes_value(out, hd->value, hd->value_len);
    }
    sl_buf_u8(out, ']');
  }
  lit(out, ",\"key\":");
  bytes_value(out, rec->key, rec->key_len);
  lit(out, ",\"payload\":");
  bytes_value(out, rec->value, rec->value_len);
  lit(out, "}\n");
  return out->err;
}
