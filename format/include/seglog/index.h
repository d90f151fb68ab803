/*
 * seglog/index.h - Kafka's segment index files, parsed from memory: the offset
 * index (.index, 8-byte entries), the time index (.timeindex, 12-byte entries)
 * and the aborted-transaction index (.txnindex, 34-byte entries).
 *
 * These are the (pointer, length) parsers that dump and verify tools use; the
 * log itself keeps its index files open through the same entry codecs.  Nothing
 * here does I/O or allocates.  Layouts: docs/FORMAT.md, "Indexes".
 *
 * Relative offsets: both the offset and the time index store int32 offsets
 * relative to the segment's base offset (the number in the file name); the
 * functions below take that base and return absolute offsets.
 */
#ifndef SEGLOG_INDEX_H
#define SEGLOG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_OFFSET_INDEX_ENTRY_SIZE 8
#define SL_TIME_INDEX_ENTRY_SIZE 12
#define SL_TXN_INDEX_ENTRY_SIZE 34

/* One offset index entry: the last offset of a batch and the byte position in
 * the .log where that batch starts. */
typedef struct sl_offset_position {
  int64_t offset;
  int64_t position;
} sl_offset_position;

/* One time index entry: the largest timestamp seen so far in the segment and the
 * (last) offset of the batch that carried it. */
typedef struct sl_timestamp_offset {
  int64_t timestamp;
  int64_t offset;
} sl_timestamp_offset;

/* One .txnindex entry (AbortedTxn). */
typedef struct sl_aborted_txn {
  int16_t version; /* 0 */
  int64_t producer_id;
  int64_t first_offset;
  int64_t last_offset; /* offset of the ABORT marker */
  int64_t last_stable_offset;
} sl_aborted_txn;

/*
 * Entry i of an index image of `len` bytes.  SL_ETRUNCATED if the entry does not
 * lie entirely inside the image.  No ordering checks (see the counters below).
 */
int sl_offset_index_entry(const uint8_t *p, size_t len, size_t i, int64_t base_offset,
                          sl_offset_position *out);
int sl_time_index_entry(const uint8_t *p, size_t len, size_t i, int64_t base_offset,
                        sl_timestamp_offset *out);
/* Also checks the version: a version above 0 is SL_EUNSUPPORTED (as Kafka). */
int sl_txn_index_entry(const uint8_t *p, size_t len, size_t i, sl_aborted_txn *out);

/* Encoders (the exact bytes Kafka writes).  Callers check the relative offset
 * range (0..INT32_MAX) first. */
void sl_offset_index_encode(uint8_t out[SL_OFFSET_INDEX_ENTRY_SIZE], int64_t base_offset,
                            int64_t offset, int32_t position);
void sl_time_index_encode(uint8_t out[SL_TIME_INDEX_ENTRY_SIZE], int64_t base_offset,
                          int64_t timestamp, int64_t offset);
void sl_txn_index_encode(uint8_t out[SL_TXN_INDEX_ENTRY_SIZE], const sl_aborted_txn *t);

/*
 * Entry counts.  Kafka treats every slot of an inactive (trimmed) index file as
 * an entry: count = len / entry size.  The active segment's index of a live or
 * crashed writer is preallocated and zero-filled past the last entry, so the
 * `live` counters stop at the first entry that is not strictly greater than the
 * previous one (offset index: offset and position; time index: timestamp, with
 * a non-decreasing offset), or at an all-zero first entry.
 */
size_t sl_offset_index_count(size_t len);
size_t sl_time_index_count(size_t len);
size_t sl_offset_index_live_count(const uint8_t *p, size_t len);
size_t sl_time_index_live_count(const uint8_t *p, size_t len);

/*
 * Kafka's sanity checks (the ones `kafka-dump-log --index-sanity-check` runs):
 * length a multiple of the entry size; the last entry's offset >= base offset;
 * time index: last timestamp >= first timestamp; txn index: version 0 and every
 * last offset >= base offset.  SL_ECORRUPT with the byte position in diag.
 */
int sl_offset_index_sanity_check(const uint8_t *p, size_t len, int64_t base_offset,
                                 sl_diag *diag);
int sl_time_index_sanity_check(const uint8_t *p, size_t len, int64_t base_offset,
                               sl_diag *diag);
int sl_txn_index_sanity_check(const uint8_t *p, size_t len, int64_t base_offset,
                              sl_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
