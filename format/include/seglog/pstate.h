/*
 * seglog/pstate.h - producer state of one partition: the `.snapshot` file codec
 * and the in-memory state machine of Kafka's ProducerStateManager /
 * ProducerAppendInfo (idempotence, transactions, the last stable offset).
 * Formats and rules: docs/FORMAT.md ("Producer state snapshots",
 * "Producer state").
 *
 * Snapshot layout (ProducerSnapshot v1, big-endian):
 *
 *     0  int16  version = 1
 *     2  uint32 crc: CRC-32C of bytes [6, EOF)
 *     6  int32  entry count
 *    10  46 bytes per entry: producerId int64, epoch int16, lastSequence int32,
 *        lastOffset int64, offsetDelta int32, timestamp int64,
 *        coordinatorEpoch int32, currentTxnFirstOffset int64
 *
 * The empty snapshot is exactly 00 01 48 67 4b c7 00 00 00 00.  File name:
 * `<20-digit map end offset>.snapshot` in the partition dir.
 *
 * Using the state machine from the log's append path (one append = one or more
 * batches written together):
 *
 *     sl_pstate_begin(ps, SL_ORIGIN_CLIENT);
 *     for each batch (offsets already assigned):
 *         rc = sl_pstate_stage(ps, &hdr, marker_or_NULL, &dup, diag);
 *         SL_EDUPLICATE_SEQUENCE -> answer with dup.first/last_offset, write
 *         nothing, sl_pstate_rollback; other errors -> reject, rollback.
 *     write the batches; on failure sl_pstate_rollback.
 *     sl_pstate_commit(ps, next_offset_after_append, &txns, &n);
 *         every txns[i] with .aborted set goes into the .txnindex of the
 *         segment holding its marker (version 0, pid, first, last, lso).
 *
 * Recovery and followers replay with SL_ORIGIN_REPLICATION (no sequence checks,
 * older epochs accepted) through the same calls or sl_pstate_apply.
 *
 * Not thread-safe: the owning log serialises calls.
 */
#ifndef SEGLOG_PSTATE_H
#define SEGLOG_PSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/batch.h"
#include "seglog/bytes.h"
#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the .snapshot codec ---- */

#define SL_PSTATE_SNAPSHOT_VERSION 1
#define SL_PSTATE_SNAPSHOT_HEADER 10
#define SL_PSTATE_SNAPSHOT_ENTRY 46
#define SL_PSTATE_SNAPSHOT_SUFFIX ".snapshot"
/* Batches kept per producer for duplicate detection (Kafka's NUM_BATCHES_TO_RETAIN). */
#define SL_PSTATE_BATCHES_TO_RETAIN 5
/* Default producer.id.expiration.ms. */
#define SL_PSTATE_DEFAULT_EXPIRATION_MS 86400000LL

typedef struct sl_pstate_snapshot_entry {
  int64_t producer_id;
  int16_t epoch;
  int32_t last_sequence;     /* -1 if no data batch */
  int64_t last_offset;       /* -1 if no data batch */
  int32_t offset_delta;      /* last - first offset of that batch, 0 if none */
  int64_t timestamp;         /* max timestamp of the last append (data or marker) */
  int32_t coordinator_epoch; /* -1 if never */
  int64_t current_txn_first_offset; /* -1 if no open transaction */
} sl_pstate_snapshot_entry;

/*
 * Decodes a whole snapshot file's bytes.  Checks: at least 10 bytes
 * (SL_ETRUNCATED), version == 1 (SL_EUNSUPPORTED), count >= 0 and count <=
 * max_entries (SL_ECORRUPT / SL_ETOO_LARGE; max_entries 0 = no limit besides
 * the bytes present), exactly count*46 bytes after the header (fewer:
 * SL_ETRUNCATED, more: SL_ECORRUPT), stored CRC == CRC-32C of [6, EOF)
 * (SL_ECRC, both values in the message).  On success *entries is malloc'd
 * (NULL when count is 0; the caller frees it).
 */
int sl_pstate_snapshot_decode(const void *p, size_t len, size_t max_entries,
                              sl_pstate_snapshot_entry **entries, size_t *count,
                              sl_diag *diag);
/* Appends the snapshot bytes for n entries (in the given order). */
int sl_pstate_snapshot_encode(const sl_pstate_snapshot_entry *e, size_t n, sl_buf *out);
/* "<dir>/<20-digit offset>.snapshot"; SL_EINVAL if it does not fit or offset < 0. */
int sl_pstate_snapshot_path(const char *dir, int64_t offset, char *out, size_t cap);
/* Creates/overwrites the snapshot file for `offset` (Kafka writes it in place,
 * no temp file); fsync if asked. */
int sl_pstate_snapshot_write(const char *dir, int64_t offset,
                             const sl_pstate_snapshot_entry *e, size_t n, bool do_fsync,
                             sl_diag *diag);
/* Reads and decodes one snapshot file (at most 64 MiB). */
int sl_pstate_snapshot_read(const char *path, sl_pstate_snapshot_entry **entries,
                            size_t *count, sl_diag *diag);
