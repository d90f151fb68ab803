/*
 * seglog/log.h - the partition log: a directory of Kafka segments
 * (`<topic>-<partition>/`) that the broker, the CLI, the FUSE mount and the
 * mirror all read and write through.
 *
 * What it does, in Kafka's terms (docs/FORMAT.md, "Segments", "Recovery",
 * "Retention"):
 *  - load and crash recovery as Kafka's LogLoader (temp files, swaps, orphan
 *    indexes, recovery from the recovery point, torn tails);
 *  - append (leader: assign offsets, leader epoch, LogAppendTime; follower:
 *    keep offsets) with Kafka's roll rules;
 *  - zero-copy reads as (fd, position, length) slices of whole batches, bounded
 *    by a max offset (the high watermark);
 *  - ListOffsets lookups, retention, truncation for replication,
 *    DeleteRecords, flush with a recovery point, clean close;
 *  - a leader epoch, log start offset, high watermark and log end offset per
 *    partition.
 *
 * Concurrency: one writer process per log dir (an fcntl lock on
 * `<logdir>/.lock`, compatible with Kafka's own lock); inside the process an
 * sl_log may be used from several threads (one mutex).  Readers in other
 * processes open the log read-only (no lock) and call sl_log_refresh to see new
 * data; they never trust a file's length and stop at the last complete,
 * CRC-valid batch.
 *
 * Durability: a failed fsync (or a write that could not be rolled back)
 * latches the log into SL_EFAILED: every later write, flush or roll returns
 * SL_EFAILED, and fsync is never retried.  Reads keep working.
 */
#ifndef SEGLOG_LOG_H
#define SEGLOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/bytes.h"
#include "seglog/error.h"
#include "seglog/index.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration (Kafka topic-config names and defaults) ---- */

typedef enum sl_timestamp_type {
  SL_TIMESTAMP_CREATE_TIME = 0,
  SL_TIMESTAMP_LOG_APPEND_TIME = 1
} sl_timestamp_type;

#define SL_CLEANUP_DELETE 0x1u
#define SL_CLEANUP_COMPACT 0x2u

typedef struct sl_log_config {
  int32_t segment_bytes;                    /* segment.bytes = 1073741824 */
  int64_t segment_ms;                       /* segment.ms = 604800000 */
  int64_t segment_jitter_ms;                /* segment.jitter.ms = 0 */
  int32_t segment_index_bytes;              /* segment.index.bytes = 10485760 */
  int32_t index_interval_bytes;             /* index.interval.bytes = 4096 */
  int64_t retention_ms;                     /* retention.ms = 604800000, -1 off */
  int64_t retention_bytes;                  /* retention.bytes = -1 (off) */
  int32_t max_message_bytes;                /* max.message.bytes = 1048588 */
  sl_timestamp_type message_timestamp_type; /* message.timestamp.type */
  int64_t flush_messages;                   /* flush.messages = INT64_MAX */
  int64_t flush_ms;                         /* flush.ms = INT64_MAX */
  int64_t file_delete_delay_ms;             /* file.delete.delay.ms = 60000 */
  bool preallocate;                         /* preallocate = false */
  unsigned cleanup_policy;                  /* cleanup.policy = delete */
  int64_t delete_retention_ms;              /* delete.retention.ms = 86400000 */
  double min_cleanable_dirty_ratio;         /* min.cleanable.dirty.ratio = 0.5 */
  int64_t min_compaction_lag_ms;            /* min.compaction.lag.ms = 0 */
  int64_t max_compaction_lag_ms;            /* max.compaction.lag.ms = INT64_MAX */
  /* Not a Kafka config.  false (the default): a roll fsyncs the segments
   * below the new one before it returns, and the recovery point moves to the
   * new base.  true: the roll only records that they need it, and the owner
   * calls sl_log_flush_rolled later, off its request path, as Kafka's roll
   * schedules that flush on its scheduler thread. */
  bool roll_flush_async;
} sl_log_config;

