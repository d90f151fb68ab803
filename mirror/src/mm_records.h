/*
 * mm_records.h - MirrorMaker 2's internal record encodings, byte for byte as
 * Java's OffsetSync, Checkpoint and Heartbeat serialize them with Kafka's
 * protocol Schema types (STRING = int16 length + UTF-8, INT16/INT32/INT64
 * big-endian):
 *
 *   OffsetSync  key   topic:STRING partition:INT32
 *               value upstreamOffset:INT64 offset:INT64            (no version)
 *   Checkpoint  key   group:STRING topic:STRING partition:INT32
 *               value version:INT16=0 upstreamOffset:INT64 offset:INT64
 *                     metadata:STRING
 *   Heartbeat   key   sourceClusterAlias:STRING targetClusterAlias:STRING
 *               value version:INT16=0 timestamp:INT64
 *
 * Tables with offsets are in docs/MIRROR.md ("Record layouts").  Decoders
 * take (ptr, len), do no I/O, and return borrowed string pointers into the
 * input.
 */
#ifndef MM_RECORDS_H
#define MM_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "seglog/bytes.h"

typedef struct mm_str {
  const char *p; /* borrowed */
  size_t len;
} mm_str;

typedef struct mm_offset_sync {
  mm_str topic;
  int32_t partition;
  int64_t upstream;
  int64_t downstream;
} mm_offset_sync;

typedef struct mm_checkpoint {
  mm_str group;
  mm_str topic;
  int32_t partition;
  int64_t upstream;
  int64_t downstream;
  mm_str metadata;
} mm_checkpoint;

typedef struct mm_heartbeat {
  mm_str source;
  mm_str target;
  int64_t timestamp;
} mm_heartbeat;

/* Encoders append key and value to the buffers; 0 or SL_ENOMEM / SL_EINVAL
 * (a string longer than 32767 bytes). */
int mm_offset_sync_encode(const mm_offset_sync *s, sl_buf *key, sl_buf *value);
int mm_checkpoint_encode(const mm_checkpoint *c, sl_buf *key, sl_buf *value);
int mm_heartbeat_encode(const mm_heartbeat *h, sl_buf *key, sl_buf *value);

/* Decoders: 0, or SL_ETRUNCATED / SL_ECORRUPT (negative string length,
 * unknown version, trailing bytes). */
int mm_offset_sync_decode(const void *key, size_t klen, const void *value, size_t vlen,
                          mm_offset_sync *out);
int mm_checkpoint_decode(const void *key, size_t klen, const void *value, size_t vlen,
                         mm_checkpoint *out);
int mm_heartbeat_decode(const void *key, size_t klen, const void *value, size_t vlen,
                        mm_heartbeat *out);

#endif
