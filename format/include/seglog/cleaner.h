/*
 * seglog/cleaner.h - Kafka's log cleaner (log compaction, cleanup.policy
 * "compact"): which part of a partition may be cleaned, the key -> latest
 * offset map over the dirty part, and the recopy of segments that keeps the
 * latest record per key, honours tombstones and delete.retention.ms, removes
 * aborted transactional data and spent markers, and swaps the cleaned
 * segments in through `.cleaned` / `.swap` / `.deleted` files so that a crash
 * at any step is repaired by the log's load (docs/FORMAT.md, "Log
 * compaction" and "Recovery").
 *
 * Ownership: every function here borrows its arguments for the duration of
 * the call only.  Nothing keeps global state.
 */
#ifndef SEGLOG_CLEANER_H
#define SEGLOG_CLEANER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/error.h"
#include "seglog/log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kafka's topic/broker configs that drive the cleaner (Kafka names). */
typedef struct sl_cleaner_opts {
  int64_t dedupe_buffer_size;       /* log.cleaner.dedupe.buffer.size = 134217728 */
  double dedupe_load_factor;        /* log.cleaner.io.buffer.load.factor = 0.9 */
  int64_t delete_retention_ms;      /* delete.retention.ms = 86400000 */
  double min_cleanable_dirty_ratio; /* min.cleanable.dirty.ratio = 0.5 */
  int64_t min_compaction_lag_ms;    /* min.compaction.lag.ms = 0 */
  int64_t max_compaction_lag_ms;    /* max.compaction.lag.ms = INT64_MAX */
  int32_t segment_bytes;            /* segment.bytes: grouping limit = 1073741824 */
  int32_t segment_index_bytes;      /* segment.index.bytes = 10485760 */
  int32_t index_interval_bytes;     /* index.interval.bytes = 4096 */
  int32_t max_message_bytes;        /* largest batch accepted = 1048588 */
  /* Wall clock in ms (tombstone horizons, compaction lags); 0 = now. */
  int64_t now_ms;
  /* From cleaner-offset-checkpoint; -1 = none (start at the log start). */
  int64_t first_dirty_offset;
  /* Last stable offset (<= HW); -1 = unknown (no limit below the LEO). */
  int64_t last_stable_offset;
  /* Clean even when the dirty ratio is below min.cleanable.dirty.ratio (as
   * long as there is something cleanable). */
  bool force;
} sl_cleaner_opts;

/* Kafka's defaults. */
void sl_cleaner_opts_init(sl_cleaner_opts *o);

/* One segment as the planner sees it (oldest first, the last is active). */
typedef struct sl_cleaner_segment {
  int64_t base_offset;
  int64_t size_bytes;
  int64_t largest_timestamp;     /* time index last entry, else mtime (ms) */
  int64_t first_batch_timestamp; /* max timestamp of the first batch, -1 none */
} sl_cleaner_segment;

/* Kafka's LogToClean figures. */
typedef struct sl_cleaner_plan {
  int64_t first_dirty_offset;       /* after the out-of-range reset */
  bool checkpoint_reset;            /* the checkpoint was out of range */
  int64_t first_uncleanable_offset; /* a segment base offset */
  int64_t clean_bytes;              /* segments below first dirty */
  int64_t cleanable_bytes;          /* segments in [first dirty, first uncleanable) */
  double cleanable_ratio;           /* cleanable / (clean + cleanable), 0 if empty */
  int64_t max_compaction_delay_ms;  /* > 0: max.compaction.lag.ms forces a clean */
  bool should_clean;
} sl_cleaner_plan;

/*
 * Pure computation (no I/O) of Kafka's cleanableOffsets/LogToClean: segs[0..n)
 * oldest first, the last one active; log_start/log_end the log's offsets.
 * SL_EINVAL when n == 0.
 */
int sl_cleaner_plan_compute(const sl_cleaner_segment *segs, size_t n, int64_t log_start,
                            int64_t log_end, const sl_cleaner_opts *o,
                            sl_cleaner_plan *plan);

