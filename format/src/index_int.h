/*
 * index_int.h - the index files of one segment, as the log keeps them open:
 * the offset index and the time index (sl__index, one type for both kinds) and
 * the aborted-transaction index (sl__txnindex).
 *
 * I/O choice: pread/pwrite through fileio, not mmap.  Only the entry count,
 * the last entry and the newest not yet written entries are kept in memory;
 * lookups binary-search the file with pread (and the pending entries in
 * memory).  Reasons: every write goes through the fault-injection layer; a
 * reader in another process never takes SIGBUS when the writer truncates a
 * file it has mapped; and thousands of inactive indexes cost no address space.
 * The active index is preallocated (ftruncate, sparse zeros) to
 * segment.index.bytes rounded down to the entry size, like Kafka's, and trimmed
 * to entries x size when the segment becomes inactive, is closed or recovered.
 * Layouts and rules: docs/FORMAT.md, "Indexes".
 *
 * Deferred writes: a writable index keeps its newest entries (up to
 * SL__INDEX_PENDING_MAX) in memory and writes them with one pwrite when that
 * many are pending, on flush, trim, resize and close, instead of one pwrite per
 * entry (two syscalls per appended batch otherwise).  The file therefore lags
 * the in-memory index by at most SL__INDEX_PENDING_MAX entries: a reader in
 * another process counts fewer entries (the zero-tail rule stops at the first
 * unwritten slot, which reads as zeros) and scans the log a little further from
 * the last entry it sees; a crash loses the pending entries, which the log's
 * recovery rebuilds with the rest of the unflushed segment (an unflushed
 * segment is always recovered: sl__index_flush writes them before the fsync
 * that lets the recovery point move past them).
 */
#ifndef SEGLOG_INDEX_INT_H
#define SEGLOG_INDEX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "seglog/error.h"
#include "seglog/index.h"

typedef enum sl__index_kind { SL__INDEX_OFFSET, SL__INDEX_TIME } sl__index_kind;

/* sl__index_open flags */
#define SL__IDX_WRITABLE 0x1 /* open read-write (else read-only) */
#define SL__IDX_CREATE 0x2   /* create the file if missing */
#define SL__IDX_LIVE 0x4     /* count entries with the zero-tail heuristic */
#define SL__IDX_PREALLOC 0x8 /* resize the file to the maximum size */
#define SL__IDX_LAZY 0x10    /* open the descriptor on first use (inactive) */

/*
 * Entries are (key, value): offset index (offset, position), time index
 * (timestamp, offset); absolute offsets in memory, relative on disk.
 */
typedef struct sl__index {
  sl__index_kind kind;
  char *path;
  int fd; /* -1 when the file does not exist (read-only open) */
  int64_t base;
  size_t entry_size;
  size_t max_entries;
  size_t entries;
  int64_t last_key; /* valid when entries > 0 */
  int64_t last_val;
  off_t file_len;
  bool writable;
  bool missing;      /* the file did not exist at open */
  bool preallocated; /* sized to the maximum (active), not trimmed */
  bool lazy;         /* the file exists; fd opens on first use */
  /* The last `npending` of `entries`, encoded, not yet written to the file
   * (writable indexes; buffer allocated on first use). */
  uint8_t *pending;
  size_t npending;
} sl__index;

/* Entries a writable index keeps in memory before writing them out. */
#define SL__INDEX_PENDING_MAX 64

/* Whether the index file exists (open or not yet opened). */
static inline bool sl__index_has_file(const sl__index *ix) {
  return ix->fd >= 0 || ix->lazy;
}

int sl__index_open(sl__index *ix, sl__index_kind kind, const char *path, int64_t base,
                   int32_t max_index_bytes, unsigned flags, sl_diag *diag);
/* Writes the pending entries (best effort), closes, frees; zeroed struct ok. */
void sl__index_close(sl__index *ix);

/* Entry i (0 <= i < entries). */
int sl__index_entry(sl__index *ix, size_t i, int64_t *key, int64_t *val, sl_diag *diag);

/*
 * Offset index: appends (offset, position).  The offset must be greater than
 * the last one (SL_EINVALID_OFFSET) and fit the relative range; a full index
 * is SL_ETOO_LARGE.
 */
int sl__index_append_offset(sl__index *ix, int64_t offset, int64_t position,
                            sl_diag *diag);
/*
 * Time index (Kafka's maybeAppend): appends (timestamp, offset) when there is
 * no entry yet or the timestamp is greater than the last one.  A smaller
 * timestamp or offset than the last entry's is SL_EINVALID_TIMESTAMP /
 * SL_EINVALID_OFFSET.  `skip_full_check` is for the final entry on roll/close.
 */