/* Kafka's defaults. */
void sl_log_config_init(sl_log_config *c);
/*
 * Sets one topic config by its Kafka name ("segment.bytes", "cleanup.policy" =
 * "delete" | "compact" | "compact,delete", "message.timestamp.type" =
 * "CreateTime" | "LogAppendTime", "preallocate" = "true" | "false", ...).
 * Unknown name: SL_ENOT_FOUND; bad value: SL_EINVAL (diag says why).
 */
int sl_log_config_set(sl_log_config *c, const char *name, const char *value,
                      sl_diag *diag);
/* Range checks as Kafka's LogConfig (segment.bytes >= 14, ...). */
int sl_log_config_validate(const sl_log_config *c, sl_diag *diag);

/* ---- the log dir lock ---- */

/*
 * One writer per log dir (the directory holding the partition dirs): an
 * fcntl open-file-description write lock on `<logdir>/.lock`.  It conflicts
 * with Kafka's lock on the same file.  A process that opens several
 * partitions of one log dir acquires the lock once and passes it in
 * sl_log_open_opts.lock (the log keeps its own reference).  Our pid is
 * written into the file (Kafka ignores the content) so a second writer's
 * SL_ELOCKED message can name the holder.
 */
typedef struct sl_dir_lock sl_dir_lock;
int sl_dir_lock_acquire(const char *logdir, sl_dir_lock **out, sl_diag *diag);
/* Drops this reference; the last one unlocks.  NULL ok. */
void sl_dir_lock_release(sl_dir_lock *lock);

/* ---- open / close ---- */

typedef struct sl_log sl_log;

#define SL_LOG_CREATE 0x1u   /* create the partition dir and a first segment */
#define SL_LOG_READONLY 0x2u /* reader: no lock, no recovery, no writes */

typedef struct sl_log_open_opts {
  /* From recovery-point-offset-checkpoint; 0 if unknown (recover all). */
  int64_t recovery_point;
  /* From log-start-offset-checkpoint; -1 if unknown (first segment base). */
  int64_t log_start_offset;
  /* From replication-offset-checkpoint; -1 if unknown.  Clamped to
   * [log start, LEO]. */
  int64_t high_watermark;
  /* .kafka_cleanshutdown was present: skip recovery (Kafka's rule). */
  bool clean_shutdown;
  /* Wall clock for segment creation times; 0 = now. */
  int64_t now_ms;
  /* The log dir lock to share, or NULL to acquire one (writers only). */
  sl_dir_lock *lock;
} sl_log_open_opts;

void sl_log_open_opts_init(sl_log_open_opts *o);

/* What loading did (for logs and tests). */
typedef struct sl_log_load_report {
  int32_t segments;           /* segments after loading */
  int32_t segments_recovered; /* segments run through recovery */
  int64_t bytes_truncated;    /* torn or corrupt bytes cut */
  int32_t segments_deleted;   /* later segments deleted after a truncation */
  int32_t temp_files_deleted; /* .deleted / .cleaned / orphan indexes */
  int32_t swaps_completed;    /* .swap files renamed in */
  int64_t first_bad_position; /* where the first truncation happened, or -1 */
  char first_bad_file[256];
} sl_log_load_report;

/*
 * Opens (and with SL_LOG_CREATE creates) the partition dir `dir`.  `cfg` is
 * copied (NULL = defaults); `opts` may be NULL (defaults).  A writer takes the
 * log dir lock (SL_ELOCKED naming the holder if taken), cleans up temp files
 * and recovers as Kafka's LogLoader does.  On success *out owns the log.
 */
int sl_log_open(const char *dir, const sl_log_config *cfg, unsigned flags,
                const sl_log_open_opts *opts, sl_log **out, sl_diag *diag);

/*
 * Clean close: final time-index entries, trimmed indexes, flush (advancing
 * the recovery point to the LEO), lock released.  The log is freed even if
 * this returns an error (then the shutdown was not clean: callers should not
 * write .kafka_cleanshutdown).  Slices still held stay readable.  NULL ok.
 */
int sl_log_close(sl_log *log, sl_diag *diag);

