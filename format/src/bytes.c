/*
 * bytes.c - varints and the growable sl_buf writer.  See seglog/bytes.h.
 */
#include "seglog/bytes.h"

#include <stdlib.h>

static inline uint32_t zz32(int32_t v) {
  return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}
static inline uint64_t zz64(int64_t v) {
  return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

size_t sl_uvarint_size(uint32_t u) {
  size_t n = 1;
  while (u >= 0x80) {
    u >>= 7;
    n++;
  }
  return n;
}
size_t sl_varint_size(int32_t v) {
  return sl_uvarint_size(zz32(v));
}
size_t sl_varlong_size(int64_t v) {
  uint64_t u = zz64(v);
  size_t n = 1;
  while (u >= 0x80) {
    u >>= 7;
    n++;
  }
  return n;
}

size_t sl_uvarint_encode(uint8_t *p, uint32_t u) {
  size_t n = 0;
  while (u >= 0x80) {
    p[n++] = (uint8_t)(u | 0x80);
    u >>= 7;
  }
  p[n++] = (uint8_t)u;
  return n;
}
size_t sl_varint_encode(uint8_t *p, int32_t v) {
  return sl_uvarint_encode(p, zz32(v));
}
size_t sl_varlong_encode(uint8_t *p, int64_t v) {
  uint64_t u = zz64(v);
  size_t n = 0;
  while (u >= 0x80) {
    p[n++] = (uint8_t)(u | 0x80);
    u >>= 7;
  }
  p[n++] = (uint8_t)u;
  return n;
}

uint32_t sl_rbuf_uvarint(sl_rbuf *r) {
  uint32_t v = 0;
  for (int i = 0; i < SL_VARINT_MAX; i++) {
    if (!sl_rbuf_need(r, 1))
      return 0;
    uint8_t b = r->p[r->pos++];
    if (i == 4 && (b & 0xf0)) { /* more than 32 bits or a 6th byte */
      r->err = SL_ECORRUPT;
      return 0;
    }
    v |= (uint32_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80))
      return v;
  }
  r->err = SL_ECORRUPT;
  return 0;
}

int32_t sl_rbuf_varint(sl_rbuf *r) {
  uint32_t u = sl_rbuf_uvarint(r);
  return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

int64_t sl_rbuf_varlong(sl_rbuf *r) {
  uint64_t v = 0;
  for (int i = 0; i < SL_VARLONG_MAX; i++) {
    if (!sl_rbuf_need(r, 1))
      return 0;
    uint8_t b = r->p[r->pos++];
    if (i == 9 && (b & 0xfe)) {
      r->err = SL_ECORRUPT;
      return 0;
    }
    v |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80))
      return (int64_t)((v >> 1) ^ (0ull - (v & 1)));
  }
  r->err = SL_ECORRUPT;
  return 0;
}

void sl_buf_init(sl_buf *b) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->err = 0;
}
void sl_buf_release(sl_buf *b) {
  if (b == NULL)
    return;
  free(b->data);
  sl_buf_init(b);
}
void sl_buf_reset(sl_buf *b) {
  b->len = 0;
  b->err = 0;
}

uint8_t *sl_buf_reserve(sl_buf *b, size_t n) {
  if (b->err)
    return NULL;
  if (b->cap - b->len >= n)
    return b->data + b->len;
  if (n > SIZE_MAX / 2 - b->len) {
    b->err = SL_ENOMEM;
    return NULL;
  }
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < n)
    cap *= 2;
  uint8_t *p = realloc(b->data, cap);
  if (p == NULL) {
    b->err = SL_ENOMEM;
    return NULL;
  }
  b->data = p;
  b->cap = cap;
  return b->data + b->len;
}

int sl_buf_append(sl_buf *b, const void *p, size_t n) {
  if (n == 0)
    return b->err;
  uint8_t *d = sl_buf_reserve(b, n);
  if (d == NULL)
    return b->err;
  memcpy(d, p, n);
  b->len += n;
  return 0;
}
int sl_buf_u8(sl_buf *b, uint8_t v) {
  return sl_buf_append(b, &v, 1);
}
int sl_buf_i16(sl_buf *b, int16_t v) {
  uint8_t t[2];
  sl_store_be16(t, (uint16_t)v);
  return sl_buf_append(b, t, 2);
}
int sl_buf_i32(sl_buf *b, int32_t v) {
  uint8_t t[4];
  sl_store_be32(t, (uint32_t)v);
  return sl_buf_append(b, t, 4);
}
int sl_buf_i64(sl_buf *b, int64_t v) {
  uint8_t t[8];
  sl_store_be64(t, (uint64_t)v);
  return sl_buf_append(b, t, 8);
}
int sl_buf_varint(sl_buf *b, int32_t v) {
  uint8_t t[SL_VARINT_MAX];
  return sl_buf_append(b, t, sl_varint_encode(t, v));
}
int sl_buf_varlong(sl_buf *b, int64_t v) {
  uint8_t t[SL_VARLONG_MAX];
  return sl_buf_append(b, t, sl_varlong_encode(t, v));
}
int sl_buf_uvarint(sl_buf *b, uint32_t v) {
  uint8_t t[SL_VARINT_MAX];
  return sl_buf_append(b, t, sl_uvarint_encode(t, v));
}

uint8_t *sl_buf_detach(sl_buf *b, size_t *len) {
  uint8_t *p = b->data;
  if (len)
    *len = b->len;
  sl_buf_init(b);
  return p;
}
