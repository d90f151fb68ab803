/*
 * log_int.h - the partition log's internal state, shared by log.c (open,
 * append, read, roll, truncate, flush, close), recovery.c (loading, crash
 * recovery, verify), retention.c (retention and deferred deletion) and lock.c
 * (the log dir lock).  Design: docs/FORMAT.md, "Segments", "Recovery",
 * "Retention".
 */
#ifndef SEGLOG_LOG_INT_H
#define SEGLOG_LOG_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "seglog/epoch.h"
#include "seglog/log.h"
#include "seglog/pstate.h"
#include "segment_int.h"

struct sl_dir_lock {
  atomic_int refs;
  int fd;
  char *path;
};

/* A segment renamed *.deleted, removed once the deadline passes. */
typedef struct sl__pending_delete {
  sl__segment *seg; /* one reference */
  int64_t deadline_ms;
} sl__pending_delete;

struct sl_log {
  pthread_mutex_t mu;
  char *dir;
  sl_log_config cfg;
  unsigned flags;
  bool readonly;
  sl_dir_lock *lock;
  sl__segment **segs; /* sorted by base offset; the last one is active */
  size_t nsegs, capsegs;
  int64_t log_start;
  int64_t leo;
  int64_t hw;
  int64_t recovery_point;
  /* roll_flush_async: the recovery point sl_log_flush_rolled moves to. */
  int64_t rolled_to;
  uint64_t trunc_gen; /* bumped by every truncation (sl_log_flush_rolled) */
  int32_t latest_epoch;
  bool failed;
  int64_t last_flush_ms;
  sl__pending_delete *pending;
  size_t npending, cappending;
  uint64_t rng;
  sl_log_load_report report;
  sl_epoch_cache *epochs; /* leader-epoch-checkpoint */
  sl_pstate *ps;          /* producer state (writers only) */
};

int64_t sl__now_ms(void);
/* Copies path into diag->path (truncating); diag may be NULL. */
void sl__diag_path(sl_diag *diag, const char *path);
/* Segment settings for a new/opened segment (draws the roll jitter). */
void sl__log_segment_config(sl_log *log, sl__segment_config *sc);
/* Inserts in base-offset order (takes over the caller's reference). */
int sl__log_add_segment(sl_log *log, sl__segment *s, sl_diag *diag);
/* Removes segs[i] from the list (returns the log's reference to the caller). */
sl__segment *sl__log_remove_segment_at(sl_log *log, size_t i);
/* Renames the segment's files *.deleted and schedules their removal after
 * file.delete.delay.ms (immediately if 0); consumes the reference. */
int sl__log_schedule_delete(sl_log *log, sl__segment *s, int64_t now_ms, sl_diag *diag);
/* Latches the log failed after an unrecoverable I/O error; returns
 * SL_EFAILED and keeps the cause in diag. */
int sl__log_latch(sl_log *log, int rc, sl_diag *diag);
/* Rolls with the lock held: new active segment at max(expected, LEO). */
int sl__log_roll_locked(sl_log *log, int64_t expected_next, int64_t now_ms,
                        sl_diag *diag);
int sl__log_flush_locked(sl_log *log, int64_t offset, sl_diag *diag);
/* Recomputes the LEO and latest epoch from the last segment. */
int sl__log_update_end(sl_log *log, sl_diag *diag);

/* The control record of a control batch (*has false for an empty one). */
int sl__batch_marker(const uint8_t *batch, size_t size, sl_control *ctl, bool *has,
                     sl_diag *diag);
/* Writes .txnindex entries for the aborted transactions among txns into s. */
int sl__log_add_aborted(sl__segment *s, const sl_pstate_txn *txns, size_t n,
                        sl_diag *diag);
/* recovery.c: replays producer state from the batches in [from, to). */
int sl__log_replay(sl_log *log, int64_t from, int64_t to, sl_diag *diag);
/* recovery.c: Kafka's rebuildProducerState up to `end`: reload the newest
 * snapshot <= end, then replay. */
int sl__log_rebuild_pstate(sl_log *log, int64_t end, int64_t now_ms, sl_diag *diag);

/* recovery.c: loads the partition dir (LogLoader); readonly skips all writes. */
int sl__log_load(sl_log *log, const sl_log_open_opts *opts, sl_diag *diag);
/* recovery.c: refresh for read-only logs. */
int sl__log_refresh_locked(sl_log *log, sl_diag *diag);
/* Parses "<20 digits><suffix>" names; returns true with the base offset and
 * the suffix start. */
/* SL_EREADONLY or SL_EFAILED (with detail) when the log refuses writes; call
 * with log->mu held. */
int sl__log_check_writable(const sl_log *log, sl_diag *diag);

/*
 * retention.c: the pending deletions whose deadline passed (all if force), in
 * two halves so that the unlinks (a 1 GiB file takes a while) can run without
 * the log's mutex: sl__log_take_due (mutex held) moves them out of the
 * pending list into *out (NULL, 0 when none; if that array cannot be
 * allocated it deletes them at once); sl__log_delete_taken (mutex not needed)
 * deletes their files, drops them and frees the array.
 * sl__log_process_pending does both at once (mutex held).
 */
int sl__log_take_due(sl_log *log, int64_t now_ms, bool force, sl__segment ***out,
                     size_t *n, sl_diag *diag);
int sl__log_delete_taken(sl__segment **segs, size_t n, sl_diag *diag);
int sl__log_process_pending(sl_log *log, int64_t now_ms, bool force, sl_diag *diag);

#endif
