/*
 * seglog/logdir.h - one Kafka log directory (an entry of `log.dirs`) as
 * Kafka's LogManager handles it: the `.lock`, `meta.properties`, the four root
 * checkpoints (recovery points, log start offsets, high watermarks, cleaner
 * offsets), the `.kafka_cleanshutdown` marker, and the `<topic>-<partition>`
 * dirs, each opened as an sl_log.  Layout and rules: docs/FORMAT.md ("Log
 * directory layout", "Checkpoint files", "Clean shutdown marker").
 *
 * Open, in LogManager's order: take the lock; read meta.properties (if any);
 * note and DELETE the clean-shutdown marker (its presence skips recovery; a
 * crash while loading then counts as unclean); read the root checkpoints (an
 * unreadable one is treated as empty, as Kafka does, and reported); remove
 * leftover `*-delete` dirs; open every `topic-N` dir with its recovery point,
 * log start offset and high watermark.  `*-future` and `*-stray` dirs,
 * `__cluster_metadata-0`, `remote-log-index-cache` and anything else that is
 * not a partition dir are left alone.
 *
 * Close: closes every log (each flushes to its LEO), writes the recovery
 * point, log start offset and high watermark checkpoints (also when a log
 * failed to close: its last recovery point is kept), and, only if all of that
 * succeeded, the clean-shutdown marker; then releases the lock.
 *
 * Ownership: the logdir owns its sl_log handles; sl_logdir_get returns a
 * borrowed pointer valid until that partition is deleted or the logdir
 * closed.  Not thread-safe: one thread manages the logdir (the logs
 * themselves may be used from several threads).
 */
#ifndef SEGLOG_LOGDIR_H
#define SEGLOG_LOGDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/checkpoint.h"
#include "seglog/error.h"
#include "seglog/log.h"
#include "seglog/meta.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_logdir sl_logdir;

/* Per-topic configuration hook: adjust *cfg (pre-filled with the default) for
 * `topic`; return 0 or an SL_E* error that fails the open/create. */
typedef int (*sl_logdir_config_fn)(void *ctx, const char *topic, sl_log_config *cfg);

typedef struct sl_logdir_opts {
  bool create;   /* mkdir the log dir if missing */
  bool readonly; /* no lock, no marker deletion, no writes; logs SL_LOG_READONLY */
  /* KRaft rules: fail without meta.properties; generate a missing
   * directory.id (v1) and rewrite the file */
  bool require_meta_properties;
  const sl_log_config *default_config; /* NULL = Kafka defaults */
  sl_logdir_config_fn topic_config;    /* may be NULL */
  void *topic_config_ctx;
  int64_t now_ms; /* 0 = now */
} sl_logdir_opts;

void sl_logdir_opts_init(sl_logdir_opts *o);

typedef struct sl_logdir_report {
  bool clean_shutdown;  /* the marker was present at open */
  int64_t broker_epoch; /* from the marker, -1 if none/unparsable */
  bool has_meta_properties;
  int32_t partitions; /* logs opened */
  int32_t delete_dirs_removed;
  int32_t dirs_ignored;      /* -future, -stray, __cluster_metadata-0, other */
  int32_t checkpoint_errors; /* unreadable root checkpoints treated as empty */
  char first_checkpoint_error[300];
} sl_logdir_report;

/*
 * Opens the log dir at `path` (copied).  On failure nothing stays open or
 * locked; a partition that fails to load fails the whole open (Kafka takes
 * the log dir offline), with the partition dir in diag.
 */
int sl_logdir_open(const char *path, const sl_logdir_opts *opts, sl_logdir **out,
                   sl_diag *diag);
/*
 * Clean close as described above.  The logdir is freed even on error; an
 * error means the shutdown was not clean (no marker written).  NULL ok.
 */
int sl_logdir_close(sl_logdir *d, sl_diag *diag);
/* Closes the logs and releases the lock without writing checkpoints or the
 * marker (as after a crash, for tests and failed brokers).  NULL ok. */
void sl_logdir_abandon(sl_logdir *d);

