/*
 * kp_runtime.c - the per-request arena and the wire primitives behind the
 * generated Kafka protocol codecs: classic and compact strings, bytes and
 * array counts, nullable struct markers, tagged-field sections.  The contract
 * is in kp_runtime.h and kp_int.h; the encodings are described in
 * tools/protogen/README.md ("Wire mapping").
 */
#include "kp_int.h"

#include <stdalign.h>
#include <stdlib.h>

/* ---- arena ---- */

#define KP_ARENA_CHUNK 16384

struct kp_arena_chunk {
  kp_arena_chunk *next;
  size_t cap;
  size_t used;
  max_align_t data[];
};

void kp_arena_init(kp_arena *a, size_t limit) {
  a->head = NULL;
  a->used = 0;
  a->limit = limit;
}

int kp_arena_alloc(kp_arena *a, size_t count, size_t size, void **out) {
  *out = NULL;
  if (count == 0 || size == 0)
    return 0;
  if (count > SIZE_MAX / size)
    return SL_ETOO_LARGE;
  const size_t align = alignof(max_align_t);
  size_t bytes = count * size;
  if (bytes > SIZE_MAX - align)
    return SL_ETOO_LARGE;
  bytes = (bytes + align - 1) & ~(align - 1);
  if (bytes > a->limit - a->used) /* used <= limit always */
    return SL_ETOO_LARGE;
  kp_arena_chunk *c = a->head;
  if (c == NULL || c->cap - c->used < bytes) {
    size_t cap = bytes > KP_ARENA_CHUNK ? bytes : KP_ARENA_CHUNK;
    c = malloc(sizeof *c + cap);
    if (c == NULL)
      return SL_ENOMEM;
    c->cap = cap;
    c->used = 0;
    c->next = a->head;
    a->head = c;
  }
  uint8_t *p = (uint8_t *)c->data + c->used;
  c->used += bytes;
  a->used += bytes;
  memset(p, 0, bytes);
  *out = p;
  return 0;
}

