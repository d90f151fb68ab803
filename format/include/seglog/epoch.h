/*
 * seglog/epoch.h - the leader-epoch cache of one partition, as Kafka's
 * LeaderEpochFileCache keeps it: an ordered map leader epoch -> first offset
 * written in that epoch, persisted in `<partition dir>/leader-epoch-checkpoint`
 * (seglog/checkpoint.h).  Semantics in docs/FORMAT.md ("Leader epochs").
 *
 * Invariant: entries strictly increase in both epoch and start offset, and all
 * are >= 0.  assign() writes the file synchronously when it changes the cache;
 * truncations only mark the cache dirty (Kafka flushes them asynchronously and
 * re-applies them on load), and sl_epoch_cache_flush writes it.  Any write
 * rewrites the whole file, so it also persists earlier truncations.
 *
 * Not thread-safe: the owning log serialises calls.
 */
#ifndef SEGLOG_EPOCH_H
#define SEGLOG_EPOCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/checkpoint.h"
#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_UNDEFINED_EPOCH (-1)
#define SL_UNDEFINED_EPOCH_OFFSET (-1LL)

typedef struct sl_epoch_cache sl_epoch_cache;

/*
 * Opens the cache backed by the checkpoint file at `path` (copied), loading it
 * if present (a missing file is an empty cache, not created until a write).
 * path NULL: memory only, nothing is ever written.  Loaded entries go through
 * assign's rules in file order, as Kafka's constructor does, so a non-monotonic
 * file is repaired in memory.  A corrupt file is SL_ECORRUPT (the log decides
 * whether to rebuild it from the batches).
 */
int sl_epoch_cache_open(const char *path, sl_epoch_cache **out, sl_diag *diag);
void sl_epoch_cache_free(sl_epoch_cache *c); /* NULL ok; does not flush */

/*
 * Kafka's assign(epoch, startOffset): SL_EINVAL if either is negative.  Nothing
 * happens if epoch equals the latest epoch and start_offset >= its start.
 * Otherwise entries with epoch >= `epoch` or start >= `start_offset` are removed
 * from the end, the entry is added, and the file is written synchronously.
 * *changed (may be NULL) says whether the cache changed.  On a write failure
 * the in-memory change stays and the error is returned (the log fails).
 *
 * The log's append path calls this only for v2 batches whose
 * partitionLeaderEpoch >= 0 and > the latest epoch (sl_epoch_cache_on_batch).
 */
int sl_epoch_cache_assign(sl_epoch_cache *c, int32_t epoch, int64_t start_offset,
                          bool *changed, sl_diag *diag);
/* The append rule: assign(epoch, base_offset) if epoch >= 0 and (empty or
 * epoch > latest); else nothing. */
int sl_epoch_cache_on_batch(sl_epoch_cache *c, int32_t partition_leader_epoch,
                            int64_t base_offset, sl_diag *diag);

/* Drops entries with start_offset >= end_offset (if end_offset >= 0).  Marks
 * dirty; does not write. */
void sl_epoch_cache_truncate_from_end(sl_epoch_cache *c, int64_t end_offset);
/*
 * If the earliest entry starts below start_offset: drops entries with
 * start_offset <= `start_offset` and re-inserts the last dropped epoch at
 * `start_offset`.  Marks dirty; does not write.
 */
void sl_epoch_cache_truncate_from_start(sl_epoch_cache *c, int64_t start_offset);
/* Empties the cache and writes the (empty) file. */
int sl_epoch_cache_clear(sl_epoch_cache *c, sl_diag *diag);
/* Writes the file if the cache is dirty. */
int sl_epoch_cache_flush(sl_epoch_cache *c, sl_diag *diag);

/*
 * OffsetsForLeaderEpoch as the leader answers it (Kafka's endOffsetFor):
 *  - requested == -1 (undefined): (-1, -1);
 *  - requested == latest epoch: (requested, log_end_offset);
 *  - no epoch above requested: (-1, -1);
 *  - else (the largest epoch <= requested, or requested itself if there is
 *    none, and the start offset of the smallest epoch > requested).
 */
void sl_epoch_cache_end_offset_for(const sl_epoch_cache *c, int32_t requested,
                                   int64_t log_end_offset, int32_t *epoch,
                                   int64_t *end_offset);
/* Latest / earliest entry; false if the cache is empty. */
bool sl_epoch_cache_latest(const sl_epoch_cache *c, sl_epoch_entry *out);
bool sl_epoch_cache_earliest(const sl_epoch_cache *c, sl_epoch_entry *out);
/* The epoch of the largest entry with start <= offset; false if none. */
bool sl_epoch_cache_epoch_for_offset(const sl_epoch_cache *c, int64_t offset,
                                     int32_t *epoch);
/* All entries, ascending; borrowed until the next mutating call. */
const sl_epoch_entry *sl_epoch_cache_entries(const sl_epoch_cache *c, size_t *count);
bool sl_epoch_cache_is_dirty(const sl_epoch_cache *c);

#ifdef __cplusplus
}
#endif
#endif