/*
 * Replaces the log's topic config (Kafka applies an altered topic config to
 * the open log at once).  Validated first (SL_EINVAL, nothing changed).
 * Retention, roll, flush, max.message.bytes, timestamp type, cleanup policy
 * and the compaction settings apply from the next call that uses them; the
 * segment sizing keys (segment.index.bytes, index.interval.bytes,
 * preallocate, segment jitter) apply to segments created from now on, as in
 * Kafka.  SL_EREADONLY for a reader.
 */
int sl_log_set_config(sl_log *log, const sl_log_config *cfg, sl_diag *diag);
/* A copy of the log's current topic config. */
void sl_log_get_config(sl_log *log, sl_log_config *out);

/* Reports of the last open. */
void sl_log_load_report_get(const sl_log *log, sl_log_load_report *r);

/* ---- append ---- */

#define SL_APPEND_LEADER 0x0u   /* assign offsets from the LEO, set the epoch */
#define SL_APPEND_FOLLOWER 0x1u /* keep offsets (replication, mirror, import) */
/* Leader append of transaction markers written by the coordinator (WriteTxnMarkers):
 * producer-state checks of origin COORDINATOR instead of CLIENT. */
#define SL_APPEND_COORDINATOR 0x2u
/* Leader append of a producer's Produce request: also Kafka's client rules
 * (LogValidator): record count == offset range > 0, a sequence with a
 * producer id, no control batches, consecutive record offsets, keys on
 * compacted topics.  Violations: SL_EINVALID_RECORD (nothing written). */
#define SL_APPEND_CLIENT 0x4u
/* The batches were built in this process by sl_batch_builder (or come from
 * a log this process verified): the CRC-32C check and the record-level parse
 * are skipped; header sanity, sizes, offsets and producer state are still
 * checked.  Never set it for bytes that crossed a process boundary (a
 * client's Produce request, a file, a pipe): a corrupt batch would be
 * written as it is. */
#define SL_APPEND_TRUSTED 0x8u

typedef struct sl_append_info {
  int64_t first_offset;    /* base offset of the first batch */
  int64_t last_offset;     /* last offset of the last batch */
  int64_t log_append_time; /* LogAppendTime used, or -1 */
  int64_t max_timestamp;   /* over the appended batches, -1 if none */
  int64_t offset_of_max_timestamp;
  int64_t segment_base; /* segment that received the data */
  int64_t position;     /* byte position of the first batch in that segment */
  int64_t log_start_offset;
  int32_t batches;
  int64_t records;
  bool duplicate; /* idempotent retry: offsets are the original ones */
} sl_append_info;

/*
 * Appends one or more complete v2 batches (len bytes).  Each is validated
 * (complete, magic 2, CRC-32C, header sanity, size <= max.message.bytes);
 * nothing is written if any fails (SL_ECRC, SL_ECORRUPT, SL_EUNSUPPORTED,
 * SL_ETOO_LARGE with the batch's position in `data` in diag->pos).
 *
 * Leader appends also parse every record of each data batch (a CRC-valid
 * batch with malformed records is SL_ECORRUPT).
 * Leader (SL_APPEND_LEADER): offsets are assigned from the LEO, the
 * partitionLeaderEpoch is set to `leader_epoch`, and with LogAppendTime the
 * max timestamp is set to now_ms (CRC recomputed) - all in place in `data`.
 * Follower (SL_APPEND_FOLLOWER): offsets are kept and must be increasing and
 * >= the LEO (SL_EINVALID_OFFSET); `leader_epoch` is ignored.
 * Producer state (seglog/pstate.h) checks every batch with a producer id
 * before anything is written: SL_EDUPLICATE_SEQUENCE for a retried batch
 * (nothing written; `info` then holds the ORIGINAL offsets and
 * info->duplicate = true: answer the producer with success and those
 * offsets), SL_EOUT_OF_ORDER_SEQUENCE, SL_EINVALID_PRODUCER_EPOCH,
 * SL_ETRANSACTION_COORDINATOR_FENCED, SL_EINVALID_TXN_STATE.  An ABORT marker
 * adds a .txnindex entry.  A batch with a newer partitionLeaderEpoch is added
 * to the leader-epoch cache (leader-epoch-checkpoint written synchronously).
 * The log rolls first when needed (segment.bytes, segment.ms against the
 * append's max timestamp, a full index, relative offset overflow).
 * Write errors: SL_ENOSPC / SL_EIO with nothing of the append left in the
 * files; if that cleanup fails the log latches SL_EFAILED.
 * now_ms: wall clock (0 = now).  info may be NULL.
 */
