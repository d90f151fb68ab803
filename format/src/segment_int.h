/*
 * segment_int.h - one log segment: `<20-digit base>.log` with its `.index`,
 * `.timeindex` and (lazily created) `.txnindex`.
 *
 * A segment is reference counted: the log holds one reference while the
 * segment is in its list, and every read slice handed to a caller holds one, so
 * the .log descriptor stays open (and readable, even after the file was
 * renamed to .deleted and unlinked) until the last slice is released.
 * Lifecycle and rules: docs/FORMAT.md, "Segments" and "Recovery".
 */
#ifndef SEGLOG_SEGMENT_INT_H
#define SEGLOG_SEGMENT_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index_int.h"
#include "seglog/batch.h"
#include "seglog/error.h"

#define SL__SEGMENT_NAME_MAX 4096

/* What the segment needs to know about one batch (v2 or legacy entry). */
typedef struct sl__batch_info {
  int64_t base_offset;
  int64_t last_offset;
  int64_t max_timestamp; /* -1 if none (v0) */
  int32_t size;          /* 12 + batch length */
  int32_t leader_epoch;  /* -1 for legacy */
  int8_t magic;
  int16_t attributes;
  int64_t producer_id;
  int16_t producer_epoch;
  int32_t base_sequence;
  int32_t records_count;
} sl__batch_info;

/*
 * Parses the header fields of the batch at p (len bytes available, at least
 * the whole header).  SL_ETRUNCATED if the header is incomplete, SL_ECORRUPT
 * for a bad length/magic.  Does not check that the whole batch is present.
 */
int sl__batch_info_parse(const uint8_t *p, size_t len, sl__batch_info *bi, sl_diag *diag);

/* sl__segment_open flags */
#define SL__SEG_CREATE 0x1   /* create the files (truncating a stale .log) */
#define SL__SEG_WRITABLE 0x2 /* open for writing */
#define SL__SEG_ACTIVE 0x4   /* preallocate the indexes (the active segment) */
#define SL__SEG_LIVE 0x8     /* count index entries with the zero-tail rule */

typedef struct sl__segment_config {
  int32_t index_interval_bytes;
  int32_t max_index_bytes;
  int32_t segment_bytes; /* preallocation size when `preallocate` */
  bool preallocate;
  int64_t roll_jitter_ms;
} sl__segment_config;

typedef struct sl__segment {
  int64_t base;
  char *dir;
  char *log_path;
  int fd;
  int64_t size; /* bytes of complete batches (a reader: validated bytes) */
  sl__index oindex;
  sl__index tindex;
  sl__txnindex txn;
  sl__segment_config cfg;
  int64_t max_ts; /* largest batch max timestamp so far, -1 if none */
  int64_t offset_of_max_ts;
  int64_t bytes_since_index;
  int64_t rolling_ts; /* max timestamp of the first batch, -1 if none */
  bool rolling_ts_known;
  int64_t created_ms;
  int64_t next_offset; /* last offset + 1 of the last batch; -1 until known */
  bool writable;
  bool deleted;
  atomic_int refs;
  /* A reader's last validated batch (position, base offset, size; pos -1 if
   * none): if it changed, the writer truncated and rewrote the file. */
  int64_t tail_pos;
  int64_t tail_base;
  int32_t tail_size;
} sl__segment;

/*
 * Splits a file name "<digits><suffix>" (1..20 digits, as Java's parseLong reads
 * Kafka's 20-digit names; the suffix starts at the first '.').  Defined in
 * recovery.c; used by every part that lists segment or snapshot files.
 */
bool sl__parse_segment_name(const char *name, int64_t *base, const char **suffix);

/* "<dir>/<20-digit base><suffix>"; SL_EINVAL if it does not fit. */
int sl__segment_file_name(char *out, size_t cap, const char *dir, int64_t base,
                          const char *suffix);

int sl__segment_open(const char *dir, int64_t base, const sl__segment_config *cfg,
                     unsigned flags, int64_t now_ms, sl__segment **out, sl_diag *diag);
void sl__segment_ref(sl__segment *s);
/* Drops a reference; the last one closes the files and frees. NULL ok. */
void sl__segment_unref(sl__segment *s);

/*
 * Appends complete, already validated batches (len bytes; infos describe each
 * of the n batches in order) at the end of the .log and adds index entries by
 * the index.interval.bytes rule, per batch (an entry (last offset, start
 * position) when more than the interval was written since the last entry; the
 * first batch of a segment never gets one).  On failure the file and the
 * indexes are rolled back to their previous state (best effort; the error says
 * so if the rollback failed too).
 */
int sl__segment_append(sl__segment *s, const uint8_t *data, size_t len,
                       const sl__batch_info *infos, size_t n, sl_diag *diag);

/*
 * Reads the header of the batch at pos (up to `limit`, the end of valid data).
 * Returns 1 and fills bi, 0 at the end (fewer than a header's bytes left or
 * an incomplete batch), negative on error/corruption.
 */
