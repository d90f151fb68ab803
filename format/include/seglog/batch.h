/*
 * seglog/batch.h - Kafka record batches: RecordBatch v2 (magic 2) encode and
 * decode, and read-only decoding of legacy magic 0/1 message sets.
 *
 * Layouts are in docs/FORMAT.md ("Record batches").  All parsers take
 * (pointer, length), do no I/O and never trust a length before checking it
 * against the bytes present.
 *
 * Ownership: every pointer inside an sl_record (key, value, headers) is borrowed
 * from either the caller's batch bytes or the reader's internal buffer, and is
 * valid until the next call to sl_batch_reader_open/next/free on that reader.
 */
#ifndef SEGLOG_BATCH_H
#define SEGLOG_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/bytes.h"
#include "seglog/compress.h"
#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- layout constants (byte offsets in a v2 batch) ---- */
#define SL_LOG_OVERHEAD 12 /* baseOffset + batchLength */
#define SL_BATCH_HEADER_SIZE 61
#define SL_BATCH_OFF_BASE_OFFSET 0
#define SL_BATCH_OFF_LENGTH 8
#define SL_BATCH_OFF_LEADER_EPOCH 12
#define SL_BATCH_OFF_MAGIC 16
#define SL_BATCH_OFF_CRC 17
#define SL_BATCH_OFF_ATTRIBUTES 21
#define SL_BATCH_OFF_LAST_OFFSET_DELTA 23
#define SL_BATCH_OFF_BASE_TIMESTAMP 27
#define SL_BATCH_OFF_MAX_TIMESTAMP 35
#define SL_BATCH_OFF_PRODUCER_ID 43
#define SL_BATCH_OFF_PRODUCER_EPOCH 51
#define SL_BATCH_OFF_BASE_SEQUENCE 53
#define SL_BATCH_OFF_RECORDS_COUNT 57
#define SL_BATCH_CRC_START 21 /* CRC-32C covers [21, end) */

/* Legacy message sizes (offset + size + message minimums). */
#define SL_LEGACY_V0_MIN_MESSAGE 14
#define SL_LEGACY_V1_MIN_MESSAGE 22

/* ---- attributes ---- */
#define SL_ATTR_COMPRESSION_MASK 0x07
#define SL_ATTR_LOG_APPEND_TIME 0x08
#define SL_ATTR_TRANSACTIONAL 0x10
#define SL_ATTR_CONTROL 0x20
#define SL_ATTR_DELETE_HORIZON 0x40

#define SL_NO_PRODUCER_ID (-1LL)
#define SL_NO_PRODUCER_EPOCH (-1)
#define SL_NO_SEQUENCE (-1)
#define SL_NO_PARTITION_LEADER_EPOCH (-1)
#define SL_NO_TIMESTAMP (-1LL)

/* Control record types (key: int16 version, int16 type). */
enum {
  SL_CONTROL_ABORT = 0,
  SL_CONTROL_COMMIT = 1,
  SL_CONTROL_LEADER_CHANGE = 2,
  SL_CONTROL_SNAPSHOT_HEADER = 3,
  SL_CONTROL_SNAPSHOT_FOOTER = 4,
  SL_CONTROL_KRAFT_VERSION = 5,
  SL_CONTROL_KRAFT_VOTERS = 6
};

/*
 * The batch header.  For legacy (magic 0/1) entries the reader fills what maps:
 * base_offset = the first (inner) record's absolute offset, last_offset_delta to
 * the last one, batch_length = entry size - 12, magic, crc (the stored CRC-32),
 * attributes (the message's: codec, timestamp type), base_timestamp = the first
 * record's timestamp (-1 for v0), max_timestamp = the message's own timestamp
 * (the wrapper's for compressed sets, -1 for v0), records_count; leader epoch
 * and producer fields are -1.
 */
typedef struct sl_batch_header {
  int64_t base_offset;
  int32_t batch_length; /* bytes after the length field: size - 12 */
  int32_t partition_leader_epoch;
  int8_t magic;
  uint32_t crc;
  int16_t attributes;
  int32_t last_offset_delta;
  int64_t base_timestamp;
  int64_t max_timestamp;
  int64_t producer_id;
  int16_t producer_epoch;
  int32_t base_sequence;
  int32_t records_count;
} sl_batch_header;

