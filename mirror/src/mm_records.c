/*
 * mm_records.c - MirrorMaker 2's OffsetSync, Checkpoint and Heartbeat key and
 * value encodings (layouts in mm_records.h and docs/MIRROR.md "Record
 * layouts"), through sl_buf writers and sticky-error sl_rbuf readers.
 */
#include "mm_records.h"

#include <string.h>

#define MM_RECORD_VERSION 0

static int put_str(sl_buf *b, mm_str s) {
  if (s.len > INT16_MAX)
    return SL_EINVAL;
  sl_buf_i16(b, (int16_t)s.len);
  return sl_buf_append(b, s.p, s.len);
}

static mm_str get_str(sl_rbuf *r) {
  mm_str s = {"", 0};
  int16_t n = sl_rbuf_i16(r);
  if (n < 0) {
    /* STRING is not nullable in these schemas. */
    if (!r->err)
      r->err = SL_ECORRUPT;
    return s;
  }
  const uint8_t *p = sl_rbuf_bytes(r, (size_t)n);
  if (p) {
    s.p = (const char *)p;
    s.len = (size_t)n;
  }
  return s;
}

static int finish(sl_buf *key, sl_buf *value) {
  return key->err ? key->err : value->err;
}

static int done_reading(sl_rbuf *r) {
  if (r->err)
    return r->err;
  return sl_rbuf_left(r) == 0 ? 0 : SL_ECORRUPT;
}

int mm_offset_sync_encode(const mm_offset_sync *s, sl_buf *key, sl_buf *value) {
  int rc = put_str(key, s->topic);
  if (rc != 0)
    return rc;
  sl_buf_i32(key, s->partition);
  sl_buf_i64(value, s->upstream);
  sl_buf_i64(value, s->downstream);
  return finish(key, value);
}

int mm_checkpoint_encode(const mm_checkpoint *c, sl_buf *key, sl_buf *value) {
  int rc = put_str(key, c->group);
  if (rc == 0)
    rc = put_str(key, c->topic);
  if (rc != 0)
    return rc;
  sl_buf_i32(key, c->partition);
  sl_buf_i16(value, MM_RECORD_VERSION);
  sl_buf_i64(value, c->upstream);
  sl_buf_i64(value, c->downstream);
  rc = put_str(value, c->metadata);
  if (rc != 0)
    return rc;
  return finish(key, value);
}

int mm_heartbeat_encode(const mm_heartbeat *h, sl_buf *key, sl_buf *value) {
  int rc = put_str(key, h->source);
  if (rc == 0)
    rc = put_str(key, h->target);
  if (rc != 0)
    return rc;
  sl_buf_i16(value, MM_RECORD_VERSION);
  sl_buf_i64(value, h->timestamp);
  return finish(key, value);
}

int mm_offset_sync_decode(const void *key, size_t klen, const void *value, size_t vlen,
                          mm_offset_sync *out) {
  sl_rbuf k, v;
  sl_rbuf_init(&k, key, klen);
  sl_rbuf_init(&v, value, vlen);
  out->topic = get_str(&k);
  out->partition = sl_rbuf_i32(&k);
  out->upstream = sl_rbuf_i64(&v);
  out->downstream = sl_rbuf_i64(&v);
  int rc = done_reading(&k);
  return rc ? rc : done_reading(&v);
}

/* Java reads the INT16 version and asserts 0; a later version would carry a
 * different value schema, so we refuse it rather than guess. */
static int read_version(sl_rbuf *v) {
  int16_t ver = sl_rbuf_i16(v);
  if (!v->err && ver != MM_RECORD_VERSION)
    v->err = SL_ECORRUPT;
  return v->err;
}

int mm_checkpoint_decode(const void *key, size_t klen, const void *value, size_t vlen,
                         mm_checkpoint *out) {
  sl_rbuf k, v;
  sl_rbuf_init(&k, key, klen);
  sl_rbuf_init(&v, value, vlen);
  out->group = get_str(&k);
  out->topic = get_str(&k);
  out->partition = sl_rbuf_i32(&k);
  read_version(&v);
  out->upstream = sl_rbuf_i64(&v);
  out->downstream = sl_rbuf_i64(&v);
  out->metadata = get_str(&v);
  int rc = done_reading(&k);
  return rc ? rc : done_reading(&v);
}

int mm_heartbeat_decode(const void *key, size_t klen, const void *value, size_t vlen,
                        mm_heartbeat *out) {
  sl_rbuf k, v;
  sl_rbuf_init(&k, key, klen);
  sl_rbuf_init(&v, value, vlen);
  out->source = get_str(&k);
  out->target = get_str(&k);
  read_version(&v);
  out->timestamp = sl_rbuf_i64(&v);
  int rc = done_reading(&k);
  return rc ? rc : done_reading(&v);
}
