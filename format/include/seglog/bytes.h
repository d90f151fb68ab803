/*
 * seglog/bytes.h - bounds-checked byte readers and writers, big-endian helpers,
 * and Kafka's varints.
 *
 * Every byte format in seglog (record batches, indexes, snapshots, the wire
 * protocol) is read through sl_rbuf and written through sl_buf.  The reader has a
 * sticky error: after the first short read every later read returns zeros and
 * sl_rbuf_err() reports SL_ETRUNCATED (or SL_ECORRUPT for a bad varint), so a
 * parser can read a whole structure and check once.  Nothing here allocates what
 * the input announces.
 */
#ifndef SEGLOG_BYTES_H
#define SEGLOG_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- load/store, big-endian ---- */
static inline uint16_t sl_load_be16(const uint8_t *p) {
  return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t sl_load_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}
static inline uint64_t sl_load_be64(const uint8_t *p) {
  return (uint64_t)sl_load_be32(p) << 32 | sl_load_be32(p + 4);
}
static inline void sl_store_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static inline void sl_store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static inline void sl_store_be64(uint8_t *p, uint64_t v) {
  sl_store_be32(p, (uint32_t)(v >> 32));
  sl_store_be32(p + 4, (uint32_t)v);
}
static inline uint32_t sl_load_le32(const uint8_t *p) {
  return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 |
         (uint32_t)p[0];
}
static inline void sl_store_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* ---- varints (protobuf-style zigzag, as Kafka's ByteUtils) ---- */
#define SL_VARINT_MAX 5
#define SL_VARLONG_MAX 10
/* Bytes needed to encode v. */
size_t sl_varint_size(int32_t v);
size_t sl_varlong_size(int64_t v);
/* Encode into p (room for SL_VAR*_MAX bytes); returns bytes written. */
size_t sl_varint_encode(uint8_t *p, int32_t v);
size_t sl_varlong_encode(uint8_t *p, int64_t v);
/* Unsigned (non-zigzag) varint, used by the wire protocol's compact types. */
size_t sl_uvarint_encode(uint8_t *p, uint32_t v);
size_t sl_uvarint_size(uint32_t v);

/* ---- reader ---- */
typedef struct sl_rbuf {
  const uint8_t *p;
  size_t len;
  size_t pos;
  int err; /* sticky: 0 or SL_ETRUNCATED / SL_ECORRUPT */
} sl_rbuf;

static inline void sl_rbuf_init(sl_rbuf *r, const void *p, size_t len) {
  r->p = (const uint8_t *)p;
  r->len = len;
  r->pos = 0;
  r->err = 0;
}
static inline size_t sl_rbuf_left(const sl_rbuf *r) {
  return r->err ? 0 : r->len - r->pos;
}
static inline int sl_rbuf_err(const sl_rbuf *r) {
  return r->err;
}
static inline bool sl_rbuf_need(sl_rbuf *r, size_t n) {
  if (r->err)
    return false;
  if (r->len - r->pos < n) {
    r->err = SL_ETRUNCATED;
    return false;
  }
  return true;
}
static inline uint8_t sl_rbuf_u8(sl_rbuf *r) {
  if (!sl_rbuf_need(r, 1))
    return 0;
  return r->p[r->pos++];
}
static inline int8_t sl_rbuf_i8(sl_rbuf *r) {
  return (int8_t)sl_rbuf_u8(r);
}
static inline int16_t sl_rbuf_i16(sl_rbuf *r) {
  if (!sl_rbuf_need(r, 2))
    return 0;
  uint16_t v = sl_load_be16(r->p + r->pos);
  r->pos += 2;
  return (int16_t)v;
}
static inline uint32_t sl_rbuf_u32(sl_rbuf *r) {
  if (!sl_rbuf_need(r, 4))
    return 0;
  uint32_t v = sl_load_be32(r->p + r->pos);
  r->pos += 4;
  return v;
}
static inline int32_t sl_rbuf_i32(sl_rbuf *r) {
  return (int32_t)sl_rbuf_u32(r);
}
static inline int64_t sl_rbuf_i64(sl_rbuf *r) {
  if (!sl_rbuf_need(r, 8))
    return 0;
  uint64_t v = sl_load_be64(r->p + r->pos);
  r->pos += 8;
  return (int64_t)v;
}
/* Borrow n bytes (pointer into the buffer), or NULL with the sticky error set. */
static inline const uint8_t *sl_rbuf_bytes(sl_rbuf *r, size_t n) {
  if (!sl_rbuf_need(r, n))
    return NULL;
  const uint8_t *p = r->p + r->pos;
  r->pos += n;
  return p;
}
static inline void sl_rbuf_skip(sl_rbuf *r, size_t n) {
  (void)sl_rbuf_bytes(r, n);
}
/* Zigzag varints; a 6th (resp. 11th) byte sets SL_ECORRUPT. */
int32_t sl_rbuf_varint(sl_rbuf *r);
int64_t sl_rbuf_varlong(sl_rbuf *r);
/* Unsigned varint (max 5 bytes). */
uint32_t sl_rbuf_uvarint(sl_rbuf *r);

/* ---- growable output buffer ---- */
typedef struct sl_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
  int err; /* sticky: SL_ENOMEM after a failed growth */
} sl_buf;

#define SL_BUF_INIT                                                                      \
  { NULL, 0, 0, 0 }
void sl_buf_init(sl_buf *b);
void sl_buf_release(sl_buf *b); /* frees data; b may be reused after init */
void sl_buf_reset(sl_buf *b);   /* len = 0, keeps memory, clears err */
/* Ensure room for n more bytes; returns a pointer to the free space or NULL. */
uint8_t *sl_buf_reserve(sl_buf *b, size_t n);
int sl_buf_append(sl_buf *b, const void *p, size_t n);
int sl_buf_u8(sl_buf *b, uint8_t v);
int sl_buf_i16(sl_buf *b, int16_t v);
int sl_buf_i32(sl_buf *b, int32_t v);
int sl_buf_i64(sl_buf *b, int64_t v);
int sl_buf_varint(sl_buf *b, int32_t v);
int sl_buf_varlong(sl_buf *b, int64_t v);
int sl_buf_uvarint(sl_buf *b, uint32_t v);
/* Patch helpers for lengths/counts/CRCs reserved earlier. */
static inline void sl_buf_patch_be32(sl_buf *b, size_t at, uint32_t v) {
  sl_store_be32(b->data + at, v);
}
/* Detach the data (caller frees with free()); the buffer is reset to empty. */
uint8_t *sl_buf_detach(sl_buf *b, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