void kp_arena_reset(kp_arena *a) {
  kp_arena_chunk *c = a->head;
  while (c != NULL && c->next != NULL) {
    kp_arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  if (c != NULL)
    c->used = 0;
  a->head = c;
  a->used = 0;
}

void kp_arena_release(kp_arena *a) {
  if (a == NULL)
    return;
  kp_arena_chunk *c = a->head;
  while (c != NULL) {
    kp_arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  a->head = NULL;
  a->used = 0;
}

/* ---- strings ---- */

kp_str kp_str_from(const char *s) {
  if (s == NULL)
    return KP_STR_NULL;
  size_t n = strlen(s);
  return (kp_str){s, n > INT32_MAX ? INT32_MAX : (int32_t)n};
}

bool kp_str_eq(kp_str s, const char *lit, int32_t len) {
  if (len < 0)
    return s.len == -1;
  return s.len == len && (len == 0 || memcmp(s.ptr, lit, (size_t)len) == 0);
}

/* ---- decode ---- */

/* Latch err in r (unless an earlier error is there) and return r's error. */
static int fail(sl_rbuf *r, int err) {
  if (r->err == 0)
    r->err = err;
  return r->err;
}

/*
 * Length prefix of a string or bytes field: classic int16/int32 with -1 for
 * null, or compact unsigned varint holding length + 1 with 0 for null.
 * *len is -1 for null; max is the longest length accepted.
 */
static int read_len(sl_rbuf *r, bool compact, bool wide, bool nullable, int64_t max,
                    int32_t *len) {
  int64_t n;
  if (compact)
    n = (int64_t)sl_rbuf_uvarint(r) - 1;
  else
    n = wide ? sl_rbuf_i32(r) : sl_rbuf_i16(r);
  if (sl_rbuf_err(r))
    return sl_rbuf_err(r);
  if (n < -1 || (n == -1 && !nullable))
    return fail(r, SL_ECORRUPT);
  if (n > max)
    return fail(r, SL_ECORRUPT);
  *len = (int32_t)n;
  return 0;
}

int kp__r_str(sl_rbuf *r, bool compact, bool nullable, kp_str *out) {
  int32_t len;
  KP_TRY(read_len(r, compact, false, nullable, KP_MAX_STRING, &len));
  if (len < 0) {
    *out = KP_STR_NULL;
    return 0;
  }
  const uint8_t *p = sl_rbuf_bytes(r, (size_t)len);
  if (p == NULL)
    return sl_rbuf_err(r);
  out->ptr = len > 0 ? (const char *)p : "";
  out->len = len;
  return 0;
}

int kp__r_bytes(sl_rbuf *r, bool compact, bool nullable, kp_bytes *out) {
  int32_t len;
  KP_TRY(read_len(r, compact, true, nullable, INT32_MAX, &len));
  if (len < 0) {
    *out = KP_BYTES_NULL;
    return 0;
  }
  const uint8_t *p = sl_rbuf_bytes(r, (size_t)len);
  if (p == NULL)
    return sl_rbuf_err(r);
  static const uint8_t empty[1];
  out->ptr = len > 0 ? p : empty;
  out->len = len;
  return 0;
}

int kp__r_count(sl_rbuf *r, bool compact, bool nullable, int32_t *out) {
  int32_t n;
  KP_TRY(read_len(r, compact, true, nullable, INT32_MAX, &n));
  /* Every element takes at least one byte: a count beyond the bytes left
   * cannot be satisfied and is refused before anything is allocated for it
   * (KAFKA-14063); like a string running past the end, it is truncated data. */
  if (n > 0 && (size_t)n > sl_rbuf_left(r))
    return fail(r, SL_ETRUNCATED);
  *out = n;
  return 0;
}

bool kp__r_struct_null(sl_rbuf *r, bool nullable) {
  return nullable && sl_rbuf_i8(r) < 0;
}

int kp__r_tag(sl_rbuf *r, uint32_t *tag, sl_rbuf *sub) {
  *tag = sl_rbuf_uvarint(r);
  uint32_t size = sl_rbuf_uvarint(r);
  const uint8_t *p = sl_rbuf_bytes(r, size);
  if (p == NULL)
    return sl_rbuf_err(r);
  sl_rbuf_init(sub, p, size);
  return 0;
}

int kp__r_tag_end(const sl_rbuf *sub) {
  if (sl_rbuf_err(sub))
    return sl_rbuf_err(sub);
  return sub->pos == sub->len ? 0 : SL_ECORRUPT;
}

int kp__r_skip_tagged(sl_rbuf *r) {
  uint32_t n = sl_rbuf_uvarint(r);
  for (uint32_t i = 0; i < n && !sl_rbuf_err(r); i++) {
    (void)sl_rbuf_uvarint(r); /* tag */
    sl_rbuf_skip(r, sl_rbuf_uvarint(r));
  }
  return sl_rbuf_err(r);
}

void kp__r_uuid(sl_rbuf *r, kp_uuid *out) {
  const uint8_t *p = sl_rbuf_bytes(r, sizeof out->b);
  if (p != NULL)
    memcpy(out->b, p, sizeof out->b);
  else
    memset(out->b, 0, sizeof out->b);
}

double kp__r_f64(sl_rbuf *r) {
  uint64_t bits = (uint64_t)sl_rbuf_i64(r);
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

/* ---- size ---- */

int kp__size_add(size_t *n, size_t k) {
  if (k > KP_MAX_ENCODED || *n > KP_MAX_ENCODED - k)
    return SL_ETOO_LARGE;
  *n += k;
  return 0;
}

int kp__size_check(size_t n) {
  return n > KP_MAX_ENCODED ? SL_ETOO_LARGE : 0;
}

/* Size of a length prefix; len -1 is null. */
static size_t len_size(bool compact, bool wide, int32_t len) {
  if (compact)
    return sl_uvarint_size((uint32_t)len + 1);
  return wide ? 4 : 2;
}

int kp__size_str(size_t *n, bool compact, bool nullable, kp_str s) {
  if (s.len < -1 || (s.len == -1 && !nullable))
    return SL_EINVAL;
  if (s.len > KP_MAX_STRING)
    return SL_ETOO_LARGE;
  if (s.len > 0 && s.ptr == NULL)
    return SL_EINVAL;
  return kp__size_add(n, len_size(compact, false, s.len) + kp__count(s.len));
}

int kp__size_bytes(size_t *n, bool compact, bool nullable, kp_bytes b) {
  const kp_hole *h = kp_bytes_hole_of(b);
  if (h != NULL) {
    if (h->len < 0)
      return SL_EINVAL;
    KP_TRY(kp__size_add(n, len_size(compact, true, h->len)));
    return kp__size_add(n, (size_t)h->len);
  }
  if (b.len < -1 || (b.len == -1 && !nullable))
    return SL_EINVAL;
  if (b.len > 0 && b.ptr == NULL)
    return SL_EINVAL;
  KP_TRY(kp__size_add(n, len_size(compact, true, b.len)));
  return kp__size_add(n, kp__count(b.len));
}

int kp__size_count(size_t *n, bool compact, bool nullable, int32_t count, const void *p) {
  if (count < -1 || (count == -1 && !nullable))
    return SL_EINVAL;
  if (count > 0 && p == NULL)
    return SL_EINVAL;
  return kp__size_add(n, len_size(compact, true, count));
}

int kp__size_struct_null(size_t *n, bool nullable, bool present) {
  if (nullable)
    return kp__size_add(n, 1);
  return present ? 0 : SL_EINVAL;
}

int kp__size_tag(size_t *n, uint32_t tag, size_t m) {
  KP_TRY(kp__size_check(m));
  KP_TRY(kp__size_add(n, sl_uvarint_size(tag) + sl_uvarint_size((uint32_t)m)));
  return kp__size_add(n, m);
}

bool kp__uuid_is_zero(const kp_uuid *u) {
  for (size_t i = 0; i < sizeof u->b; i++)
    if (u->b[i] != 0)
      return false;
  return true;
}

/* ---- encode ---- */

int kp__reserve(sl_buf *w, size_t n) {
  if (w->err)
    return w->err;
  if (n > 0 && sl_buf_reserve(w, n) == NULL)
    return w->err ? w->err : SL_ENOMEM;
  return 0;
}

int kp__encode_end(sl_buf *w, size_t start, size_t n, int rc) {
  if (rc == 0)
    rc = w->err;
  if (rc == 0 && w->len - start != n)
    rc = SL_ECORRUPT; /* size and write disagree: a generator bug */
  if (rc != 0 && w->len > start)
    w->len = start;
  return rc;
}

static void write_len(sl_buf *w, bool compact, bool wide, int32_t len) {
  if (compact)
    kp__w_uvarint(w, (uint32_t)len + 1);
  else if (wide)
    kp__w_i32(w, len);
  else
    kp__w_i16(w, (int16_t)len);
}

void kp__w_str(sl_buf *w, bool compact, kp_str s) {
  write_len(w, compact, false, s.len);
  if (s.len > 0)
    (void)sl_buf_append(w, s.ptr, (size_t)s.len);
}

void kp__w_bytes(sl_buf *w, bool compact, kp_bytes b) {
  kp_hole *h = kp_bytes_hole_of(b);
  if (h != NULL) {
    /* Capacity only (the encoder reserved the message's size first), never
     * written here: the sender fills it. */
    write_len(w, compact, true, h->len);
    if (h->len > 0 && sl_buf_reserve(w, (size_t)h->len) != NULL) {
      h->at = w->len;
      w->len += (size_t)h->len;
    }
    return;
  }
  write_len(w, compact, true, b.len);
  if (b.len > 0)
    (void)sl_buf_append(w, b.ptr, (size_t)b.len);
}

void kp__w_count(sl_buf *w, bool compact, int32_t count) {
  write_len(w, compact, true, count);
}

void kp__w_uuid(sl_buf *w, const kp_uuid *u) {
  (void)sl_buf_append(w, u->b, sizeof u->b);
}

void kp__w_f64(sl_buf *w, double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  kp__w_i64(w, (int64_t)bits);
}

void kp__w_u16(sl_buf *w, uint16_t v) {
  uint8_t t[2];
  sl_store_be16(t, v);
  (void)sl_buf_append(w, t, sizeof t);
}

void kp__w_u32(sl_buf *w, uint32_t v) {
  uint8_t t[4];
  sl_store_be32(t, v);
  (void)sl_buf_append(w, t, sizeof t);
}
