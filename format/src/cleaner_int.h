/*
 * cleaner_int.h - the cleaner's internal parts, shared by offsetmap.c and
 * cleaner.c and reachable by the unit tests: the 128-bit key hash, the
 * dedupe offset map, the transaction bookkeeping and the per-batch filter.
 * Design: docs/FORMAT.md, "Log compaction".
 */
#ifndef SEGLOG_CLEANER_INT_H
#define SEGLOG_CLEANER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/batch.h"
#include "seglog/bytes.h"
#include "seglog/cleaner.h"
#include "seglog/error.h"

/*
 * ---- key hash ----
 * MurmurHash3 x64_128 (Austin Appleby's public-domain design, written here
 * from its description), seed 0.  Kafka uses MD5 for the same purpose; both
 * are 128-bit, and the cleaner never needs resistance against an adversary
 * choosing keys, only a negligible chance that two distinct keys of one
 * partition collide (then the older key's records would be dropped): with n
 * keys that chance is about n^2 / 2^129, i.e. below 1e-20 for 1e9 keys.
 */
void sl__hash128(const void *key, size_t len, uint64_t out[2]);

/*
 * ---- offset map ----
 * Kafka's SkimpyOffsetMap: an open-addressing table of (128-bit key hash,
 * offset) slots, 24 bytes each, sized from the dedupe buffer; it is "full"
 * at slots x load factor entries.  latest_offset is the last offset the map
 * covers (-1 when empty).
 */
typedef struct sl__omap_slot {
  uint64_t h1, h2;
  int64_t offset_plus_1; /* 0 = empty slot (calloc'ed memory is an empty map) */
} sl__omap_slot;

typedef struct sl__offset_map {
  sl__omap_slot *slots;
  size_t nslots;
  size_t size;        /* distinct keys */
  size_t max_entries; /* slots x load factor */
  int64_t latest_offset;
  uint64_t probes, lookups;
} sl__offset_map;

#define SL__OMAP_SLOT_BYTES 24

/* memory_bytes / 24 slots (at least 1); SL_EINVAL if that is not even one. */
int sl__offset_map_init(sl__offset_map *m, int64_t memory_bytes, double load_factor);
void sl__offset_map_release(sl__offset_map *m); /* zeroed struct ok */
void sl__offset_map_clear(sl__offset_map *m);
bool sl__offset_map_full(const sl__offset_map *m);
/* Records key -> offset (replacing); SL_ETOO_LARGE when a new key would go
 * over max_entries.  Also sets latest_offset = offset. */
int sl__offset_map_put(sl__offset_map *m, const void *key, size_t len, int64_t offset);
/* The offset recorded for key, or -1. */
int64_t sl__offset_map_get(sl__offset_map *m, const void *key, size_t len);
void sl__offset_map_update_latest(sl__offset_map *m, int64_t offset);

/* ---- transactions (Kafka's CleanedTransactionMetadata) ---- */
typedef struct sl__aborted {
  int64_t producer_id;
  int64_t first_offset;
  int64_t last_offset; /* the ABORT marker */
  int64_t last_stable_offset;
} sl__aborted;

/* producer id -> array index (open addressing; producer ids are >= 0). */
typedef struct sl__pid_index {
  int64_t *pids; /* -1 = empty slot */
  size_t *idx;
  size_t cap, n;
} sl__pid_index;

typedef struct sl__txn_state {
  int64_t producer_id;
  bool aborted;   /* an aborted transaction is open */
  bool committed; /* transactional data seen, not aborted */
  bool observed;  /* aborted: data of it seen in this pass */
  sl__aborted txn;
} sl__txn_state;

typedef struct sl__txn_meta {
  const sl__aborted *aborted; /* sorted by first_offset; borrowed */
  size_t naborted, next;
  sl__txn_state *st; /* per producer */
  size_t nst, capst;
  sl__pid_index by_pid;
  sl_buf *txn_out; /* cleaned .txnindex entries (34 bytes each), or NULL */
} sl__txn_meta;

void sl__txn_meta_init(sl__txn_meta *t, const sl__aborted *aborted, size_t n,
                       sl_buf *txn_out);
void sl__txn_meta_release(sl__txn_meta *t);
/* Data batch: returns 1 if it belongs to an aborted transaction (discard). */
int sl__txn_on_batch(sl__txn_meta *t, const sl_batch_header *h);
/* Control batch with control type `type` (-1 unknown): 1 if it may be
 * discarded (its transaction has no data left). */
int sl__txn_on_control(sl__txn_meta *t, const sl_batch_header *h, int type);

/* The last batch of an active producer (Kafka's LastRecord). */
typedef struct sl__producer_last {
  int64_t producer_id;
  int64_t last_data_offset; /* -1: none (the last thing was a marker) */
  int16_t epoch;
} sl__producer_last;

/* ---- the per-batch filter (Kafka's cleanInto/filterTo) ---- */
typedef struct sl__filter {
  sl__offset_map *map;
  int64_t now_ms;
  int64_t delete_retention_ms;
  bool retain_legacy_deletes;
  int64_t upper_bound_offset; /* the round's first uncleanable offset */
  sl__txn_meta *txn;
  const sl__producer_last *producers; /* sorted by producer id */
  size_t nproducers;
  sl_batch_reader *reader;
  sl_batch_builder *builder;
  sl_record *kept; /* records kept from the current batch */
  size_t nkept, capkept;
  sl_header *hdrs; /* copies of the kept records' headers */
  size_t nhdrs, caphdrs;
  sl_cleaner_stats *stats; /* may be NULL */
} sl__filter;

typedef enum sl__filter_action {
  SL__FILTER_DROP,
  SL__FILTER_COPY,    /* the input bytes, unchanged */
  SL__FILTER_REWRITE, /* a rebuilt batch */
  SL__FILTER_EMPTY    /* an empty 61-byte header */
} sl__filter_action;

typedef struct sl__filter_result {
  sl__filter_action action;
  int64_t last_offset;   /* of the output batch */
  int64_t max_timestamp; /* of the output batch */
  int32_t records;       /* kept */
} sl__filter_result;

int sl__filter_init(sl__filter *f, int32_t max_batch_bytes);
void sl__filter_release(sl__filter *f);
/*
 * Filters one complete batch (v2 or legacy entry) of `size` bytes, appending
 * what is kept to `out`.
 */
int sl__filter_batch(sl__filter *f, const uint8_t *batch, size_t size, sl_buf *out,
                     sl__filter_result *res, sl_diag *diag);

/*
 * sl_cleaner_clean_dir with a simulated crash for tests: after `stop_after`
 * file operations (opens, writes, fsyncs, renames, unlinks; < 0 = never) it
 * returns SL_EINTERRUPTED at once, leaving every file as it is.
 */
int sl__cleaner_clean_dir_ex(const char *dir, const sl_cleaner_opts *o,
                             sl_cleaner_stats *stats, long stop_after, sl_diag *diag);

#endif
