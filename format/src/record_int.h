/*
 * record_int.h - internals shared by the batch reader (record.c) and the
 * legacy magic 0/1 decoder (legacy.c).  Layouts: docs/FORMAT.md, "Record
 * batches" and "Legacy messages".
 */
#ifndef SEGLOG_RECORD_INT_H
#define SEGLOG_RECORD_INT_H

#include "seglog/batch.h"

/* One decoded legacy message (borrowed pointers into the entry bytes). */
typedef struct sl__legacy_msg {
  int64_t offset;
  uint32_t crc;
  int8_t magic;
  int8_t attributes;
  int64_t timestamp; /* -1 for v0 */
  const uint8_t *key;
  int32_t key_len; /* -1 = null */
  const uint8_t *value;
  int32_t value_len; /* -1 = null */
} sl__legacy_msg;

/*
 * Iteration state of one legacy entry: either a single plain message or the
 * inner message set of a compressed wrapper (held in `inner`, decompressed,
 * owned by the caller's scratch buffer).
 */
typedef struct sl__legacy_iter {
  const uint8_t *inner; /* inner message set, or the entry itself */
  size_t inner_len;
  size_t pos;       /* next entry in `inner` */
  bool wrapped;     /* a compressed wrapper */
  bool append_time; /* v1 wrapper with LogAppendTime */
  int8_t magic;
  int64_t offset_shift; /* added to each inner offset (v1 relative offsets) */
  int64_t wrapper_ts;
  int32_t remaining;
  bool plain_done;
} sl__legacy_iter;

int sl__legacy_validate(const uint8_t *entry, size_t size, sl_diag *diag);

/*
 * Parses one legacy entry (offset, size, message) from [p, p+len); it must
 * fit.  `base` is the position of p for diagnostics, `what` names the
 * context ("message", "inner message").  *consumed = 12 + messageSize.
 */
int sl__legacy_parse(const uint8_t *p, size_t len, size_t *consumed, sl__legacy_msg *m,
                     int64_t base, const char *what, sl_diag *diag);

/*
 * Opens a legacy entry of exactly `size` bytes: decompresses a wrapper into
 * `scratch` (at most `max` bytes), checks the inner messages and fills `h`.
 */
int sl__legacy_open(sl__legacy_iter *it, sl_buf *scratch, size_t max,
                    const uint8_t *entry, size_t size, sl_batch_header *h, sl_diag *diag);
/* 1 with *rec filled, 0 at the end, or a negative error. */
int sl__legacy_next(sl__legacy_iter *it, sl_record *rec, sl_diag *diag);

#endif