int sl__segment_batch_at(sl__segment *s, int64_t pos, int64_t limit, sl__batch_info *bi,
                         sl_diag *diag);

/*
 * Batch header walks through a read-ahead window (one pread per 32 KiB instead
 * of one per batch while batches are small).  Once a batch of at least
 * SL__CURSOR_BIG_BATCH bytes was seen, a miss reads just the next header:
 * with large batches a window would copy their bodies only to find the next
 * header (a walk over 1 MiB of 16 KiB batches read the whole MiB).
 * Stack-allocatable; no cleanup needed.
 */
#define SL__CURSOR_BIG_BATCH 4096
typedef struct sl__batch_cursor {
  sl__segment *s;
  int64_t limit; /* end of valid data */
  int64_t win_pos;
  size_t win_len;
  int32_t last_size; /* size of the last batch parsed, 0 if none */
  uint8_t buf[32768];
} sl__batch_cursor;

void sl__cursor_init(sl__batch_cursor *c, sl__segment *s, int64_t limit);
/* As sl__segment_batch_at, through the window. */
int sl__cursor_batch_at(sl__batch_cursor *c, int64_t pos, sl__batch_info *bi,
                        sl_diag *diag);

/*
 * Finds the first batch whose last offset >= offset, starting the scan at
 * start_pos or at the index's hint, whichever is further.  Returns 1 with the
 * batch's position and info, 0 if there is none in the segment.
 */
int sl__segment_translate_offset(sl__segment *s, int64_t offset, int64_t start_pos,
                                 int64_t *pos, sl__batch_info *bi, sl_diag *diag);

/* Offset of the first batch with max timestamp >= ts and last offset >= start
 * (batch granularity); 1 found, 0 none. */
int sl__segment_find_by_timestamp(sl__segment *s, int64_t ts, int64_t start,
                                  int64_t *offset, int64_t *batch_ts, sl_diag *diag);

/* The segment's largest timestamp (time index last entry / in-memory max), or
 * the .log mtime in ms when there is none. */
int64_t sl__segment_largest_timestamp(sl__segment *s);

/* Next offset after the last batch (scans from the last index entry once). */
int sl__segment_next_offset(sl__segment *s, int64_t *next, sl_diag *diag);

/* Max timestamp of the first batch (segment.ms roll rule); -1 if none. */
int sl__segment_rolling_timestamp(sl__segment *s, int64_t *ts, sl_diag *diag);

/* Called for each valid batch during recovery (leader epochs, producer state).
 * `batch` holds the whole batch. */
typedef int (*sl__segment_batch_cb)(void *ctx, sl__segment *s, const uint8_t *batch,
                                    const sl__batch_info *bi, int64_t pos);

/*
 * Kafka's LogSegment.recover: resets the indexes, walks every batch from the
 * start (complete, size <= max_batch_bytes if > 0, CRC valid, offsets
 * increasing and inside the relative range), rebuilds the indexes, truncates
 * the .log at the first invalid batch and trims the indexes.  *truncated gets
 * the number of bytes cut.  When diag is given it describes the first problem.
 */
int sl__segment_recover(sl__segment *s, sl__segment_batch_cb cb, void *ctx,
                        int64_t *truncated, sl_diag *diag);

/*
 * For a read-only reader: extends `size` over the complete, CRC-valid batches
 * written since (never trusting the file length).  A file that shrank is
 * rescanned from the start.
 */
int sl__segment_refresh(sl__segment *s, sl_diag *diag);

/*
 * A reader's first scan of the last segment: CRC-validates from the last offset
 * index entry (that batch and all before it were written before the entry) to
 * the last complete, valid batch, and sets size and next offset.
 */
int sl__segment_reader_start(sl__segment *s, sl_diag *diag);

/* Removes every batch whose last offset >= offset (whole batches); returns the
 * bytes removed in *removed. */
int sl__segment_truncate_to(sl__segment *s, int64_t offset, int64_t *removed,
                            sl_diag *diag);

/* Roll/close: final time-index entry, trims the indexes (and a preallocated
 * .log) to their exact size. */
int sl__segment_on_become_inactive(sl__segment *s, sl_diag *diag);
/* Re-extends the indexes to the maximum size (the active segment after load). */
int sl__segment_make_active(sl__segment *s, sl_diag *diag);

int sl__segment_flush(sl__segment *s, sl_diag *diag);
/*
 * sl__segment_flush in two halves: under the log's mutex, the index entries
 * still in memory are written and dups of the segment's descriptors (at most
 * 4) are put in fds[*n...]; the caller fsyncs and closes them without the
 * mutex.
 */
int sl__segment_flush_fds(sl__segment *s, int *fds, size_t *n, sl_diag *diag);

/* Renames every file to <name>.deleted (the segment stays readable through its
 * descriptors). */
int sl__segment_rename_deleted(sl__segment *s, sl_diag *diag);
/* Unlinks the (renamed or not) files. */
int sl__segment_delete_files(sl__segment *s, sl_diag *diag);

#endif