int sl_log_append(sl_log *log, uint8_t *data, size_t len, unsigned flags,
                  int32_t leader_epoch, int64_t now_ms, sl_append_info *info,
                  sl_diag *diag);

/*
 * Kafka's flush after a roll (UnifiedLog.roll -> scheduler "flush-log"):
 * fsyncs the segments rolled since the last flush (log, index, time index and
 * transaction index files, then the directory) and moves the recovery point
 * to the newest rolled segment's end.  The log's mutex is not held during the
 * fsyncs, so appends and reads go on; any thread.  A failed fsync latches the
 * log (SL_EFAILED afterwards), as Kafka takes the log dir offline.  SL_OK with
 * nothing to do.  For logs with roll_flush_async.
 */
int sl_log_flush_rolled(sl_log *log, sl_diag *diag);
/* True if a roll left segments for sl_log_flush_rolled. */
bool sl_log_flush_rolled_pending(sl_log *log);

/*
 * The log becomes leader at `leader_epoch` (Kafka's makeLeader ->
 * maybeAssignEpochStartOffset): if the epoch is newer than the cache's latest,
 * (leader_epoch, LEO) is added and leader-epoch-checkpoint written (fsync'd)
 * now, so that the leader's first append does not pay for it.  A no-op for an
 * epoch the cache has, or a log without a leader-epoch cache.
 */
int sl_log_become_leader(sl_log *log, int32_t leader_epoch, sl_diag *diag);

/* ---- read ---- */

/*
 * A zero-copy read result: `length` bytes of whole batches at `position` in
 * the file open as `fd` (for sendfile/pread).  The slice holds a reference on
 * its segment: the fd stays open and readable (even if retention deletes the
 * segment meanwhile) until sl_log_slice_release.  Truncation for replication
 * may still shorten the file under a slice: readers must tolerate a short read.
 */
typedef struct sl_log_slice {
  int fd;               /* -1 when length == 0 */
  int64_t position;     /* byte position in the segment file */
  int64_t length;       /* bytes of whole batches */
  int64_t first_offset; /* base offset of the first batch */
  int64_t next_offset;  /* last offset of the last batch + 1 */
  int64_t segment_base;
  void *ref_; /* private: the segment reference */
} sl_log_slice;

/*
 * Reads from `offset`: whole batches starting with the batch containing it, up
 * to `max_bytes` but always at least that first batch, and only batches whose
 * base offset is below `max_offset` (exclusive; the HW for consumers, -1 =
 * the LEO).  One segment at a time: a slice never spans segments.
 * Returns SL_OK with length 0 when offset == LEO or offset >= max_offset;
 * SL_EOFFSET_OUT_OF_RANGE when offset < log start or > LEO.
 * Release the slice with sl_log_slice_release (also after an empty result).
 */
int sl_log_read(sl_log *log, int64_t offset, int64_t max_bytes, int64_t max_offset,
                sl_log_slice *out, sl_diag *diag);
void sl_log_slice_release(sl_log_slice *s); /* NULL ok, idempotent */
/* The same, copied: appends the batches to `out`; *next_offset (may be NULL) is
 * where the next read should start. */
int sl_log_read_copy(sl_log *log, int64_t offset, int64_t max_bytes, int64_t max_offset,
                     sl_buf *out, int64_t *next_offset, sl_diag *diag);

/* ---- ListOffsets ---- */

#define SL_LIST_LATEST (-1LL)
#define SL_LIST_EARLIEST (-2LL)
#define SL_LIST_MAX_TIMESTAMP (-3LL)
#define SL_LIST_EARLIEST_LOCAL (-4LL)