static inline int64_t sl_batch_last_offset(const sl_batch_header *h) {
  return h->base_offset + h->last_offset_delta;
}
static inline sl_compression sl_batch_compression(const sl_batch_header *h) {
  return (sl_compression)(h->attributes & SL_ATTR_COMPRESSION_MASK);
}
static inline bool sl_batch_is_control(const sl_batch_header *h) {
  return (h->attributes & SL_ATTR_CONTROL) != 0;
}
static inline bool sl_batch_is_transactional(const sl_batch_header *h) {
  return (h->attributes & SL_ATTR_TRANSACTIONAL) != 0;
}
static inline int32_t sl_batch_size(const sl_batch_header *h) {
  return h->batch_length + SL_LOG_OVERHEAD;
}

/*
 * Peeks at the 17 bytes every batch (v2) and message (v0/v1) starts with.
 * Returns SL_OK and the entry's total size (12 + length) and magic, or
 * SL_ETRUNCATED if fewer than 17 bytes are present, SL_ECORRUPT if the length is
 * below the v0 minimum (14) or the magic is not 0, 1 or 2.  Does not check that
 * `size` bytes are present.
 */
int sl_batch_peek(const uint8_t *p, size_t len, int64_t *base_offset, int32_t *size,
                  int8_t *magic);

/*
 * Decodes a v2 header (needs 61 bytes; does not check the CRC or that the whole
 * batch is present).  Checks magic == 2, batch_length >= 49, records_count >= 0,
 * last_offset_delta >= 0, compression codec <= 4.
 */
int sl_batch_header_decode(const uint8_t *p, size_t len, sl_batch_header *h,
                           sl_diag *diag);

/* CRC-32C of batch bytes [21, size). */
uint32_t sl_batch_crc_compute(const uint8_t *batch, size_t size);

/*
 * Shallow validation of one complete v2 batch of exactly `size` bytes: header
 * sanity as above, size == 12 + batch_length, stored CRC == computed CRC.
 * SL_ECRC on mismatch (diag says stored and computed), SL_ECORRUPT otherwise.
 * Legacy entries are checked with their CRC-32 (IEEE).
 */
int sl_batch_validate(const uint8_t *batch, size_t size, sl_diag *diag);

/* Rewrite fields that the CRC does not cover, in place. */
void sl_batch_set_base_offset(uint8_t *batch, int64_t base_offset);
void sl_batch_set_leader_epoch(uint8_t *batch, int32_t epoch);
/* Rewrite max timestamp and the LogAppendTime bit, then recompute the CRC. */
void sl_batch_set_log_append_time(uint8_t *batch, size_t size, int64_t now_ms);

/* ---- records ---- */
typedef struct sl_header {
  const uint8_t *key;
  int32_t key_len; /* >= 0 */
  const uint8_t *value;
  int32_t value_len; /* -1 = null */
} sl_header;

typedef struct sl_record {
  int64_t offset;    /* absolute */
  int64_t timestamp; /* absolute; LogAppendTime substituted; -1 for magic 0 */
  int8_t attributes; /* the v2 record attributes byte (unused, 0); 0 for legacy */
  const uint8_t *key;
  int32_t key_len; /* -1 = null key */
  const uint8_t *value;
  int32_t value_len; /* -1 = null value (tombstone) */
  const sl_header *headers;
  int32_t header_count;
} sl_record;

/*
 * A parsed control record (key and, for ABORT/COMMIT, value).  sl_control_parse
 * gives SL_ECORRUPT for a key shorter than 4 bytes, a negative version, or an
 * ABORT/COMMIT value shorter than 6 bytes or with a negative version; unknown
 * types parse (callers ignore them) with value_version/coordinator_epoch -1.
 */
typedef struct sl_control {
  int16_t version;
  int16_t type;
  int16_t value_version;     /* ABORT/COMMIT only, else -1 */
  int32_t coordinator_epoch; /* ABORT/COMMIT only, else -1 */
} sl_control;
int sl_control_parse(const sl_record *rec, sl_control *out, sl_diag *diag);

/*
 * The batch reader: decompresses (bounded) and iterates the records of one
 * batch at a time.  Reusable across batches; keeps its buffers.
 */
typedef struct sl_batch_reader sl_batch_reader;

/* max_decompressed: limit on one batch's decompressed records section
 * (0 = 64 MiB default). */
int sl_batch_reader_new(size_t max_decompressed, sl_batch_reader **out);
void sl_batch_reader_free(sl_batch_reader *r); /* NULL ok */

/*
 * Opens one complete batch or legacy entry of exactly `size` bytes (magic 0, 1
 * or 2).  Does not verify the batch CRC (call sl_batch_validate for that).
 * Fills `hdr` (may be NULL).  The batch bytes must stay valid while iterating.
 * A compressed records section (or legacy wrapper value) is decompressed here
 * into the reader's buffer: SL_ETOO_LARGE beyond max_decompressed, SL_ECORRUPT
 * for a bad stream (diag pos 61, or the wrapper value's position).  A legacy
 * wrapper's inner messages are all checked here (structure, same magic, not
 * compressed, CRC-32 -> SL_ECRC, increasing offsets).  A compressed v2 batch
 * with records_count 0 is not decompressed (Kafka never looks at it).
 * Errors leave the reader in an error state until the next open.
 */
