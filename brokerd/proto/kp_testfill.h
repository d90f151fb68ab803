/*
 * kp_testfill.h - test support: kp_testfill() (generated, gen/kp_testfill.c)
 * fills any request, response or header struct with pseudo-random values that
 * are valid for a version, so the unit tests can round-trip every API and
 * version without a hand-written sample each.  Not part of slproto.
 */
#ifndef KP_TESTFILL_H
#define KP_TESTFILL_H

#include "kp_runtime.h"

/*
 * Fill *out (the struct of api_key's request or response; api_key -1: the
 * RequestHeader / ResponseHeader) for version v.  Arrays come from a; strings
 * and bytes point into static storage.  Returns SL_EINVAL for an unknown key.
 */
int kp_testfill(int16_t api_key, bool response, int16_t v, kp_arena *a, uint32_t *seed,
                void *out);
/* The same for the record schema called `name` (kp_records.h), e.g.
 * "OffsetCommitValue".  SL_EINVAL for an unknown name. */
int kp_testfill_record(const char *name, int16_t v, kp_arena *a, uint32_t *seed,
                       void *out);

static inline uint32_t kp_tf_next(uint32_t *seed) {
  uint32_t x = *seed ? *seed : 0x9e3779b9u; /* xorshift32 */
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *seed = x;
  return x;
}
static inline uint64_t kp_tf_next64(uint32_t *seed) {
  uint64_t hi = kp_tf_next(seed);
  return hi << 32 | kp_tf_next(seed);
}
static inline bool kp_tf_null(uint32_t *seed, bool nullable) {
  return nullable && kp_tf_next(seed) % 4 == 0;
}
static inline void kp_tf_uuid(uint32_t *seed, kp_uuid *u) {
  for (size_t i = 0; i < sizeof u->b; i++)
    u->b[i] = (uint8_t)kp_tf_next(seed);
}
static inline kp_str kp_tf_str(uint32_t *seed, bool nullable) {
  static const char pool[] = "the quick brown fox jumps over the lazy dog 0123456789";
  if (kp_tf_null(seed, nullable))
    return KP_STR_NULL;
  uint32_t len = kp_tf_next(seed) % 20, at = kp_tf_next(seed) % (sizeof pool - 21);
  return (kp_str){pool + at, (int32_t)len};
}
static inline kp_bytes kp_tf_bytes(uint32_t *seed, bool nullable) {
  static const uint8_t pool[64] = {0,   1,   2,   3,   0x7f, 0x80, 0xfe, 0xff,
                                   'k', 'a', 'f', 'k', 'a',  9,    10,   11};
  if (kp_tf_null(seed, nullable))
    return KP_BYTES_NULL;
  uint32_t len = kp_tf_next(seed) % 24, at = kp_tf_next(seed) % 32;
  return (kp_bytes){pool + at, (int32_t)len};
}
static inline int32_t kp_tf_count(uint32_t *seed, bool nullable) {
  if (kp_tf_null(seed, nullable))
    return -1;
  return (int32_t)(kp_tf_next(seed) % 3);
}
static inline void *kp_tf_alloc(kp_arena *a, int32_t count, size_t size) {
  void *p = NULL;
  if (count > 0 && kp_arena_alloc(a, (size_t)count, size, &p) != 0)
    return NULL;
  return p;
}

#endif