/*
 * ListOffsets semantics: EARLIEST (and EARLIEST_LOCAL) = log start offset,
 * LATEST = LEO, MAX_TIMESTAMP = the offset of the record with the largest
 * timestamp, otherwise the first offset >= log start whose record timestamp is
 * >= ts.  Fills offset and timestamp (timestamp -1 for EARLIEST/LATEST);
 * SL_ENOT_FOUND when no record qualifies.
 */
int sl_log_find_offset_by_time(sl_log *log, int64_t ts, int64_t *offset,
                               int64_t *timestamp, sl_diag *diag);

/* ---- segments, retention, truncation ---- */

/* Rolls a new active segment at the LEO (no-op if the active one is empty). */
int sl_log_roll(sl_log *log, int64_t now_ms, sl_diag *diag);

typedef struct sl_retention_result {
  int32_t segments_deleted;
  int64_t bytes_deleted;
  int32_t by_start_offset; /* how many each rule deleted */
  int32_t by_bytes;
  int32_t by_time;
  int64_t log_start_offset; /* after */
} sl_retention_result;

/*
 * Kafka's retention pass: deletes oldest segments while (1) the next segment
 * starts at or below the log start offset, (2) retention.bytes is exceeded,
 * (3) the segment's largest timestamp is older than retention.ms (rules 2 and
 * 3 only with cleanup.policy delete).  Never deletes a segment unless the HW
 * is at or past its end; rolls first when every segment would go.  Files are
 * renamed *.deleted and removed after file.delete.delay.ms (sl_log_tick).
 */
int sl_log_retain(sl_log *log, int64_t now_ms, sl_retention_result *res, sl_diag *diag);

/* Replication: removes everything at and above `offset` (LEO = offset when it
 * was below the LEO); HW and recovery point are clamped. */
int sl_log_truncate_to(sl_log *log, int64_t offset, sl_diag *diag);
/* Replication: deletes all segments; the log restarts empty at `offset`
 * (log start = LEO = HW = recovery point = offset). */
int sl_log_truncate_fully_and_start_at(sl_log *log, int64_t offset, sl_diag *diag);
/* DeleteRecords: raises the log start offset to `offset` (<= HW, else
 * SL_EOFFSET_OUT_OF_RANGE); segments below it go at the next sl_log_retain.
 * *new_start (may be NULL) gets the resulting log start offset. */
int sl_log_delete_records(sl_log *log, int64_t offset, int64_t *new_start, sl_diag *diag);

/* ---- durability ---- */

/* fsyncs every segment holding data below `offset` (-1 = LEO) and the
 * directory, then advances the recovery point to `offset`.  A failed fsync
 * latches the log (SL_EFAILED, now and after). */
int sl_log_flush(sl_log *log, int64_t offset, sl_diag *diag);
/* Periodic work: flush.ms, and removal of *.deleted files whose
 * file.delete.delay.ms has passed.  now_ms 0 = now. */
int sl_log_tick(sl_log *log, int64_t now_ms, sl_diag *diag);

/* ---- state ---- */

int64_t sl_log_start_offset(sl_log *log);
int64_t sl_log_end_offset(sl_log *log);
int64_t sl_log_high_watermark(sl_log *log);
/* Sets the HW, clamped to [log start, LEO]; returns the value set. */
int64_t sl_log_set_high_watermark(sl_log *log, int64_t hw);
int64_t sl_log_recovery_point(sl_log *log);
/* Last stable offset: min(first unstable transaction offset, HW). */
int64_t sl_log_last_stable_offset(sl_log *log);
/* The latest leader epoch (the leader-epoch cache's, -1 if none). */
int32_t sl_log_latest_epoch(sl_log *log);
/*
 * OffsetsForLeaderEpoch (Kafka's endOffsetFor, see sl_epoch_cache_end_offset_for):
 * the largest epoch <= requested and the offset where the next epoch starts (or
 * the LEO for the latest epoch); (-1, -1) when unknown.
 */
void sl_log_end_offset_for_epoch(sl_log *log, int32_t requested, int32_t *epoch,
                                 int64_t *end_offset);