/*
 * Offsets of the `<20 digits>.snapshot` files in dir, ascending (malloc'd, NULL
 * when none; the caller frees).  Other names (.snapshot.deleted, ...) are
 * ignored.
 */
int sl_pstate_snapshot_list(const char *dir, int64_t **offsets, size_t *count,
                            sl_diag *diag);
/* Deletes the snapshot for offset (missing is fine). */
int sl_pstate_snapshot_delete(const char *dir, int64_t offset, sl_diag *diag);

/* ---- the state machine ---- */

typedef enum sl_append_origin {
  SL_ORIGIN_CLIENT = 0,  /* produce request on the leader: all checks */
  SL_ORIGIN_COORDINATOR, /* transaction markers written by the leader */
  SL_ORIGIN_REPLICATION  /* follower fetch or log recovery: trust the log */
} sl_append_origin;

typedef struct sl_pstate_config {
  int64_t producer_id_expiration_ms; /* 0 = default 86400000 */
  size_t max_producers;              /* 0 = no limit; else SL_ETOO_LARGE */
} sl_pstate_config;

typedef struct sl_pstate sl_pstate;

/* Result of SL_EDUPLICATE_SEQUENCE: the original batch's offsets/timestamp. */
typedef struct sl_pstate_dup {
  int64_t first_offset;
  int64_t last_offset;
  int64_t timestamp;
} sl_pstate_dup;

/* A transaction ended by a marker in the committed append. */
typedef struct sl_pstate_txn {
  int64_t producer_id;
  int64_t first_offset;
  int64_t last_offset; /* the marker's offset */
  bool aborted;
  /* For the .txnindex: first offset of the earliest other open transaction,
   * else last_offset + 1. */
  int64_t last_stable_offset;
} sl_pstate_txn;

/* Read-only view of one producer (tests, tools). */
typedef struct sl_pstate_batch_meta {
  int32_t first_seq, last_seq;
  int64_t first_offset, last_offset;
  int32_t offset_delta;
  int64_t timestamp;
} sl_pstate_batch_meta;

typedef struct sl_pstate_producer {
  int64_t producer_id;
  int16_t epoch;
  int32_t coordinator_epoch;
  int64_t last_timestamp;
  int64_t current_txn_first_offset; /* -1 if none */
  int nbatches;                     /* 0..5, oldest first */
  sl_pstate_batch_meta batches[SL_PSTATE_BATCHES_TO_RETAIN];
} sl_pstate_producer;

/*
 * Creates an empty state (map end offset 0).  partition_dir (copied) is where
 * snapshots live; NULL = memory only (snapshot functions then fail with
 * SL_EINVAL).  config may be NULL for defaults.
 */
int sl_pstate_new(const char *partition_dir, const sl_pstate_config *config,
                  sl_pstate **out);
void sl_pstate_free(sl_pstate *ps); /* NULL ok */

/* Starts staging one append (drops any earlier uncommitted staging). */
void sl_pstate_begin(sl_pstate *ps, sl_append_origin origin);
/*
 * Checks one batch against the state plus what this append staged so far, and
 * stages its effect.  Batches with producer_id < 0 are ignored (return 0).
 * `marker` is the parsed control record for control batches (NULL for data
 * batches and for empty control batches, which are ignored).
 * Errors (CLIENT/COORDINATOR origin):
 *   SL_EDUPLICATE_SEQUENCE   same epoch and same first/last sequence as one of
 *                            the producer's last 5 batches (*dup filled);
 *                            checked first, against committed state, CLIENT only
 *   SL_EINVALID_PRODUCER_EPOCH  epoch < the producer's current epoch
 *   SL_EOUT_OF_ORDER_SEQUENCE   CLIENT: a new epoch not starting at 0 (for a
 *                            producer with a known epoch), or a sequence that is
 *                            not last+1 (wrapping INT32_MAX -> 0)
 *   SL_ETRANSACTION_COORDINATOR_FENCED  marker coordinator epoch < current
 *   SL_EINVALID_TXN_STATE    non-transactional data during an open transaction
 *   SL_ECORRUPT              control batch marker not ABORT/COMMIT
 * A producer the state does not know (new, or expired/removed by retention) is
 * accepted with any sequence, as Kafka 3.x does since KIP-360 (also within its
 * first append: Kafka checks against the committed entry's epoch).  Markers
 * follow the transaction-version 0/1 rules (marker epoch >= current); the
 * KIP-890 (TV2) strict marker epochs and verification state are not modelled.
 * With REPLICATION origin only SL_EINVALID_TXN_STATE and SL_ECORRUPT are
 * possible.  A failed stage leaves the staging as it was before the call.
 */
int sl_pstate_stage(sl_pstate *ps, const sl_batch_header *h, const sl_control *marker,
                    sl_pstate_dup *dup, sl_diag *diag);
/*
 * Applies the staged append after its batches are written: producer entries,
 * started and completed transactions, map end offset = next_offset.  *txns
 * (may be NULL) receives the completed transactions in marker order, borrowed
 * until the next begin/apply; *ntxns their count.  Cannot fail after
 * successful stages: sl_pstate_stage reserves all memory the commit needs and
 * enforces max_producers (SL_ETOO_LARGE) before anything is written.
 */