int sl__index_maybe_append_time(sl__index *ix, int64_t timestamp, int64_t offset,
                                bool skip_full_check, sl_diag *diag);

/*
 * Largest entry whose key is <= target.  Returns 1 and fills key/val, or 0 if
 * there is none (then key and val are the Kafka defaults: offset index
 * (base, 0), time index (-1, base)).  Negative on I/O error (writable indexes
 * only: a read-only index is a hint a writer in another process may shrink or
 * rewrite at any time, so an unreadable entry makes it recount the file once
 * and then answer 0; its entries may be stale, callers check them).
 */
int sl__index_lookup(sl__index *ix, int64_t target, int64_t *key, int64_t *val,
                     sl_diag *diag);

/* Removes every entry whose offset is >= offset. */
int sl__index_truncate_to(sl__index *ix, int64_t offset, sl_diag *diag);
/* Keeps the first n entries (zeroing the dropped slots of a preallocated file). */
int sl__index_truncate_entries(sl__index *ix, size_t n, sl_diag *diag);
/* Removes all entries. */
int sl__index_reset(sl__index *ix, sl_diag *diag);
/* Trims the file to entries x entry size. */
int sl__index_trim(sl__index *ix, sl_diag *diag);
/* Sets the file length to max_index_bytes rounded down (preallocation). */
int sl__index_resize(sl__index *ix, int32_t max_index_bytes, sl_diag *diag);
bool sl__index_is_full(const sl__index *ix);
/* Writes the pending entries (no fsync). */
int sl__index_write_pending(sl__index *ix, sl_diag *diag);
/* Writes the pending entries and fsyncs. */
int sl__index_flush(sl__index *ix, sl_diag *diag);
/* Renames the file (the struct follows it). */
int sl__index_rename(sl__index *ix, const char *new_path, sl_diag *diag);
/* Recounts entries of a read-only index (the writer may have appended,
 * trimmed, reset or rewritten it); never fails (an unreadable index counts 0
 * entries).  SL_EINVAL for a writable index. */
int sl__index_refresh(sl__index *ix, sl_diag *diag);

/* ---- .txnindex ---- */
typedef struct sl__txnindex {
  char *path;
  int fd; /* -1 until the first entry creates the file */
  int64_t base;
  size_t entries;
  int64_t last_offset;
  bool writable;
  /* Read-only: last offsets of the entries of the last consistent snapshot
   * (see sl__txnindex_snapshot). */
  int64_t *seen;
  size_t nseen;
} sl__txnindex;

/* Opens an existing file or remembers the path for lazy creation. */
int sl__txnindex_open(sl__txnindex *tx, const char *path, int64_t base, bool writable,
                      sl_diag *diag);
void sl__txnindex_close(sl__txnindex *tx);
/* Appends; last_offset must increase (SL_EINVALID_OFFSET). */
int sl__txnindex_append(sl__txnindex *tx, const sl_aborted_txn *t, sl_diag *diag);
int sl__txnindex_entry(sl__txnindex *tx, size_t i, sl_aborted_txn *t, sl_diag *diag);
/* Drops entries with last_offset >= offset. */
int sl__txnindex_truncate_to(sl__txnindex *tx, int64_t offset, sl_diag *diag);
int sl__txnindex_reset(sl__txnindex *tx, sl_diag *diag);
int sl__txnindex_flush(sl__txnindex *tx, sl_diag *diag);
int sl__txnindex_rename(sl__txnindex *tx, const char *new_path, sl_diag *diag);
/* Kafka's sanity check: version 0 and every last offset >= base. */
int sl__txnindex_sanity_check(sl__txnindex *tx, sl_diag *diag);
/* Read-only: reopens the file if it was created, replaced or removed since,
 * and recounts its entries (a writer in another process may reset, rebuild,
 * truncate or append to it).  Never fails; no-op for a writable index. */
void sl__txnindex_refresh(sl__txnindex *tx);
/*
 * All entries, oldest first, in *out (malloc'd, caller frees; NULL when
 * *n == 0).  Writable: the entries counted in memory.  Read-only: a consistent
 * snapshot of the file as it is now, recounted and read again once if it is
 * short, unreadable, torn (length not a multiple of 34), holds an invalid
 * entry (version, order, below base) or lacks an entry of the previous
 * snapshot with last offset < view_end (the reader's end of this segment:
 * such an entry vanishing while its data is still visible means the writer is
 * rebuilding the file).  Still inconsistent: SL_EINTERRUPTED (retry later,
 * after sl_log_refresh); never a partial list.
 */
int sl__txnindex_snapshot(sl__txnindex *tx, int64_t view_end, sl_aborted_txn **out,
                          size_t *n, sl_diag *diag);

#endif