/*
 * READ_COMMITTED fetch support: calls cb for every aborted transaction (from
 * the .txnindex files) with last_offset >= fetch_offset and first_offset <
 * upper_bound, oldest first, stopping after an entry whose last stable offset
 * is >= upper_bound (Kafka's collectAbortedTxns).  A non-zero return from cb
 * stops the walk and is returned.  The entries are gathered first and passed
 * to cb only when all were read, so on any error cb has not been called.
 * Read-only logs: a writer in another process may reset, rebuild, truncate or
 * append to a .txnindex at any time.  Each call reads the file as it is now
 * (a recount; sl_log_refresh also recounts), rereading once when it is short,
 * unreadable, torn, holds an invalid entry, or lacks an entry seen before
 * whose data this reader still sees (a rebuild in progress).  If it is still
 * inconsistent the call returns SL_EINTERRUPTED: "retry later" (after
 * sl_log_refresh), never a partial list.  Entries past the reader's view are
 * listed when present and may vanish (the writer truncated that data).
 */
typedef int (*sl_aborted_txn_cb)(void *ctx, const sl_aborted_txn *t);
int sl_log_collect_aborted_txns(sl_log *log, int64_t fetch_offset, int64_t upper_bound,
                                sl_aborted_txn_cb cb, void *ctx, sl_diag *diag);
int64_t sl_log_size_bytes(sl_log *log);
bool sl_log_failed(sl_log *log);
const char *sl_log_dir(const sl_log *log);

typedef struct sl_log_segment_info {
  int64_t base_offset;
  int64_t size_bytes;
  int64_t next_offset;       /* -1 if not known without a scan */
  int64_t largest_timestamp; /* time index / mtime */
} sl_log_segment_info;

/* Fills up to cap entries (oldest first); returns the number of segments. */
size_t sl_log_segments(sl_log *log, sl_log_segment_info *out, size_t cap);

/*
 * Read-only logs: picks up new segments and bytes written by the writer
 * (complete, CRC-valid batches only) and drops segments the writer deleted.
 * A no-op for the writer.
 */
int sl_log_refresh(sl_log *log, sl_diag *diag);

/* ---- verification (tools) ---- */

typedef enum sl_verify_kind {
  SL_VERIFY_CRC,            /* stored CRC != computed */
  SL_VERIFY_BAD_LENGTH,     /* impossible batch length / magic */
  SL_VERIFY_TRUNCATED,      /* incomplete batch at the end */
  SL_VERIFY_OFFSETS,        /* offsets not increasing / below the base */
  SL_VERIFY_INDEX_ENTRY,    /* .index entry not at a batch with that offset */
  SL_VERIFY_TIME_INDEX,     /* .timeindex not monotonic / wrong entry */
  SL_VERIFY_INDEX_FILE,     /* index length / sanity */
  SL_VERIFY_TXN_INDEX,      /* .txnindex sanity */
  SL_VERIFY_SEGMENT_OVERLAP /* a segment's offsets reach into the next one */
} sl_verify_kind;

typedef struct sl_verify_problem {
  sl_verify_kind kind;
  const char *file;                  /* path; borrowed for the callback's duration */
  int64_t position;                  /* byte position in that file */
  int64_t offset;                    /* the batch / entry offset concerned, or -1 */
  uint32_t stored_crc, computed_crc; /* SL_VERIFY_CRC */
  const char *message;
} sl_verify_problem;

/* Return non-zero to stop the walk (sl_log_verify then returns that value). */
typedef int (*sl_verify_cb)(void *ctx, const sl_verify_problem *p);

/*
 * Walks every segment of the partition dir `dir` (read-only, no lock, nothing
 * modified) and reports each problem.  After a corrupt batch the rest of that
 * segment cannot be framed and is skipped.  *problems (may be NULL) gets the
 * count.  Returns SL_OK when the walk completed (problems or not).  Unlike
 * most callback APIs here, an I/O error that stops the walk midway is
 * returned after the problems found so far were already reported (a walk
 * cannot know its later errors in advance); those reports stay valid.
 */
int sl_log_verify(const char *dir, sl_verify_cb cb, void *ctx, int64_t *problems,
                  sl_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
