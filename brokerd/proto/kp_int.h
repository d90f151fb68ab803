/*
 * kp_int.h - wire primitives used by the generated codecs (the gen/ sources): reading,
 * sizing and writing Kafka's strings, bytes, arrays, UUIDs and tagged-field
 * sections in their classic (int16/int32 length) and compact (unsigned varint
 * length + 1) forms.  Internal to slproto; tools/protogen/README.md describes
 * the encodings.  Readers use the sticky sl_rbuf; writers assume the value
 * was validated by the matching kp__size_* call and only append.
 */
#ifndef KP_INT_H
#define KP_INT_H

#include <string.h>

#include "kp_runtime.h"

/* Evaluate expr; return its value from the enclosing function if nonzero. */
#define KP_TRY(expr)                                                                     \
  do {                                                                                   \
    int kp__rc = (expr);                                                                 \
    if (kp__rc != 0)                                                                     \
      return kp__rc;                                                                     \
  } while (0)

/* Longest string Kafka accepts, classic or compact (Short.MAX_VALUE). */
#define KP_MAX_STRING 32767

/* ---- decode ---- */
int kp__r_str(sl_rbuf *r, bool compact, bool nullable, kp_str *out);
int kp__r_bytes(sl_rbuf *r, bool compact, bool nullable, kp_bytes *out);
/* Array count; -1 for null.  A count larger than the bytes left is corrupt. */
int kp__r_count(sl_rbuf *r, bool compact, bool nullable, int32_t *out);
/* Nullable struct marker (int8 -1 null); false without reading if !nullable. */
bool kp__r_struct_null(sl_rbuf *r, bool nullable);
/* Next tagged field: its tag, and a reader over exactly its bytes. */
int kp__r_tag(sl_rbuf *r, uint32_t *tag, sl_rbuf *sub);
/* A known tagged field must fill its announced size exactly. */
int kp__r_tag_end(const sl_rbuf *sub);
/* Skip a whole tagged-field section (structs without known tags). */
int kp__r_skip_tagged(sl_rbuf *r);
void kp__r_uuid(sl_rbuf *r, kp_uuid *out);
double kp__r_f64(sl_rbuf *r);
static inline bool kp__r_bool(sl_rbuf *r) {
  return sl_rbuf_u8(r) != 0;
}
static inline uint16_t kp__r_u16(sl_rbuf *r) {
  return (uint16_t)sl_rbuf_i16(r);
}

/* ---- size (each adds to *n and validates the value) ---- */
int kp__size_add(size_t *n, size_t k);
int kp__size_check(size_t n);
int kp__size_str(size_t *n, bool compact, bool nullable, kp_str s);
int kp__size_bytes(size_t *n, bool compact, bool nullable, kp_bytes b);
int kp__size_count(size_t *n, bool compact, bool nullable, int32_t count, const void *p);
int kp__size_struct_null(size_t *n, bool nullable, bool present);
/* A tagged field of m bytes: tag, size, data. */
int kp__size_tag(size_t *n, uint32_t tag, size_t m);
static inline size_t kp__count(int32_t count) {
  return count > 0 ? (size_t)count : 0;
}
bool kp__uuid_is_zero(const kp_uuid *u);

/* ---- encode (sticky errors stay in w->err) ---- */
int kp__reserve(sl_buf *w, size_t n);
/* Finish an encode that started at w->len == start and announced n bytes. */
int kp__encode_end(sl_buf *w, size_t start, size_t n, int rc);
void kp__w_str(sl_buf *w, bool compact, kp_str s);
void kp__w_bytes(sl_buf *w, bool compact, kp_bytes b);
void kp__w_count(sl_buf *w, bool compact, int32_t count);
void kp__w_uuid(sl_buf *w, const kp_uuid *u);
void kp__w_f64(sl_buf *w, double d);
void kp__w_u16(sl_buf *w, uint16_t v);
void kp__w_u32(sl_buf *w, uint32_t v);
static inline void kp__w_u8(sl_buf *w, uint8_t v) {
  (void)sl_buf_u8(w, v);
}
static inline void kp__w_i8(sl_buf *w, int8_t v) {
  (void)sl_buf_u8(w, (uint8_t)v);
}
static inline void kp__w_bool(sl_buf *w, bool v) {
  (void)sl_buf_u8(w, v ? 1 : 0);
}
static inline void kp__w_i16(sl_buf *w, int16_t v) {
  (void)sl_buf_i16(w, v);
}
static inline void kp__w_i32(sl_buf *w, int32_t v) {
  (void)sl_buf_i32(w, v);
}
static inline void kp__w_i64(sl_buf *w, int64_t v) {
  (void)sl_buf_i64(w, v);
}
static inline void kp__w_uvarint(sl_buf *w, uint32_t v) {
  (void)sl_buf_uvarint(w, v);
}

#endif