/* What one cleaning round did (for `seglog compact`, logs and benchmarks). */
typedef struct sl_cleaner_stats {
  sl_cleaner_plan plan;
  bool cleaned;           /* false: nothing to do (plan.should_clean false) */
  int64_t end_offset;     /* the new cleaner-offset-checkpoint value */
  bool map_full;          /* the dedupe buffer stopped the round early */
  int64_t map_entries;    /* distinct keys in the offset map */
  double map_utilization; /* entries / slots */
  int64_t map_bytes_read; /* dirty bytes scanned to build the map */
  int64_t map_records_read;
  int32_t segments_before; /* segments rewritten */
  int32_t segments_after;  /* cleaned segments swapped in */
  int64_t bytes_before;    /* bytes of the rewritten segments */
  int64_t bytes_after;
  int64_t records_before; /* records read from the rewritten segments */
  int64_t records_after;  /* records kept */
  int64_t batches_copied; /* untouched batches copied byte for byte */
  int64_t batches_rewritten;
  int64_t batches_emptied; /* kept as empty 61-byte headers */
  int64_t batches_dropped;
  int64_t invalid_records;    /* records without a key (dropped) */
  int64_t tombstones_dropped; /* past their delete horizon */
  int64_t aborted_records_dropped;
  int64_t markers_dropped;
  int64_t duration_us;
  double mb_per_s; /* bytes_before / duration */
} sl_cleaner_stats;

/*
 * Cleans the partition dir `dir` once (one Kafka cleaning round) when no
 * writer has it open: the caller holds the log dir lock (or the log is
 * closed).  Reads the segments and their .txnindex files, computes the plan,
 * and if it says so (or opts->force) builds the offset map from the first
 * dirty offset, recopies the segments [log start, map end) in groups and
 * swaps them in.  A crash at any point leaves files that the log's load
 * repairs (.cleaned deleted, complete .swap sets renamed in).  The first
 * dirty offset and the checkpoint update work as for sl_log_compact (below).
 * The plan's LSO comes from the open transactions found in the log, bounded
 * by o->last_stable_offset (pass the HW when known).  Errors: SL_ECRC /
 * SL_ECORRUPT for a damaged inactive segment (diag names the file and
 * position; nothing is changed), SL_ETOO_LARGE when the dedupe buffer cannot
 * hold one key, I/O errors.  stats may be NULL.
 */
int sl_cleaner_clean_dir(const char *dir, const sl_cleaner_opts *o,
                         sl_cleaner_stats *stats, sl_diag *diag);

/*
 * The plan for `dir` without cleaning (read-only, no lock needed; for tools
 * and the broker's cleaner scheduling).  o may be NULL (defaults); the first
 * dirty offset comes from cleaner-offset-checkpoint as for cleaning.
 */
int sl_cleaner_plan_dir(const char *dir, const sl_cleaner_opts *o, sl_cleaner_plan *plan,
                        sl_diag *diag);

/*
 * One cleaning round on an open, writable log.  The round reads and writes
 * without the log's mutex, so appends and reads go on; each cleaned group is
 * swapped in under the mutex after checking that its source segments are
 * unchanged (else SL_ENOT_FOUND: retention or truncation got there first,
 * nothing swapped for that group, retry later).  One compaction at a time
 * per log (callers serialize, as Kafka's cleaner manager does), and the log
 * must not be closed meanwhile.  Topic configs come from the log's config
 * when `o` is NULL (else from `o`: see sl_cleaner_opts_from_log_config); the
 * round never cleans at or past the high watermark.  Replaced segments leave
 * the log's list and are renamed *.deleted and removed after
 * file.delete.delay.ms, so slices held by readers stay readable.  A failure
 * after segments were swapped latches the log (SL_EFAILED); reopening repairs
 * the directory.  SL_EREADONLY for a reader.
 *
 * Both this and sl_cleaner_clean_dir read the first dirty offset from
 * `<log dir>/cleaner-offset-checkpoint` when o->first_dirty_offset is -1, and
 * store the round's end offset there after cleaning, when the partition dir
 * is named `topic-N` (otherwise the caller keeps stats->end_offset and passes
 * it as first_dirty_offset next time).
 */
int sl_log_compact(sl_log *log, const sl_cleaner_opts *o, sl_cleaner_stats *stats,
                   sl_diag *diag);

/* Copies the topic configs of a log config (delete.retention.ms,
 * min.cleanable.dirty.ratio, compaction lags, segment.bytes, ...) into o. */
void sl_cleaner_opts_from_log_config(sl_cleaner_opts *o, const sl_log_config *cfg);

/*
 * This partition's entry of `<parent of dir>/cleaner-offset-checkpoint`:
 * *offset = -1 when absent (or dir is not named `topic-N`).
 */
int sl_cleaner_checkpoint_read(const char *dir, int64_t *offset, sl_diag *diag);
/* Sets this partition's entry (other partitions' lines are kept), atomically
 * and durably. */
int sl_cleaner_checkpoint_update(const char *dir, int64_t offset, sl_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
