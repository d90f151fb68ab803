/*
 * seglog/checkpoint.h - Kafka's checkpoint text files (CheckpointFile v0): the
 * four log-dir root checkpoints (recovery-point-offset-checkpoint,
 * replication-offset-checkpoint, log-start-offset-checkpoint,
 * cleaner-offset-checkpoint) and each partition's leader-epoch-checkpoint.
 *
 * Layout (docs/FORMAT.md, "Checkpoint files"): every line ends in '\n'
 *
 *     <version>\n          0
 *     <count>\n            number of entry lines
 *     <entry>\n            `topic partition offset` or `epoch startOffset`
 *
 * Reader rules follow Kafka's CheckpointFile reader: an empty file (or one that
 * ends after the version or count line) is an empty list; a different version,
 * an unparsable line or a count that differs from the entries present is
 * SL_ECORRUPT with the line number in the message and its byte position in
 * diag->pos.  Lines may end in "\n", "\r\n" or "\r" (Java readLine); fields are
 * split on runs of whitespace; numbers are decimal as Java's parseInt/parseLong
 * read them (optional sign, digits only, in range).  Beyond Kafka we also reject
 * invalid topic names, negative partitions and, in epoch files, negative epochs
 * or offsets (Kafka rejects those when it loads the epoch cache).
 *
 * Parsers take (ptr, len) and do no I/O.  Writers produce exactly what Kafka
 * writes; files are replaced atomically (tmp + fsync + rename + fsync dir).
 */
#ifndef SEGLOG_CHECKPOINT_H
#define SEGLOG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/bytes.h"
#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_CHECKPOINT_VERSION 0
/* Names of the files in a log dir root and in a partition dir. */
#define SL_RECOVERY_POINT_CHECKPOINT "recovery-point-offset-checkpoint"
#define SL_REPLICATION_OFFSET_CHECKPOINT "replication-offset-checkpoint"
#define SL_LOG_START_OFFSET_CHECKPOINT "log-start-offset-checkpoint"
#define SL_CLEANER_OFFSET_CHECKPOINT "cleaner-offset-checkpoint"
#define SL_LEADER_EPOCH_CHECKPOINT "leader-epoch-checkpoint"

/* Largest checkpoint file the readers accept (64 MiB). */
#define SL_CHECKPOINT_MAX_FILE (64u << 20)

/* Longest legal topic name (Kafka's Topic.MAX_NAME_LENGTH). */
#define SL_TOPIC_NAME_MAX 249

/* ---- offset checkpoints: `topic partition offset` ---- */

typedef struct sl_offset_entry {
  char topic[SL_TOPIC_NAME_MAX + 1]; /* NUL-terminated, validated */
  int32_t partition;                 /* >= 0 */
  int64_t offset;
} sl_offset_entry;

/* A caller-owned list; order is the file's order (Kafka does not care). */
typedef struct sl_offset_checkpoint {
  sl_offset_entry *entries;
  size_t count;
  size_t cap;
} sl_offset_checkpoint;

void sl_offset_checkpoint_init(sl_offset_checkpoint *c);
/* Frees the entries; c may be reused after init.  NULL ok. */
void sl_offset_checkpoint_release(sl_offset_checkpoint *c);
/* Empties the list, keeping its memory. */
void sl_offset_checkpoint_reset(sl_offset_checkpoint *c);
/* Adds or replaces the entry for (topic, partition).  SL_EINVAL for a bad topic
 * name or a negative partition, SL_ENOMEM. */
int sl_offset_checkpoint_set(sl_offset_checkpoint *c, const char *topic,
                             int32_t partition, int64_t offset);
/* The entry for (topic, partition) or NULL; borrowed until the list changes. */
const sl_offset_entry *sl_offset_checkpoint_find(const sl_offset_checkpoint *c,
                                                 const char *topic, int32_t partition);
/* Removes (topic, partition); returns true if it was present. */
bool sl_offset_checkpoint_remove(sl_offset_checkpoint *c, const char *topic,
                                 int32_t partition);

/*
 * Parses a whole offset checkpoint file's bytes, appending to `out` (init'ed by
 * the caller).  On error `out` is left as it was before the call.  Duplicate
 * (topic, partition) lines: the later one wins, as in Kafka's map.
 */
int sl_offset_checkpoint_parse(const void *p, size_t len, sl_offset_checkpoint *out,
                               sl_diag *diag);
/* Appends the file text (version 0) to out. */
int sl_offset_checkpoint_format(const sl_offset_checkpoint *c, sl_buf *out);
/* Reads the file at path.  A missing file is an empty list (Kafka creates it
 * empty); diag->path names the file on errors. */
int sl_offset_checkpoint_read(const char *path, sl_offset_checkpoint *out, sl_diag *diag);
/* Replaces the file atomically and durably. */
int sl_offset_checkpoint_write(const char *path, const sl_offset_checkpoint *c,
                               sl_diag *diag);

/* ---- leader-epoch-checkpoint: `epoch startOffset` ---- */

typedef struct sl_epoch_entry {
  int32_t epoch;        /* >= 0 */
  int64_t start_offset; /* >= 0 */
} sl_epoch_entry;

/*
 * Parses a leader-epoch-checkpoint's bytes.  On success *out is a malloc'd
 * array of *count entries in file order (NULL when empty; the caller frees it).
 * Entries are not reordered or deduplicated here: sl_epoch_cache does that the
 * way Kafka's cache does on load.
 */
int sl_epoch_checkpoint_parse(const void *p, size_t len, sl_epoch_entry **out,
                              size_t *count, sl_diag *diag);
int sl_epoch_checkpoint_format(const sl_epoch_entry *e, size_t n, sl_buf *out);
/* A missing file is an empty list. */
int sl_epoch_checkpoint_read(const char *path, sl_epoch_entry **out, size_t *count,
                             sl_diag *diag);
int sl_epoch_checkpoint_write(const char *path, const sl_epoch_entry *e, size_t n,
                              sl_diag *diag);

/* ---- shared helper ---- */

/*
 * Parses a decimal integer the way Java's Long.parseLong does (optional '+' or
 * '-', then 1..19 ASCII digits, nothing else) and checks it lies in [min, max].
 * `s` need not be NUL-terminated.  SL_EINVAL if not.
 */
int sl_parse_decimal(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