int sl_batch_reader_open(sl_batch_reader *r, const uint8_t *batch, size_t size,
                         sl_batch_header *hdr, sl_diag *diag);
/*
 * Next record: 1 with *rec filled, 0 at the end (after checking that the record
 * count and the records section agree exactly), negative error on a malformed
 * record (SL_ECORRUPT; diag pos is the byte position in the batch for
 * uncompressed batches, 61 for compressed ones with the decompressed position in
 * the message).  The error is sticky until the next open.  rec->headers points
 * to an array owned by the reader, valid until the next call.  Offsets are not
 * checked for order here (Kafka validates that on append, not on read).
 */
int sl_batch_reader_next(sl_batch_reader *r, sl_record *rec, sl_diag *diag);

/* ---- building v2 batches ---- */
typedef struct sl_batch_builder_opts {
  sl_compression compression;
  int level; /* SL_COMPRESSION_LEVEL_DEFAULT */
  int64_t base_offset;
  int32_t partition_leader_epoch;
  int64_t producer_id;
  int16_t producer_epoch;
  int32_t base_sequence;
  bool transactional;
  bool control;
  bool log_append_time;      /* timestamp type bit */
  int64_t delete_horizon_ms; /* >= 0: set bit 6, baseTimestamp = this */
  int32_t last_offset_delta; /* >= 0: override (the cleaner keeps it) */
  int64_t max_timestamp;     /* != -1: override the computed max timestamp */
} sl_batch_builder_opts;

typedef struct sl_batch_builder sl_batch_builder;

void sl_batch_builder_opts_init(sl_batch_builder_opts *o); /* Kafka's "none" values */
int sl_batch_builder_new(const sl_batch_builder_opts *o, sl_batch_builder **out);
void sl_batch_builder_free(sl_batch_builder *b); /* NULL ok */
/* Starts a new batch with new options, keeping memory. */
void sl_batch_builder_reset(sl_batch_builder *b, const sl_batch_builder_opts *o);
/*
 * Appends a record at the next offset: base_offset for the first, else the last
 * offset + 1 (key_len/value_len -1 = null; a header key may not be null).  The
 * data is copied.  The first record's timestamp becomes baseTimestamp unless a
 * delete horizon is set.  SL_EINVAL for bad lengths or pointers,
 * SL_EINVALID_OFFSET when the offset delta would exceed INT32_MAX.
 */
int sl_batch_builder_add(sl_batch_builder *b, int64_t timestamp, const void *key,
                         int32_t key_len, const void *value, int32_t value_len,
                         const sl_header *headers, int32_t header_count);
/* Appends a record at an explicit absolute offset (must be >= base_offset and
 * strictly above the previous one, else SL_EINVALID_OFFSET), keeping
 * rec->attributes; used by the cleaner and by copy tools. */
int sl_batch_builder_add_record(sl_batch_builder *b, const sl_record *rec);
int32_t sl_batch_builder_count(const sl_batch_builder *b);
/* Uncompressed bytes so far, header included: for size-based batching. */
size_t sl_batch_builder_size(const sl_batch_builder *b);
/*
 * Appends the finished batch to `out` (on error `out` is left as it was); the
 * builder can then be reset.  Header: attributes from the options (codec,
 * LogAppendTime, transactional, control, delete horizon), lastOffsetDelta =
 * override or last - base (an override below that is SL_EINVAL), maxTimestamp
 * = override or the largest record timestamp, CRC-32C over [21, end).  With
 * no records: SL_EINVAL unless last_offset_delta is overridden, then an empty
 * 61-byte batch (no codec, no delete horizon, baseTimestamp -1, maxTimestamp =
 * the override or -1), as Kafka's DefaultRecordBatch.writeEmptyHeader.
 */
int sl_batch_builder_finish(sl_batch_builder *b, sl_buf *out);

/* Appends a complete COMMIT or ABORT marker batch (one control record, 78
 * bytes, attributes 0x30, baseSequence -1); other types give SL_EINVAL. */
int sl_batch_build_marker(sl_buf *out, int64_t base_offset, int64_t producer_id,
                          int16_t producer_epoch, int type, int32_t coordinator_epoch,
                          int64_t timestamp, int32_t partition_leader_epoch);

#ifdef __cplusplus
}
#endif
#endif