int sl_pstate_commit(sl_pstate *ps, int64_t next_offset, const sl_pstate_txn **txns,
                     size_t *ntxns);
void sl_pstate_rollback(sl_pstate *ps);
/*
 * Reads the control record of the complete control batch `batch` (size
 * bytes): 1 with *out filled, 0 for an empty control batch (cleaned), or an
 * error (SL_ECORRUPT for a malformed record).  reader may be NULL (one is
 * created for the call).  Does not check the CRC.
 */
int sl_pstate_read_marker(sl_batch_reader *reader, const uint8_t *batch, size_t size,
                          sl_control *out, sl_diag *diag);
/*
 * sl_pstate_stage for a complete v2 batch in its bytes: decodes the header
 * and, for control batches, the marker.  reader may be NULL.
 */
int sl_pstate_stage_batch(sl_pstate *ps, sl_batch_reader *reader, const uint8_t *batch,
                          size_t size, sl_pstate_dup *dup, sl_diag *diag);
/* begin + stage + commit(last offset + 1) for one batch (recovery replay). */
int sl_pstate_apply(sl_pstate *ps, sl_append_origin origin, const sl_batch_header *h,
                    const sl_control *marker, const sl_pstate_txn **txns, size_t *ntxns,
                    sl_diag *diag);

/* ---- queries ---- */

/* Offset (exclusive) up to which the state has been built. */
int64_t sl_pstate_map_end_offset(const sl_pstate *ps);
/* Sets the map end offset without other changes (e.g. after a roll). */
void sl_pstate_set_map_end_offset(sl_pstate *ps, int64_t offset);
size_t sl_pstate_producer_count(const sl_pstate *ps);
/* false if the producer is unknown. */
bool sl_pstate_producer_get(const sl_pstate *ps, int64_t producer_id,
                            sl_pstate_producer *out);
/*
 * The first offset of the earliest transaction that is open, or completed but
 * whose marker is not yet below the high watermark; false if none.  The LSO is
 * min(this, high watermark).
 */
bool sl_pstate_first_unstable_offset(const sl_pstate *ps, int64_t *offset);
/* The first offset of the earliest open transaction (ignores completed ones);
 * false if none. */
bool sl_pstate_first_undecided_offset(const sl_pstate *ps, int64_t *offset);
/* Forget completed transactions whose marker offset < hw. */
void sl_pstate_on_high_watermark(sl_pstate *ps, int64_t hw);
/* Removes producers without an open transaction idle for >= expiration ms. */
void sl_pstate_remove_expired(sl_pstate *ps, int64_t now_ms);

/* ---- snapshots of the state and the log's hooks ---- */

/* The state as snapshot entries (sorted by producer id; malloc'd). */
int sl_pstate_to_entries(const sl_pstate *ps, sl_pstate_snapshot_entry **entries,
                         size_t *count);
/*
 * Replaces the state by snapshot entries (expired producers skipped, as Kafka's
 * load does) and sets the map end offset.  Later duplicates of a producer id
 * win.
 */
int sl_pstate_load_entries(sl_pstate *ps, const sl_pstate_snapshot_entry *e, size_t n,
                           int64_t map_end_offset, int64_t now_ms);
/* Writes `<map end offset>.snapshot` unless it exists (Kafka's takeSnapshot). */
int sl_pstate_take_snapshot(sl_pstate *ps, bool do_fsync, sl_diag *diag);
/*
 * Kafka's truncateAndReload: deletes snapshots with offset > log_end_offset or
 * <= log_start_offset; if the map end offset differs from log_end_offset,
 * clears the state and loads the newest remaining snapshot (deleting corrupt
 * ones and trying older ones); with none the state is empty at
 * log_start_offset.  The caller then replays batches from
 * sl_pstate_map_end_offset to the log end with SL_ORIGIN_REPLICATION.
 */
int sl_pstate_truncate_and_reload(sl_pstate *ps, int64_t log_start_offset,
                                  int64_t log_end_offset, int64_t now_ms, sl_diag *diag);
/* Clears everything, deletes all snapshots, map end offset = offset. */
int sl_pstate_truncate_fully(sl_pstate *ps, int64_t offset, sl_diag *diag);
/* Log start moved up (retention, DeleteRecords): forget completed txns whose
 * marker is below it; raise the map end offset to it if it is lower (Kafka's
 * onLogStartOffsetIncremented; producers are kept). */
int sl_pstate_on_log_start(sl_pstate *ps, int64_t log_start_offset, sl_diag *diag);
/*
 * Kafka's removeStraySnapshots, at load: deletes snapshot files whose offset
 * is not one of the segment base offsets, except the newest such stray when
 * it is above every base offset (the snapshot a clean shutdown writes at the
 * LEO).  bases need not be sorted.
 */
int sl_pstate_remove_stray_snapshots(sl_pstate *ps, const int64_t *bases, size_t n,
                                     sl_diag *diag);
/* Deletes snapshots with offset < `offset` (retention). */
int sl_pstate_delete_snapshots_before(sl_pstate *ps, int64_t offset, sl_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