const char *sl_logdir_path(const sl_logdir *d);
void sl_logdir_report_get(const sl_logdir *d, sl_logdir_report *r);
/* The lock shared by the logs (NULL when read-only); borrowed. */
sl_dir_lock *sl_logdir_lock(sl_logdir *d);

/* ---- meta.properties ---- */

/* The properties read at open (or last written); NULL if there were none. */
const sl_meta_properties *sl_logdir_meta(const sl_logdir *d);
/* Writes meta.properties (atomically, fsynced) and keeps it. */
int sl_logdir_set_meta(sl_logdir *d, const sl_meta_properties *m, sl_diag *diag);

/* ---- partitions ---- */

size_t sl_logdir_count(const sl_logdir *d);
/* The i-th partition (0 <= i < count, in no particular order); the topic
 * string is borrowed like the log.  false if i is out of range. */
bool sl_logdir_at(sl_logdir *d, size_t i, const char **topic, int32_t *partition,
                  sl_log **log);
/* The log of (topic, partition), or NULL. */
sl_log *sl_logdir_get(sl_logdir *d, const char *topic, int32_t partition);

/*
 * Creates `<dir>/<topic>-<partition>` and opens it (SL_EEXISTS if hosted;
 * SL_EINVAL for a bad name).  topic_id (may be NULL) is written to
 * partition.metadata.  cfg NULL = the logdir's default (+ topic hook).
 * *out (may be NULL) receives the borrowed log.
 */
int sl_logdir_create_partition(sl_logdir *d, const char *topic, int32_t partition,
                               const sl_log_config *cfg, const sl_uuid *topic_id,
                               sl_log **out, sl_diag *diag);
/*
 * Deletes a partition as Kafka does: closes its log, renames the dir to
 * `<topic>-<partition>.<32 hex>-delete` (fsyncing the log dir), rewrites the
 * root checkpoints without it, then removes the renamed dir.  SL_ENOT_FOUND
 * if not hosted.  If the final removal fails the -delete dir stays (it is
 * removed at the next open) and the error is returned.
 */
int sl_logdir_delete_partition(sl_logdir *d, const char *topic, int32_t partition,
                               sl_diag *diag);

/* ---- checkpoints ---- */

/*
 * Writes recovery-point-offset-checkpoint (every log's recovery point),
 * log-start-offset-checkpoint (only logs whose start is above their first
 * segment's base offset) and replication-offset-checkpoint (every log's high
 * watermark), each atomically and fsynced; cleaner-offset-checkpoint too if
 * a cleaner offset changed.  The broker calls this periodically (Kafka: every
 * 60 s for the first two, 5 s for the HW).
 */
int sl_logdir_checkpoint(sl_logdir *d, sl_diag *diag);

/*
 * The same in three steps, so that the file writes and their fsyncs can run
 * on another thread (Kafka writes them from its scheduler threads, not its
 * request handlers):
 *   sl_logdir_checkpoint_begin  (the thread that owns d) takes the values;
 *   sl_logdir_checkpoint_write  (any thread) writes the files;
 *   sl_logdir_checkpoint_end    (the owner again) frees the set; the cleaner
 *                               offsets count as written if they were.
 * Sets are numbered when taken and written under a per-directory mutex; a set
 * older than one already written (by sl_logdir_checkpoint, a partition's
 * deletion or another set) is dropped, so the files never go back in time.
 * d must stay open until sl_logdir_checkpoint_end.
 */
typedef struct sl_logdir_cp sl_logdir_cp;
int sl_logdir_checkpoint_begin(sl_logdir *d, sl_logdir_cp **out, sl_diag *diag);
int sl_logdir_checkpoint_write(sl_logdir_cp *cp, sl_diag *diag);
void sl_logdir_checkpoint_end(sl_logdir *d, sl_logdir_cp *cp);

/* cleaner-offset-checkpoint: the first dirty offset of a compacted
 * partition.  get: false if none recorded. */
bool sl_logdir_cleaner_offset(const sl_logdir *d, const char *topic, int32_t partition,
                              int64_t *offset);
int sl_logdir_set_cleaner_offset(sl_logdir *d, const char *topic, int32_t partition,
                                 int64_t offset);

#ifdef __cplusplus
}
#endif
#endif
