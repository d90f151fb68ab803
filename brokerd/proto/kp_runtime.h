/*
 * kp_runtime.h - the value types and the per-request arena shared by the
 * generated Kafka protocol codecs (brokerd/proto/gen, made by tools/protogen;
 * tools/protogen/README.md documents how Kafka's schema maps to these types).
 *
 * Contract of every generated message kp_M (request, response or header):
 *
 *   void kp_M_init_defaults(kp_M *o);
 *       Sets every field to Kafka's default ("default" in the schema, else 0,
 *       false, "", empty array; null where the schema says "null").
 *   int kp_M_decode(sl_rbuf *r, int16_t version, kp_arena *arena, kp_M *out);
 *       Reads one kp_M of `version` from r.  Strings, bytes and records in
 *       *out are BORROWED from r's buffer (not copied: a Produce request's
 *       record batches stay where they arrived); arrays are allocated from
 *       `arena`.  *out is valid while both the buffer and the arena live (until
 *       kp_arena_reset/release).  Fields absent from `version` hold their
 *       defaults; unknown tagged fields are skipped and not kept.  Returns 0,
 *       SL_EUNSUPPORTED for a version outside validVersions, SL_ETRUNCATED
 *       when a length or array count runs past the end of the input (checked
 *       before anything is allocated), SL_ECORRUPT for other malformed input
 *       (negative length other than -1, null where not nullable, string over
 *       32767 bytes, bad varint, tagged field not filling its size),
 *       SL_ETOO_LARGE when the arena cap is reached.  Decoding stops after
 *       the message: the caller checks sl_rbuf_left(r) if trailing bytes matter.
 *   int kp_M_size(int16_t version, const kp_M *in, size_t *size);
 *       Exact encoded size; validates the value for `version`: null in a
 *       non-nullable field or a negative count -> SL_EINVAL; a string longer
 *       than 32767 or a total over KP_MAX_ENCODED -> SL_ETOO_LARGE; a field
 *       the version lacks holding a non-default value -> SL_EUNSUPPORTED,
 *       unless the schema marks it ignorable (as Kafka does).
 *   int kp_M_encode(sl_buf *w, int16_t version, const kp_M *in);
 *       Appends the encoding to w (reserving kp_M_size first).  On error w is
 *       left as it was.  Fields absent from `version` are not written.
 */
#ifndef KP_RUNTIME_H
#define KP_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/bytes.h"
#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest encoding the codecs produce: a Kafka frame length is an int32. */
#define KP_MAX_ENCODED ((size_t)INT32_MAX)

/* A string: not NUL-terminated, len -1 means null.  Borrowed, never owned. */
typedef struct kp_str {
  const char *ptr;
  int32_t len;
} kp_str;

/* Bytes or records: len -1 means null.  Borrowed, never owned. */
typedef struct kp_bytes {
  const uint8_t *ptr;
  int32_t len;
} kp_bytes;

/* A UUID as its 16 wire bytes. */
typedef struct kp_uuid {
  uint8_t b[16];
} kp_uuid;

/*
 * A hole: bytes the encoder accounts for but does not write.  A kp_bytes
 * {(const uint8_t *)hole, KP_HOLE_LEN} (kp_bytes_hole) encodes as the length
 * prefix of hole->len bytes followed by hole->len bytes of capacity left
 * unwritten; the encoder stores their position in the output sl_buf in
 * hole->at.  The caller splices the real bytes in when it sends the buffer:
 * the zero-copy Fetch path sends record batches straight from segment files
 * (brokerd/src/server.c, "Zero-copy Fetch").  A length below -1 is invalid
 * for ordinary bytes, so a hole cannot be mistaken for data.
 */
typedef struct kp_hole {
  int32_t len; /* >= 0 */
  size_t at;   /* set by the encoder */
} kp_hole;
#define KP_HOLE_LEN (-2)
static inline kp_bytes kp_bytes_hole(kp_hole *h) {
  return (kp_bytes){(const uint8_t *)h, KP_HOLE_LEN};
}
static inline kp_hole *kp_bytes_hole_of(kp_bytes b) {
  return b.len == KP_HOLE_LEN && b.ptr != NULL ? (kp_hole *)(uintptr_t)b.ptr : NULL;
}

#define KP_STR(lit) ((kp_str){(lit), (int32_t)(sizeof(lit) - 1)})
#define KP_STR_NULL ((kp_str){NULL, -1})
#define KP_BYTES_NULL ((kp_bytes){NULL, -1})

/* A kp_str over a NUL-terminated string (NULL gives the null string). */
kp_str kp_str_from(const char *s);
/* True if s equals the len bytes at lit (len -1: s is null). */
bool kp_str_eq(kp_str s, const char *lit, int32_t len);

/*
 * Per-request bump allocator with a hard cap.  Decoders allocate arrays here
 * only after checking the announced count against the bytes left, and the cap
 * bounds what a request can make us allocate in total.  Memory is zeroed.
 */
typedef struct kp_arena_chunk kp_arena_chunk;
typedef struct kp_arena {
  kp_arena_chunk *head; /* newest chunk first */
  size_t used;          /* bytes handed out since init/reset */
  size_t limit;         /* hard cap on `used` */
} kp_arena;

/* limit: the most the arena may hand out between resets. */
void kp_arena_init(kp_arena *a, size_t limit);
/*
 * *out = count * size zeroed bytes, aligned for any type.  SL_ETOO_LARGE if
 * the cap would be exceeded (nothing is allocated then), SL_ENOMEM.
 */
int kp_arena_alloc(kp_arena *a, size_t count, size_t size, void **out);
/* Forget all allocations; keeps one chunk for reuse. */
void kp_arena_reset(kp_arena *a);
/* Free everything; a may be NULL. */
void kp_arena_release(kp_arena *a);

#ifdef __cplusplus
}
#endif
#endif
