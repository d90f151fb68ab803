/*
 * cleaner.c - Kafka's log cleaner (LogCleaner / LogCleanerManager): the
 * cleanable-range plan, the per-batch retention filter with transaction
 * bookkeeping, and the cleaning round on a partition dir (offset map over the
 * dirty range, segment grouping, `.cleaned` -> `.swap` -> final swap with the
 * old segments renamed `.deleted`).  The dedupe map and key hash are in
 * offsetmap.c.  Design: docs/FORMAT.md, "Log compaction"; the crash states
 * and how the log's load repairs them: "Recovery" (temp files and swaps).
 *
 * One round, in order:
 *   1. scan every batch header of the log: segment sizes, largest and first
 *      timestamps, each producer's last batch, open transactions (the LSO);
 *      read the .txnindex files (aborted transactions);
 *   2. plan (sl_cleaner_plan_compute); stop unless it says clean;
 *   3. offset map over [first dirty, first uncleanable), skipping aborted
 *      data and markers, stopping early when the map is full;
 *   4. recopy the segments below the map's end in groups; per group write
 *      <base>.log.cleaned (+ .index/.timeindex/.txnindex.cleaned), fsync,
 *      set the mtime, rename to .swap, fsync the dir (the commit point),
 *      retire the old segments (.deleted), rename .swap to the final names,
 *      fsync the dir, remove the old files;
 *   5. store the map's end in cleaner-offset-checkpoint.
 * A crash before the .swap rename leaves .cleaned files (deleted at load);
 * after it, the load completes the swap.  When every batch of the trailing
 * segments of a group went, the swap's offset range ends before them and the
 * load leaves them in place (with their old, superseded data): harmless,
 * and the next round removes them.
 *
 * Differences from Kafka, all on the safe side: producers never expire here
 * (producer.id.expiration.ms is not applied, so a few more empty batches may
 * stay); a legacy (v0/v1) compressed wrapper that is only partly retained is
 * kept whole (legacy formats are never rewritten); on an open log, one
 * compaction at a time (callers serialize, as Kafka's cleaner manager does).
 */
/* utimensat, st_mtim: _GNU_SOURCE comes from the build flags. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cleaner_int.h"
#include "fileio_int.h"
#include "log_int.h"
#include "seglog/checkpoint.h"
#include "seglog/meta.h"

/* ------------------------------------------------------------------------ */
/* options and plan                                                          */

void sl_cleaner_opts_init(sl_cleaner_opts *o) {
  memset(o, 0, sizeof(*o));
  o->dedupe_buffer_size = 134217728;
  o->dedupe_load_factor = 0.9;
  o->delete_retention_ms = 86400000;
  o->min_cleanable_dirty_ratio = 0.5;
  o->min_compaction_lag_ms = 0;
  o->max_compaction_lag_ms = INT64_MAX;
  o->segment_bytes = 1073741824;
  o->segment_index_bytes = 10485760;
  o->index_interval_bytes = 4096;
  o->max_message_bytes = 1048588;
  o->now_ms = 0;
  o->first_dirty_offset = -1;
  o->last_stable_offset = -1;
  o->force = false;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Index of the segment containing `offset` (the last with base <= offset),
 * or 0 when offset is below the first base. */
static size_t floor_segment(const sl_cleaner_segment *segs, size_t n, int64_t offset) {
  size_t i = 0;
  while (i + 1 < n && segs[i + 1].base_offset <= offset)
    i++;
  return i;
}

int sl_cleaner_plan_compute(const sl_cleaner_segment *segs, size_t n, int64_t log_start,
                            int64_t log_end, const sl_cleaner_opts *o,
                            sl_cleaner_plan *plan) {
  memset(plan, 0, sizeof(*plan));
  if (n == 0 || segs == NULL || o == NULL)
    return SL_EINVAL;
  int64_t now = o->now_ms > 0 ? o->now_ms : wall_ms();
  /* firstDirtyOffset: the checkpoint, reset to the log start when out of
   * range (LogCleanerManager.cleanableOffsets). */
  int64_t first_dirty = o->first_dirty_offset;
  if (first_dirty < 0) {
    first_dirty = log_start;
  } else if (first_dirty < log_start || first_dirty > log_end) {
    first_dirty = log_start;
    plan->checkpoint_reset = true;
  }
  plan->first_dirty_offset = first_dirty;

  const sl_cleaner_segment *active = &segs[n - 1];
  int64_t uncleanable = active->base_offset;
  if (o->last_stable_offset >= 0 && o->last_stable_offset < uncleanable)
    uncleanable = o->last_stable_offset;
  if (log_end < uncleanable)
    uncleanable = log_end;
  int64_t min_lag = o->min_compaction_lag_ms > 0 ? o->min_compaction_lag_ms : 0;
  if (min_lag > 0) {
    for (size_t i = floor_segment(segs, n, first_dirty); i + 1 < n; i++) {
      if (segs[i].largest_timestamp > now - min_lag) {
        if (segs[i].base_offset < uncleanable)
          uncleanable = segs[i].base_offset;
        break;
      }
    }
  }
  if (uncleanable < first_dirty)
    uncleanable = first_dirty;
  /* Rounded down to the base of the (non-active) segment holding it. */
  size_t fu = floor_segment(segs, n, uncleanable);
  if (segs[fu].base_offset > uncleanable)
    fu = 0;
  int64_t first_uncleanable = segs[fu].base_offset;
  plan->first_uncleanable_offset = first_uncleanable;

  /* cleanBytes: segments overlapping [-1, firstDirty); cleanableBytes:
   * segments overlapping [min(firstDirty, firstUncleanable), firstUncleanable). */
  int64_t lo = first_dirty < first_uncleanable ? first_dirty : first_uncleanable;
  size_t fd = floor_segment(segs, n, lo);
  for (size_t i = 0; i < n; i++) {
    if (segs[i].base_offset < first_dirty)
      plan->clean_bytes += segs[i].size_bytes;
    if (i >= fd && segs[i].base_offset < first_uncleanable)
      plan->cleanable_bytes += segs[i].size_bytes;
  }
  int64_t total = plan->clean_bytes + plan->cleanable_bytes;
  plan->cleanable_ratio = total > 0 ? (double)plan->cleanable_bytes / (double)total : 0.0;

  /* max.compaction.lag.ms: the earliest first-batch timestamp among the dirty
   * non-active segments that is older than now - lag forces a clean. */
  int64_t max_lag = o->max_compaction_lag_ms > 0 ? o->max_compaction_lag_ms : 0;
  int64_t earliest = INT64_MAX;
  for (size_t i = floor_segment(segs, n, first_dirty); i + 1 < n; i++)
    if (segs[i].first_batch_timestamp > 0 && segs[i].first_batch_timestamp < earliest)
      earliest = segs[i].first_batch_timestamp;
  int64_t clean_until = now - max_lag; /* may be very negative: no overflow as now >= 0 */
  if (earliest != INT64_MAX && earliest < clean_until)
    plan->max_compaction_delay_ms = clean_until - earliest;

  plan->should_clean =
      plan->cleanable_bytes > 0 && (plan->max_compaction_delay_ms > 0 || o->force ||
                                    plan->cleanable_ratio > o->min_cleanable_dirty_ratio);
  return SL_OK;
}

/* ------------------------------------------------------------------------ */
/* producer id index                                                         */

static size_t pid_slot(int64_t pid, size_t cap) {
  uint64_t h = (uint64_t)pid * 0x9e3779b97f4a7c15ULL;
  return (size_t)(h >> 17) & (cap - 1);
}

static void pid_index_release(sl__pid_index *x) {
  free(x->pids);
  free(x->idx);
  memset(x, 0, sizeof(*x));
}

/* 1 and *idx when present, else 0. */
static int pid_index_find(const sl__pid_index *x, int64_t pid, size_t *idx) {
  if (x->cap == 0)
    return 0;
  for (size_t i = pid_slot(pid, x->cap);; i = (i + 1) & (x->cap - 1)) {
    if (x->pids[i] == -1)
      return 0;
    if (x->pids[i] == pid) {
      *idx = x->idx[i];
      return 1;
    }
  }
}

static int pid_index_add(sl__pid_index *x, int64_t pid, size_t idx) {
  if ((x->n + 1) * 2 > x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 64;
    int64_t *pids = malloc(cap * sizeof(*pids));
    size_t *ix = malloc(cap * sizeof(*ix));
    if (pids == NULL || ix == NULL) {
      free(pids);
      free(ix);
      return SL_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++)
      pids[i] = -1;
    for (size_t i = 0; i < x->cap; i++) {
      if (x->pids[i] == -1)
        continue;
      size_t j = pid_slot(x->pids[i], cap);
      while (pids[j] != -1)
        j = (j + 1) & (cap - 1);
      pids[j] = x->pids[i];
      ix[j] = x->idx[i];
    }
    free(x->pids);
    free(x->idx);
    x->pids = pids;
    x->idx = ix;
    x->cap = cap;
  }
  size_t j = pid_slot(pid, x->cap);
  while (x->pids[j] != -1)
    j = (j + 1) & (x->cap - 1);
  x->pids[j] = pid;
  x->idx[j] = idx;
  x->n++;
  return SL_OK;
}

/* ------------------------------------------------------------------------ */
/* transactions                                                              */

void sl__txn_meta_init(sl__txn_meta *t, const sl__aborted *aborted, size_t n,
                       sl_buf *txn_out) {
  memset(t, 0, sizeof(*t));
  t->aborted = aborted;
  t->naborted = n;
  t->txn_out = txn_out;
}

void sl__txn_meta_release(sl__txn_meta *t) {
  pid_index_release(&t->by_pid);
  free(t->st);
  t->st = NULL;
  t->nst = t->capst = 0;
}

static sl__txn_state *txn_find(sl__txn_meta *t, int64_t pid, bool add) {
  size_t i;
  if (pid_index_find(&t->by_pid, pid, &i))
    return &t->st[i];
  if (!add)
    return NULL;
  if (t->nst == t->capst) {
    size_t cap = t->capst ? t->capst * 2 : 8;
    sl__txn_state *p = realloc(t->st, cap * sizeof(*p));
    if (p == NULL)
      return NULL;
    t->st = p;
    t->capst = cap;
  }
  if (pid_index_add(&t->by_pid, pid, t->nst) != SL_OK)
    return NULL;
  sl__txn_state *s = &t->st[t->nst++];
  memset(s, 0, sizeof(*s));
  s->producer_id = pid;
  return s;
}

static int txn_consume_up_to(sl__txn_meta *t, int64_t offset) {
  while (t->next < t->naborted && t->aborted[t->next].first_offset <= offset) {
    const sl__aborted *a = &t->aborted[t->next++];
    sl__txn_state *s = txn_find(t, a->producer_id, true);
    if (s == NULL)
      return SL_ENOMEM;
    if (!s->aborted) { /* Kafka's computeIfAbsent: a duplicate is ignored */
      s->aborted = true;
      s->observed = false;
      s->txn = *a;
    }
  }
  return SL_OK;
}

int sl__txn_on_batch(sl__txn_meta *t, const sl_batch_header *h) {
  int rc = txn_consume_up_to(t, sl_batch_last_offset(h));
  if (rc)
    return rc;
  if (!sl_batch_is_transactional(h))
    return 0;
  sl__txn_state *s = txn_find(t, h->producer_id, true);
  if (s == NULL)
    return SL_ENOMEM;
  if (s->aborted) {
    s->observed = true;
    return 1;
  }
  s->committed = true;
  return 0;
}

int sl__txn_on_control(sl__txn_meta *t, const sl_batch_header *h, int type) {
  int rc = txn_consume_up_to(t, sl_batch_last_offset(h));
  if (rc)
    return rc;
  if (h->records_count == 0)
    return 1; /* an empty control batch was already cleaned */
  sl__txn_state *s = txn_find(t, h->producer_id, false);
  if (type == SL_CONTROL_ABORT) {
    if (s == NULL || !s->aborted)
      return 1;
    s->aborted = false;
    if (!s->observed)
      return 1;
    s->observed = false;
    /* Retained with its data gone this round: it stays indexed. */
    if (t->txn_out != NULL) {
      sl_buf_i16(t->txn_out, 0);
      sl_buf_i64(t->txn_out, s->txn.producer_id);
      sl_buf_i64(t->txn_out, s->txn.first_offset);
      sl_buf_i64(t->txn_out, s->txn.last_offset);
      sl_buf_i64(t->txn_out, s->txn.last_stable_offset);
      if (t->txn_out->err)
        return SL_ENOMEM;
    }
    return 0;
  }
  if (type == SL_CONTROL_COMMIT) {
    bool had = s != NULL && s->committed;
    if (s != NULL)
      s->committed = false;
    return had ? 0 : 1;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* the per-batch filter                                                      */

int sl__filter_init(sl__filter *f, int32_t max_batch_bytes) {
  memset(f, 0, sizeof(*f));
  size_t maxd = max_batch_bytes > 0 ? (size_t)max_batch_bytes * 4 : 0;
  if (maxd > 0 && maxd < (64u << 20))
    maxd = 64u << 20;
  int rc = sl_batch_reader_new(maxd, &f->reader);
  if (rc)
    return rc;
  sl_batch_builder_opts bo;
  sl_batch_builder_opts_init(&bo);
  rc = sl_batch_builder_new(&bo, &f->builder);
  if (rc) {
    sl_batch_reader_free(f->reader);
    f->reader = NULL;
  }
  return rc;
}

void sl__filter_release(sl__filter *f) {
  sl_batch_reader_free(f->reader);
  sl_batch_builder_free(f->builder);
  free(f->kept);
  free(f->hdrs);
  memset(f, 0, sizeof(*f));
}

static const sl__producer_last *find_producer(const sl__filter *f, int64_t pid) {
  size_t lo = 0, hi = f->nproducers;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (f->producers[mid].producer_id < pid)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < f->nproducers && f->producers[lo].producer_id == pid)
    return &f->producers[lo];
  return NULL;
}

/* Kafka's isBatchLastRecordOfProducer. */
static bool last_of_producer(const sl__filter *f, const sl_batch_header *h) {
  if (h->producer_id < 0)
    return false;
  const sl__producer_last *p = find_producer(f, h->producer_id);
  if (p == NULL)
    return false;
  if (p->last_data_offset >= 0)
    return sl_batch_last_offset(h) == p->last_data_offset;
  return sl_batch_is_control(h) && h->producer_epoch == p->epoch;
}

/* Kafka's shouldRetainRecord for a data record. */
static bool retain_record(sl__filter *f, const sl_batch_header *h, const sl_record *r) {
  if (r->offset > f->map->latest_offset)
    return true;
  if (r->key_len < 0) {
    if (f->stats)
      f->stats->invalid_records++;
    return false;
  }
  int64_t found = sl__offset_map_get(f->map, r->key, (size_t)r->key_len);
  bool latest = r->offset >= found;
  bool retain_deletes;
  if (h->magic >= 2)
    retain_deletes =
        !(h->attributes & SL_ATTR_DELETE_HORIZON) || f->now_ms < h->base_timestamp;
  else
    retain_deletes = f->retain_legacy_deletes;
  if (latest && r->value_len < 0 && !retain_deletes) {
    if (f->stats)
      f->stats->tombstones_dropped++;
    return false;
  }
  return latest;
}

/* Keeps a copy of *r (its headers too: the reader reuses its header array). */
static int keep_record(sl__filter *f, const sl_record *r) {
  if (f->nkept == f->capkept) {
    size_t cap = f->capkept ? f->capkept * 2 : 64;
    sl_record *p = realloc(f->kept, cap * sizeof(*p));
    if (p == NULL)
      return SL_ENOMEM;
    f->kept = p;
    f->capkept = cap;
  }
  if (r->header_count > 0) {
    size_t need = f->nhdrs + (size_t)r->header_count;
    if (need > f->caphdrs) {
      size_t cap = f->caphdrs ? f->caphdrs : 64;
      while (cap < need)
        cap *= 2;
      sl_header *p = realloc(f->hdrs, cap * sizeof(*p));
      if (p == NULL)
        return SL_ENOMEM;
      f->hdrs = p;
      f->caphdrs = cap;
    }
    memcpy(f->hdrs + f->nhdrs, r->headers, (size_t)r->header_count * sizeof(sl_header));
  }
  sl_record *k = &f->kept[f->nkept++];
  *k = *r;
  /* headers: index into f->hdrs until the batch is complete (realloc). */
  k->headers = (const sl_header *)(uintptr_t)f->nhdrs;
  f->nhdrs += (size_t)r->header_count;
  return SL_OK;
}

int sl__filter_batch(sl__filter *f, const uint8_t *batch, size_t size, sl_buf *out,
                     sl__filter_result *res, sl_diag *diag) {
  sl_cleaner_stats dummy = {0};
  sl_cleaner_stats *st = f->stats ? f->stats : &dummy;
  memset(res, 0, sizeof(*res));
  res->action = SL__FILTER_DROP;
  sl_batch_header h;
  sl_record rec;
  int rc = sl_batch_reader_open(f->reader, batch, size, &h, diag);
  if (rc)
    return rc;
  f->nkept = 0;
  f->nhdrs = 0;
  res->last_offset = sl_batch_last_offset(&h);
  res->max_timestamp = h.max_timestamp;

  if (h.magic < 2) {
    /* Legacy entry: all-or-nothing (a compressed wrapper that is partly
     * retained is kept whole: we do not rewrite legacy formats). */
    int32_t n = 0, kept = 0;
    while ((rc = sl_batch_reader_next(f->reader, &rec, diag)) == 1) {
      n++;
      if (retain_record(f, &h, &rec))
        kept++;
    }
    if (rc < 0)
      return rc;
    st->records_before += n;
    if (kept == 0) {
      st->batches_dropped++;
      return SL_OK;
    }
    rc = sl_buf_append(out, batch, size);
    if (rc)
      return rc;
    st->records_after += n;
    st->batches_copied++;
    res->action = SL__FILTER_COPY;
    res->records = n;
    return SL_OK;
  }

  bool control = sl_batch_is_control(&h);
  int can_discard;
  if (control) {
    int type = -1;
    if (h.records_count > 0) {
      rc = sl_batch_reader_next(f->reader, &rec, diag);
      if (rc < 0)
        return rc;
      if (rc == 1) {
        sl_control c;
        if (sl_control_parse(&rec, &c, NULL) == SL_OK)
          type = c.type;
      }
      rc = sl_batch_reader_open(f->reader, batch, size, &h, diag);
      if (rc)
        return rc;
    }
    can_discard = sl__txn_on_control(f->txn, &h, type);
  } else {
    can_discard = sl__txn_on_batch(f->txn, &h);
  }
  if (can_discard < 0)
    return can_discard;
  bool has_horizon = (h.attributes & SL_ATTR_DELETE_HORIZON) != 0;
  bool discard_records =
      control ? (can_discard && has_horizon && h.base_timestamp <= f->now_ms)
              : can_discard != 0;
  bool marker_for_empty_txn = control && can_discard;

  enum { RETAIN_EMPTY, DELETE, DELETE_EMPTY } retention;
  if (h.producer_id >= 0 && last_of_producer(f, &h))
    retention = RETAIN_EMPTY;
  else if (sl_batch_last_offset(&h) + 1 == f->upper_bound_offset)
    retention = RETAIN_EMPTY;
  else if (discard_records)
    retention = DELETE;
  else
    retention = DELETE_EMPTY;

  if (retention == DELETE) {
    st->records_before += h.records_count;
    if (control)
      st->markers_dropped++;
    else
      st->aborted_records_dropped += h.records_count;
    st->batches_dropped++;
    return SL_OK;
  }

  bool write_original = true, tombstones = false;
  int32_t n = 0;
  while ((rc = sl_batch_reader_next(f->reader, &rec, diag)) == 1) {
    n++;
    bool keep;
    if (discard_records)
      keep = false;
    else if (control)
      keep = true;
    else
      keep = retain_record(f, &h, &rec);
    if (keep) {
      rc = keep_record(f, &rec);
      if (rc)
        return rc;
      if (rec.value_len < 0)
        tombstones = true;
    } else {
      write_original = false;
    }
  }
  if (rc < 0)
    return rc;
  st->records_before += n;
  if (discard_records) {
    if (control)
      st->markers_dropped += n;
    else
      st->aborted_records_dropped += n;
  }

  size_t start = out->len;
  if (f->nkept > 0) {
    bool need_horizon = (tombstones || marker_for_empty_txn) && !has_horizon;
    st->records_after += (int64_t)f->nkept;
    res->records = (int32_t)f->nkept;
    if (write_original && !need_horizon) {
      rc = sl_buf_append(out, batch, size);
      if (rc)
        return rc;
      st->batches_copied++;
      res->action = SL__FILTER_COPY;
      return SL_OK;
    }
    sl_batch_builder_opts bo;
    sl_batch_builder_opts_init(&bo);
    bo.compression = sl_batch_compression(&h);
    bo.base_offset = h.base_offset;
    bo.partition_leader_epoch = h.partition_leader_epoch;
    bo.producer_id = h.producer_id;
    bo.producer_epoch = h.producer_epoch;
    bo.base_sequence = h.base_sequence;
    bo.transactional = sl_batch_is_transactional(&h);
    bo.control = control;
    bo.log_append_time = (h.attributes & SL_ATTR_LOG_APPEND_TIME) != 0;
    if (need_horizon)
      bo.delete_horizon_ms = f->now_ms + f->delete_retention_ms;
    else if (has_horizon)
      bo.delete_horizon_ms = h.base_timestamp;
    bo.last_offset_delta = h.last_offset_delta;
    if (bo.log_append_time)
      bo.max_timestamp = h.max_timestamp;
    sl_batch_builder_reset(f->builder, &bo);
    for (size_t i = 0; i < f->nkept; i++) {
      sl_record r = f->kept[i];
      r.headers = r.header_count > 0 ? f->hdrs + (uintptr_t)r.headers : NULL;
      rc = sl_batch_builder_add_record(f->builder, &r);
      if (rc)
        return sl_diag_set(diag, rc, -1,
                           "rebuilding the batch at offset %" PRId64 " failed",
                           h.base_offset);
    }
    rc = sl_batch_builder_finish(f->builder, out);
    if (rc)
      return rc;
    st->batches_rewritten++;
    res->action = SL__FILTER_REWRITE;
  } else if (retention == RETAIN_EMPTY) {
    sl_batch_builder_opts bo;
    sl_batch_builder_opts_init(&bo);
    bo.base_offset = h.base_offset;
    bo.partition_leader_epoch = h.partition_leader_epoch;
    bo.producer_id = h.producer_id;
    bo.producer_epoch = h.producer_epoch;
    bo.base_sequence = h.base_sequence;
    bo.transactional = sl_batch_is_transactional(&h);
    bo.control = control;
    bo.log_append_time = (h.attributes & SL_ATTR_LOG_APPEND_TIME) != 0;
    bo.last_offset_delta = h.last_offset_delta;
    bo.max_timestamp = h.max_timestamp;
    sl_batch_builder_reset(f->builder, &bo);
    rc = sl_batch_builder_finish(f->builder, out);
    if (rc)
      return rc;
    st->batches_emptied++;
    res->action = SL__FILTER_EMPTY;
  } else {
    if (control)
      st->markers_dropped++;
    st->batches_dropped++;
    return SL_OK;
  }
  sl_batch_header oh;
  rc = sl_batch_header_decode(out->data + start, out->len - start, &oh, diag);
  if (rc)
    return rc;
  res->max_timestamp = oh.max_timestamp;
  res->last_offset = sl_batch_last_offset(&oh);
  return SL_OK;
}

/* ------------------------------------------------------------------------ */
/* segments on disk                                                          */

#define PATH_CAP 4096
#define READ_CHUNK (1u << 20)

typedef struct seg {
  int64_t base;
  int64_t size;
  int64_t mtime_ms;
  int64_t largest_ts;     /* max batch timestamp, else mtime */
  int64_t first_batch_ts; /* -1 none */
  int64_t next_offset;    /* last offset + 1 of its last batch, base if none */
  int64_t batches;
  int64_t index_bytes, timeindex_bytes;
  bool has_txnindex;
} seg;

typedef struct clean_ctx clean_ctx;
struct clean_ctx {
  const char *dir;
  const sl_cleaner_opts *o;
  int64_t now;
  seg *segs;
  size_t nsegs;
  sl__aborted *aborted;
  size_t naborted, capaborted;
  sl__producer_last *prod;
  size_t nprod, capprod;
  sl__pid_index prod_index; /* while scanning; prod is sorted afterwards */
  int64_t first_unstable;   /* first offset of the earliest open transaction, -1 */
  long stop_after;          /* tests: simulated crash after this many file ops */
  long ops;
  sl_cleaner_stats *st;
  /* The swap's two in-place steps (see clean_group); NULL = the plain
   * directory versions.  `log` is the open log for sl_log_compact. */
  int (*retire)(struct clean_ctx *c, size_t gi, size_t gj, sl_diag *diag);
  int (*install)(struct clean_ctx *c, int64_t base, size_t gi, size_t gj, sl_diag *diag);
  sl_log *log;
  bool log_touched;
  int64_t log_start; /* the log's start offset if known (DeleteRecords), else -1 */
};

/* A simulated crash point (tests): SL_EINTERRUPTED with nothing cleaned up. */
static int step(clean_ctx *c) {
  if (c->stop_after >= 0 && c->ops++ >= c->stop_after)
    return SL_EINTERRUPTED;
  return SL_OK;
}

static int seg_path(const clean_ctx *c, char *out, int64_t base, const char *suffix) {
  return sl__segment_file_name(out, PATH_CAP, c->dir, base, suffix);
}

static int64_t file_mtime_ms(const struct stat *st) {
  return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

static int64_t file_len(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Whole-batch reader over one .log file. */
typedef struct seg_iter {
  int fd;
  const char *path;
  int64_t file_size;
  int64_t pos;
  sl_buf buf;
  int64_t buf_start;
  /* The active segment: anything invalid (a preallocated zero tail, a torn
   * write the log has not recovered yet) ends it instead of failing. */
  bool lenient;
} seg_iter;

static int iter_open(seg_iter *it, const char *path, sl_diag *diag) {
  memset(it, 0, sizeof(*it));
  it->fd = -1;
  it->path = path;
  sl_buf_init(&it->buf);
  int rc = sl__fio_open(path, O_RDONLY, 0, &it->fd, diag);
  if (rc)
    return rc;
  off_t sz;
  rc = sl__fio_file_size(it->fd, &sz, path, diag);
  it->file_size = sz;
  return rc;
}

static void iter_close(seg_iter *it) {
  sl__fio_close(it->fd);
  it->fd = -1;
  sl_buf_release(&it->buf);
}

static int iter_ensure(seg_iter *it, int64_t pos, size_t n, const uint8_t **p,
                       sl_diag *diag) {
  if (pos >= it->buf_start && pos + (int64_t)n <= it->buf_start + (int64_t)it->buf.len) {
    *p = it->buf.data + (pos - it->buf_start);
    return SL_OK;
  }
  size_t want = n > READ_CHUNK ? n : READ_CHUNK;
  if ((int64_t)want > it->file_size - pos)
    want = (size_t)(it->file_size - pos);
  sl_buf_reset(&it->buf);
  if (sl_buf_reserve(&it->buf, want) == NULL)
    return SL_ENOMEM;
  size_t got = 0;
  int rc = sl__fio_pread_all(it->fd, it->buf.data, want, pos, &got, it->path, diag);
  if (rc)
    return rc;
  it->buf.len = got;
  it->buf_start = pos;
  if (got < n)
    return SL_ETRUNCATED;
  *p = it->buf.data;
  return SL_OK;
}

/* 1 and the batch at *pos, 0 at the end (an incomplete tail ends the file). */
static int iter_next(seg_iter *it, const uint8_t **batch, size_t *size, int64_t *pos,
                     sl_diag *diag) {
  if (it->file_size - it->pos < 17)
    return 0;
  const uint8_t *p;
  int rc = iter_ensure(it, it->pos, 17, &p, diag);
  if (rc == SL_ETRUNCATED)
    return 0;
  if (rc)
    return rc;
  int64_t base;
  int32_t sz;
  int8_t magic;
  rc = sl_batch_peek(p, 17, &base, &sz, &magic);
  if (rc && it->lenient)
    return 0;
  if (rc) {
    sl_diag_set_path(diag, it->path);
    return sl_diag_set(diag, rc, it->pos, "invalid batch length or magic");
  }
  if ((int64_t)sz > it->file_size - it->pos)
    return 0;
  rc = iter_ensure(it, it->pos, (size_t)sz, &p, diag);
  if (rc == SL_ETRUNCATED)
    return 0;
  if (rc)
    return rc;
  rc = sl_batch_validate(p, (size_t)sz, it->lenient ? NULL : diag);
  if (rc && it->lenient)
    return 0;
  if (rc) {
    if (diag) {
      sl_diag_set_path(diag, it->path);
      diag->pos = it->pos;
    }
    return rc;
  }
  *batch = p;
  *size = (size_t)sz;
  *pos = it->pos;
  it->pos += sz;
  return 1;
}

static int cmp_seg(const void *a, const void *b) {
  int64_t x = ((const seg *)a)->base, y = ((const seg *)b)->base;
  return x < y ? -1 : x > y;
}

static int cmp_aborted(const void *a, const void *b) {
  const sl__aborted *x = a, *y = b;
  if (x->first_offset != y->first_offset)
    return x->first_offset < y->first_offset ? -1 : 1;
  return x->last_offset < y->last_offset ? -1 : x->last_offset > y->last_offset;
}

static int cmp_prod(const void *a, const void *b) {
  int64_t x = ((const sl__producer_last *)a)->producer_id;
  int64_t y = ((const sl__producer_last *)b)->producer_id;
  return x < y ? -1 : x > y;
}

static bool parse_log_name(const char *name, int64_t *base) {
  const char *suffix;
  return sl__parse_segment_name(name, base, &suffix) && strcmp(suffix, ".log") == 0;
}

static int list_segments(clean_ctx *c, sl_diag *diag) {
  DIR *d = opendir(c->dir);
  if (d == NULL)
    return sl__fio_error(errno, "opendir", c->dir, diag);
  int rc = SL_OK;
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int64_t base;
    if (!parse_log_name(e->d_name, &base))
      continue;
    if (c->nsegs == cap) {
      cap = cap ? cap * 2 : 16;
      seg *p = realloc(c->segs, cap * sizeof(*p));
      if (p == NULL) {
        rc = SL_ENOMEM;
        goto out;
      }
      c->segs = p;
    }
    seg *s = &c->segs[c->nsegs++];
    memset(s, 0, sizeof(*s));
    s->base = base;
  }
  if (c->nsegs > 1)
    qsort(c->segs, c->nsegs, sizeof(seg), cmp_seg);
out:
  closedir(d);
  return rc;
}

static int add_aborted(clean_ctx *c, const sl__aborted *a) {
  if (c->naborted == c->capaborted) {
    size_t cap = c->capaborted ? c->capaborted * 2 : 16;
    sl__aborted *p = realloc(c->aborted, cap * sizeof(*p));
    if (p == NULL)
      return SL_ENOMEM;
    c->aborted = p;
    c->capaborted = cap;
  }
  c->aborted[c->naborted++] = *a;
  return SL_OK;
}

static int read_txnindex(clean_ctx *c, seg *s, sl_diag *diag) {
  char path[PATH_CAP];
  int rc = seg_path(c, path, s->base, ".txnindex");
  if (rc)
    return rc;
  struct stat stt;
  if (stat(path, &stt) != 0)
    return SL_OK; /* created lazily: no aborts */
  s->has_txnindex = true;
  sl_buf b = SL_BUF_INIT;
  rc = sl__fio_read_file(path, (size_t)64 << 20, &b, diag);
  if (rc)
    goto out;
  sl_rbuf r;
  sl_rbuf_init(&r, b.data, b.len - b.len % 34);
  while (sl_rbuf_left(&r) >= 34) {
    int16_t version = sl_rbuf_i16(&r);
    sl__aborted a;
    a.producer_id = sl_rbuf_i64(&r);
    a.first_offset = sl_rbuf_i64(&r);
    a.last_offset = sl_rbuf_i64(&r);
    a.last_stable_offset = sl_rbuf_i64(&r);
    if (version != 0) {
      sl_diag_set_path(diag, path);
      rc = sl_diag_set(diag, SL_ECORRUPT, (int64_t)r.pos - 34,
                       "transaction index entry version %d", version);
      goto out;
    }
    rc = add_aborted(c, &a);
    if (rc)
      goto out;
  }
out:
  sl_buf_release(&b);
  return rc;
}

static sl__producer_last *prod_get(clean_ctx *c, int64_t pid) {
  size_t i;
  if (pid_index_find(&c->prod_index, pid, &i))
    return &c->prod[i];
  if (c->nprod == c->capprod) {
    size_t cap = c->capprod ? c->capprod * 2 : 16;
    sl__producer_last *p = realloc(c->prod, cap * sizeof(*p));
    if (p == NULL)
      return NULL;
    c->prod = p;
    c->capprod = cap;
  }
  if (pid_index_add(&c->prod_index, pid, c->nprod) != SL_OK)
    return NULL;
  sl__producer_last *p = &c->prod[c->nprod++];
  p->producer_id = pid;
  p->last_data_offset = -1;
  p->epoch = -1;
  return p;
}

/* Open transactions while scanning (for the first unstable offset). */
typedef struct open_txn {
  int64_t pid, first;
} open_txn;

/*
 * One pass over every batch header of the log: segment sizes, timestamps and
 * next offsets; each producer's last batch (Kafka's producer state, without
 * producer.id.expiration.ms: a producer is never considered expired, which
 * only keeps more empty batches); and the open transactions (the LSO).
 */
static int scan_log(clean_ctx *c, sl_diag *diag) {
  open_txn *open = NULL;
  size_t nopen = 0, capopen = 0;
  int rc = SL_OK;
  for (size_t i = 0; i < c->nsegs; i++) {
    seg *s = &c->segs[i];
    char path[PATH_CAP];
    rc = seg_path(c, path, s->base, ".log");
    if (rc)
      goto out;
    struct stat stt;
    if (stat(path, &stt) != 0) {
      rc = sl__fio_error(errno, "stat", path, diag);
      goto out;
    }
    s->mtime_ms = file_mtime_ms(&stt);
    s->largest_ts = -1;
    s->first_batch_ts = -1;
    s->next_offset = s->base;
    char ipath[PATH_CAP];
    if (seg_path(c, ipath, s->base, ".index") == SL_OK)
      s->index_bytes = file_len(ipath) > 0 ? file_len(ipath) : 0;
    if (seg_path(c, ipath, s->base, ".timeindex") == SL_OK)
      s->timeindex_bytes = file_len(ipath) > 0 ? file_len(ipath) : 0;
    rc = read_txnindex(c, s, diag);
    if (rc)
      goto out;
    seg_iter it;
    rc = iter_open(&it, path, diag);
    if (rc) {
      iter_close(&it);
      goto out;
    }
    it.lenient = i + 1 == c->nsegs;
    const uint8_t *b = NULL;
    size_t sz = 0;
    int64_t pos = 0;
    while ((rc = iter_next(&it, &b, &sz, &pos, diag)) == 1) {
      sl_batch_header h;
      memset(&h, 0, sizeof(h));
      if (b[SL_BATCH_OFF_MAGIC] == 2) {
        rc = sl_batch_header_decode(b, sz, &h, diag);
      } else {
        sl_batch_reader *r = NULL;
        rc = sl_batch_reader_new(0, &r);
        if (rc == SL_OK)
          rc = sl_batch_reader_open(r, b, sz, &h, diag);
        sl_batch_reader_free(r);
        h.producer_id = -1;
      }
      if (rc)
        break;
      s->batches++;
      if (s->batches == 1)
        s->first_batch_ts = h.max_timestamp;
      if (h.max_timestamp > s->largest_ts)
        s->largest_ts = h.max_timestamp;
      s->next_offset = sl_batch_last_offset(&h) + 1;
      if (h.magic < 2 || h.producer_id < 0)
        continue;
      sl__producer_last *p = prod_get(c, h.producer_id);
      if (p == NULL) {
        rc = SL_ENOMEM;
        break;
      }
      size_t k = 0;
      while (k < nopen && open[k].pid != h.producer_id)
        k++;
      if (sl_batch_is_control(&h)) {
        if (h.producer_epoch != p->epoch)
          p->last_data_offset = -1;
        p->epoch = h.producer_epoch;
        if (k < nopen)
          open[k] = open[--nopen];
      } else {
        p->last_data_offset = sl_batch_last_offset(&h);
        p->epoch = h.producer_epoch;
        if (sl_batch_is_transactional(&h) && k == nopen) {
          if (nopen == capopen) {
            size_t cap = capopen ? capopen * 2 : 8;
            open_txn *q = realloc(open, cap * sizeof(*q));
            if (q == NULL) {
              rc = SL_ENOMEM;
              break;
            }
            open = q;
            capopen = cap;
          }
          open[nopen].pid = h.producer_id;
          open[nopen].first = h.base_offset;
          nopen++;
        }
      }
    }
    s->size = it.pos; /* bytes of complete batches */
    iter_close(&it);
    if (rc < 0)
      goto out;
    rc = SL_OK;
    if (s->largest_ts < 0)
      s->largest_ts = s->mtime_ms;
  }
  c->first_unstable = -1;
  for (size_t k = 0; k < nopen; k++)
    if (c->first_unstable < 0 || open[k].first < c->first_unstable)
      c->first_unstable = open[k].first;
  if (c->nprod > 1)
    qsort(c->prod, c->nprod, sizeof(*c->prod), cmp_prod);
  pid_index_release(&c->prod_index); /* stale once sorted */
  if (c->naborted > 1)
    qsort(c->aborted, c->naborted, sizeof(*c->aborted), cmp_aborted);
out:
  free(open);
  return rc;
}

static int64_t log_end(const clean_ctx *c) {
  int64_t end = c->nsegs ? c->segs[0].base : 0;
  for (size_t i = 0; i < c->nsegs; i++) {
    if (c->segs[i].base > end)
      end = c->segs[i].base;
    if (c->segs[i].next_offset > end)
      end = c->segs[i].next_offset;
  }
  return end;
}

static int compute_plan(clean_ctx *c, sl_cleaner_plan *plan) {
  sl_cleaner_segment *v = calloc(c->nsegs, sizeof(*v));
  if (v == NULL)
    return SL_ENOMEM;
  for (size_t i = 0; i < c->nsegs; i++) {
    v[i].base_offset = c->segs[i].base;
    v[i].size_bytes = c->segs[i].size;
    v[i].largest_timestamp = c->segs[i].largest_ts;
    v[i].first_batch_timestamp = c->segs[i].first_batch_ts;
  }
  sl_cleaner_opts o = *c->o;
  o.now_ms = c->now;
  int64_t leo = log_end(c);
  if (c->first_unstable >= 0 &&
      (o.last_stable_offset < 0 || c->first_unstable < o.last_stable_offset))
    o.last_stable_offset = c->first_unstable;
  int64_t start = c->log_start > c->segs[0].base ? c->log_start : c->segs[0].base;
  int rc = sl_cleaner_plan_compute(v, c->nsegs, start, leo, &o, plan);
  free(v);
  return rc;
}

static void ctx_release(clean_ctx *c) {
  pid_index_release(&c->prod_index);
  free(c->segs);
  free(c->aborted);
  free(c->prod);
}

static int ctx_load(clean_ctx *c, const char *dir, const sl_cleaner_opts *o,
                    sl_diag *diag) {
  memset(c, 0, sizeof(*c));
  c->dir = dir;
  c->o = o;
  c->now = o->now_ms > 0 ? o->now_ms : wall_ms();
  c->stop_after = -1;
  c->first_unstable = -1;
  c->log_start = -1;

  int rc = list_segments(c, diag);
  if (rc)
    return rc;
  if (c->nsegs == 0) {
    sl_diag_set_path(diag, dir);
    return sl_diag_set(diag, SL_ENOT_FOUND, -1, "no segments");
  }
  return scan_log(c, diag);
}

int sl_cleaner_plan_dir(const char *dir, const sl_cleaner_opts *o, sl_cleaner_plan *plan,
                        sl_diag *diag) {
  clean_ctx c;
  sl_cleaner_opts oo;
  if (o != NULL)
    oo = *o;
  else
    sl_cleaner_opts_init(&oo);
  if (oo.first_dirty_offset < 0 &&
      sl_cleaner_checkpoint_read(dir, &oo.first_dirty_offset, NULL) != SL_OK)
    oo.first_dirty_offset = -1;
  int rc = ctx_load(&c, dir, &oo, diag);
  if (rc == SL_OK)
    rc = compute_plan(&c, plan);
  ctx_release(&c);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* the offset map over the dirty range                                       */

static int build_map(clean_ctx *c, sl__offset_map *map, int64_t start, int64_t end,
                     sl_diag *diag) {
  sl__offset_map_clear(map);
  sl__txn_meta txn;
  sl__txn_meta_init(&txn, c->aborted, c->naborted, NULL);
  sl_batch_reader *r = NULL;
  int rc = sl_batch_reader_new(0, &r);
  bool full = false;
  for (size_t i = 0; rc == SL_OK && !full && i < c->nsegs; i++) {
    seg *s = &c->segs[i];
    if (s->base >= end || (i + 1 < c->nsegs && c->segs[i + 1].base <= start))
      continue;
    char path[PATH_CAP];
    rc = seg_path(c, path, s->base, ".log");
    if (rc)
      break;
    seg_iter it;
    rc = iter_open(&it, path, diag);
    const uint8_t *b = NULL;
    size_t sz = 0;
    int64_t pos = 0;
    while (rc == SL_OK && (rc = iter_next(&it, &b, &sz, &pos, diag)) == 1) {
      rc = SL_OK;
      sl_batch_header h;
      rc = sl_batch_reader_open(r, b, sz, &h, diag);
      if (rc)
        break;
      if (sl_batch_last_offset(&h) < start)
        continue;
      c->st->map_bytes_read += (int64_t)sz;
      int discard = 0;
      if (h.magic >= 2 && sl_batch_is_control(&h)) {
        int type = -1;
        sl_record rec;
        if (h.records_count > 0 && sl_batch_reader_next(r, &rec, diag) == 1) {
          sl_control cc;
          if (sl_control_parse(&rec, &cc, NULL) == SL_OK)
            type = cc.type;
        }
        int crc = sl__txn_on_control(&txn, &h, type);
        if (crc < 0) {
          rc = crc;
          break;
        }
        c->st->map_records_read += 1;
        discard = 1; /* markers never enter the map */
      } else if (h.magic >= 2) {
        discard = sl__txn_on_batch(&txn, &h);
      }
      if (discard < 0) {
        rc = discard;
        break;
      }
      if (!discard) {
        sl_record rec;
        int n;
        while ((n = sl_batch_reader_next(r, &rec, diag)) == 1) {
          if (rec.key_len >= 0 && rec.offset >= start) {
            if (sl__offset_map_full(map)) {
              full = true;
              break;
            }
            rc = sl__offset_map_put(map, rec.key, (size_t)rec.key_len, rec.offset);
            if (rc == SL_ETOO_LARGE) {
              rc = SL_OK;
              full = true;
              break;
            }
            if (rc)
              break;
          }
          c->st->map_records_read++;
        }
        if (n < 0)
          rc = n;
        if (rc || full)
          break;
      } else if (!sl_batch_is_control(&h)) {
        c->st->map_records_read += h.records_count;
      }
      sl__offset_map_update_latest(map, sl_batch_last_offset(&h));
    }
    if (rc == 0 || rc == 1)
      rc = SL_OK;
    iter_close(&it);
    /* A fully mapped segment covers up to the next one's base (offset
     * gaps), or to the end of the dirty range. */
    if (rc == SL_OK && !full) {
      int64_t next =
          i + 1 < c->nsegs && c->segs[i + 1].base < end ? c->segs[i + 1].base : end;
      sl__offset_map_update_latest(map, next - 1);
    }
  }
  c->st->map_full = full;
  sl_batch_reader_free(r);
  sl__txn_meta_release(&txn);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* writing a cleaned segment                                                 */

static const char *const k_suffixes[4] = {".log", ".index", ".timeindex", ".txnindex"};

typedef struct out_seg {
  int64_t base;
  int fd;
  char path[PATH_CAP];
  int64_t written; /* bytes already in the file */
  sl_buf pending;
  sl_buf oidx, tidx, txn;
  int64_t bytes_since;
  int64_t max_ts, off_of_max;
  int64_t last_tidx_ts;
  size_t max_entries_o, max_entries_t;
  int64_t batches;
} out_seg;

static int out_flush(clean_ctx *c, out_seg *w, sl_diag *diag) {
  if (w->pending.len == 0)
    return SL_OK;
  int rc = step(c);
  if (rc)
    return rc;
  rc = sl__fio_write_all(w->fd, w->pending.data, w->pending.len, w->path, diag);
  if (rc)
    return rc;
  w->written += (int64_t)w->pending.len;
  sl_buf_reset(&w->pending);
  return SL_OK;
}

/* Index entries by the index.interval.bytes rule, after the batch at `pos`
 * (its bytes already in w->pending) was appended. */
static int out_index(clean_ctx *c, out_seg *w, int64_t pos, int64_t size,
                     const sl__filter_result *fr) {
  if (fr->max_timestamp > w->max_ts) {
    w->max_ts = fr->max_timestamp;
    w->off_of_max = fr->last_offset;
  }
  if (w->bytes_since > c->o->index_interval_bytes) {
    if (w->oidx.len / 8 < w->max_entries_o) {
      sl_buf_i32(&w->oidx, (int32_t)(fr->last_offset - w->base));
      sl_buf_i32(&w->oidx, (int32_t)pos);
    }
    if (w->max_ts > w->last_tidx_ts && w->tidx.len / 12 + 1 < w->max_entries_t) {
      sl_buf_i64(&w->tidx, w->max_ts);
      sl_buf_i32(&w->tidx, (int32_t)(w->off_of_max - w->base));
      w->last_tidx_ts = w->max_ts;
    }
    w->bytes_since = 0;
  }
  w->bytes_since += size;
  w->batches++;
  return w->oidx.err || w->tidx.err ? SL_ENOMEM : SL_OK;
}

static int write_small(clean_ctx *c, const char *path, const sl_buf *b, sl_diag *diag) {
  int fd = -1;
  int rc = step(c);
  if (rc)
    return rc;
  rc = sl__fio_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644, &fd, diag);
  if (rc)
    return rc;
  if (b->len > 0 && (rc = step(c)) == SL_OK)
    rc = sl__fio_write_all(fd, b->data, b->len, path, diag);
  if (rc == SL_OK && (rc = step(c)) == SL_OK)
    rc = sl__fio_fsync(fd, path, diag);
  sl__fio_close(fd);
  return rc;
}

static void unlink_cleaned(clean_ctx *c, int64_t base) {
  char path[PATH_CAP];
  for (int k = 0; k < 4; k++) {
    char suf[32];
    snprintf(suf, sizeof(suf), "%s.cleaned", k_suffixes[k]);
    if (seg_path(c, path, base, suf) == SL_OK)
      (void)sl__fio_unlink(path, NULL);
  }
}

/* Renames <base><suffix><from> to <base><suffix><to> for each file that
 * exists (the txnindex is optional). */
static int rename_set(clean_ctx *c, int64_t base, const char *from, const char *to,
                      bool txn, sl_diag *diag) {
  for (int k = 0; k < 4; k++) {
    if (k == 3 && !txn)
      continue;
    char a[PATH_CAP], b[PATH_CAP], sa[32], sb[32];
    snprintf(sa, sizeof(sa), "%s%s", k_suffixes[k], from);
    snprintf(sb, sizeof(sb), "%s%s", k_suffixes[k], to);
    int rc = seg_path(c, a, base, sa);
    if (rc == SL_OK)
      rc = seg_path(c, b, base, sb);
    if (rc)
      return rc;
    struct stat st;
    if (stat(a, &st) != 0)
      continue; /* e.g. an index the source segment never had */
    rc = step(c);
    if (rc)
      return rc;
    rc = sl__fio_rename(a, b, diag);
    if (rc)
      return rc;
  }
  return SL_OK;
}

static int dir_retire(clean_ctx *c, size_t gi, size_t gj, sl_diag *diag) {
  for (size_t i = gi; i < gj; i++) {
    int rc = rename_set(c, c->segs[i].base, "", ".deleted", true, diag);
    if (rc)
      return rc;
  }
  return SL_OK;
}

/* Removes the replaced files (no reader holds them: the log is not open). */
static int dir_install(clean_ctx *c, int64_t base, size_t gi, size_t gj, sl_diag *diag) {
  (void)base;
  char path[PATH_CAP];
  for (size_t i = gi; i < gj; i++) {
    for (int k = 0; k < 4; k++) {
      char suf[32];
      snprintf(suf, sizeof(suf), "%s.deleted", k_suffixes[k]);
      int rc = seg_path(c, path, c->segs[i].base, suf);
      if (rc == SL_OK)
        rc = step(c);
      if (rc == SL_OK)
        rc = sl__fio_unlink(path, diag);
      if (rc)
        return rc;
    }
  }
  return SL_OK;
}

/* Takes the log's mutex and checks that every source segment of the group
 * is still in the log's list, inactive, with the size the round read.  On
 * failure the mutex is released. */
static int log_lock_check(clean_ctx *c, size_t gi, size_t gj, sl_diag *diag) {
  sl_log *log = c->log;
  pthread_mutex_lock(&log->mu);
  int rc = SL_OK;
  if (log->failed) {
    rc = SL_EFAILED;
    goto out;
  }
  for (size_t g = gi; g < gj; g++) {
    bool ok = false;
    for (size_t i = 0; i + 1 < log->nsegs; i++)
      if (log->segs[i]->base == c->segs[g].base && log->segs[i]->size == c->segs[g].size)
        ok = true;
    if (!ok) {
      rc = sl_diag_set(diag, SL_ENOT_FOUND, -1,
                       "segment %020" PRId64 " changed while it was being cleaned",
                       c->segs[g].base);
      goto out;
    }
  }
out:
  if (rc)
    pthread_mutex_unlock(&log->mu);
  return rc;
}

/*
 * Cleans segments [gi, gj) into one segment named after segs[gi] and swaps it
 * in.  *committed is set once the .swap files exist (from then on a failure
 * is repaired by the log's load, never by us).
 */
static int clean_group(clean_ctx *c, sl__filter *f, sl__txn_meta *txn, size_t gi,
                       size_t gj, int64_t legacy_horizon, sl_diag *diag) {
  out_seg w;
  memset(&w, 0, sizeof(w));
  w.fd = -1;
  w.base = c->segs[gi].base;
  w.max_ts = -1;
  w.last_tidx_ts = -1;
  w.max_entries_o = (size_t)c->o->segment_index_bytes / 8;
  w.max_entries_t = (size_t)c->o->segment_index_bytes / 12;
  sl_buf_init(&w.pending);
  sl_buf_init(&w.oidx);
  sl_buf_init(&w.tidx);
  sl_buf_init(&w.txn);
  txn->txn_out = &w.txn;
  bool created = false, committed = false, locked = false;
  int rc = seg_path(c, w.path, w.base, ".log.cleaned");
  if (rc)
    goto out;
  unlink_cleaned(c, w.base);
  if ((rc = step(c)) != SL_OK)
    goto out;
  rc = sl__fio_open(w.path, O_WRONLY | O_CREAT | O_TRUNC, 0644, &w.fd, diag);
  if (rc)
    goto out;
  created = true;

  for (size_t i = gi; i < gj; i++) {
    seg *s = &c->segs[i];
    c->st->bytes_before += s->size;
    c->st->segments_before++;
    f->retain_legacy_deletes = s->mtime_ms > legacy_horizon;
    char path[PATH_CAP];
    rc = seg_path(c, path, s->base, ".log");
    if (rc)
      goto out;
    seg_iter it;
    rc = iter_open(&it, path, diag);
    const uint8_t *b = NULL;
    size_t sz = 0;
    int64_t pos = 0;
    while (rc == SL_OK && (rc = iter_next(&it, &b, &sz, &pos, diag)) == 1) {
      rc = SL_OK;
      size_t before = w.pending.len;
      int64_t out_pos = w.written + (int64_t)before;
      sl__filter_result fr;
      rc = sl__filter_batch(f, b, sz, &w.pending, &fr, diag);
      if (rc)
        break;
      if (fr.action != SL__FILTER_DROP) {
        rc = out_index(c, &w, out_pos, (int64_t)(w.pending.len - before), &fr);
        if (rc)
          break;
      }
      if (w.pending.len >= READ_CHUNK)
        rc = out_flush(c, &w, diag);
    }
    if (rc == 1 || rc == 0)
      rc = SL_OK;
    iter_close(&it);
    if (rc)
      goto out;
  }
  rc = out_flush(c, &w, diag);
  if (rc)
    goto out;
  if ((rc = step(c)) != SL_OK)
    goto out;
  rc = sl__fio_fsync(w.fd, w.path, diag);
  if (rc)
    goto out;
  sl__fio_close(w.fd);
  w.fd = -1;
  /* Final time-index entry (onBecomeInactiveSegment). */
  if (w.max_ts > w.last_tidx_ts) {
    sl_buf_i64(&w.tidx, w.max_ts);
    sl_buf_i32(&w.tidx, (int32_t)(w.off_of_max - w.base));
  }
  if (w.tidx.err || w.oidx.err || w.txn.err) {
    rc = SL_ENOMEM;
    goto out;
  }
  char path[PATH_CAP];
  if ((rc = seg_path(c, path, w.base, ".index.cleaned")) ||
      (rc = write_small(c, path, &w.oidx, diag)))
    goto out;
  if ((rc = seg_path(c, path, w.base, ".timeindex.cleaned")) ||
      (rc = write_small(c, path, &w.tidx, diag)))
    goto out;
  bool txn_file = w.txn.len > 0;
  if (txn_file && ((rc = seg_path(c, path, w.base, ".txnindex.cleaned")) ||
                   (rc = write_small(c, path, &w.txn, diag))))
    goto out;
  /* mtime of the last source segment (retention and the legacy horizon
   * look at it). */
  {
    int64_t m = c->segs[gj - 1].mtime_ms;
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = (time_t)(m / 1000);
    ts[0].tv_nsec = ts[1].tv_nsec = (long)(m % 1000) * 1000000;
    if ((rc = step(c)) != SL_OK)
      goto out;
    if (utimensat(AT_FDCWD, w.path, ts, 0) != 0) {
      rc = sl__fio_error(errno, "utimensat", w.path, diag);
      goto out;
    }
  }
  /* On an open log, the swap happens under the log's mutex, after checking
   * that retention or truncation did not change the sources meanwhile. */
  if (c->log != NULL) {
    rc = log_lock_check(c, gi, gj, diag);
    if (rc)
      goto out;
    locked = true;
  }
  /* .cleaned -> .swap: the commit point once the directory is synced. */
  rc = rename_set(c, w.base, ".cleaned", ".swap", txn_file, diag);
  if (rc)
    goto out;
  committed = true;
  if ((rc = step(c)) != SL_OK || (rc = sl__fio_fsync_dir(c->dir, diag)) != SL_OK)
    goto out;
  /* Old segments -> .deleted (every file, the txnindex if any). */
  rc = c->retire(c, gi, gj, diag);
  if (rc)
    goto out;
  /* .swap -> final name. */
  rc = rename_set(c, w.base, ".swap", "", txn_file, diag);
  if (rc)
    goto out;
  if ((rc = step(c)) != SL_OK || (rc = sl__fio_fsync_dir(c->dir, diag)) != SL_OK)
    goto out;
  rc = c->install(c, w.base, gi, gj, diag);
  if (rc)
    goto out;
  c->st->segments_after++;
  c->st->bytes_after += w.written;
out:
  if (rc && rc != SL_EINTERRUPTED && created && !committed)
    unlink_cleaned(c, w.base);
  if (locked) {
    /* Once segments left the log's list, a failure leaves the list and the
     * files in disagreement: latch the log; its next open repairs the dir. */
    if (rc && c->log_touched)
      rc = sl__log_latch(c->log, rc, diag);
    pthread_mutex_unlock(&c->log->mu);
  }
  sl__fio_close(w.fd);
  sl_buf_release(&w.pending);
  sl_buf_release(&w.oidx);
  sl_buf_release(&w.tidx);
  sl_buf_release(&w.txn);
  txn->txn_out = NULL;
  return rc;
}

/* Kafka's groupSegmentsBySize over segs[0, n). Returns the end of the group
 * starting at i. */
static size_t group_end(const clean_ctx *c, size_t i, size_t n,
                        int64_t first_uncleanable) {
  const seg *s = &c->segs[i];
  int64_t log_size = s->size, idx = s->index_bytes, tidx = s->timeindex_bytes;
  size_t j = i + 1;
  while (j < n) {
    const seg *t = &c->segs[j];
    /* lastOffsetForFirstSegment: the next base - 1, or for the last one the
     * first uncleanable offset - 1. */
    int64_t last = j + 1 < n ? c->segs[j + 1].base - 1 : first_uncleanable - 1;
    if (log_size + t->size > c->o->segment_bytes ||
        idx + t->index_bytes > c->o->segment_index_bytes ||
        tidx + t->timeindex_bytes > c->o->segment_index_bytes ||
        (t->size != 0 && last - s->base > INT32_MAX))
      break;
    log_size += t->size;
    idx += t->index_bytes;
    tidx += t->timeindex_bytes;
    j++;
  }
  return j;
}

/* ------------------------------------------------------------------------ */
/* cleaner-offset-checkpoint                                                 */

/* "<log dir>/cleaner-offset-checkpoint" and the topic/partition of `dir`;
 * SL_EINVAL when dir is not named like a partition dir. */
static int checkpoint_where(const char *dir, char *path, size_t cap, sl_pdir_name *pn) {
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/')
    len--;
  size_t s = len;
  while (s > 0 && dir[s - 1] != '/')
    s--;
  char name[512];
  if (len - s == 0 || len - s >= sizeof(name))
    return SL_EINVAL;
  memcpy(name, dir + s, len - s);
  name[len - s] = '\0';
  if (sl_pdir_name_parse(name, pn, NULL) != SL_OK || pn->kind != SL_PDIR_NORMAL)
    return SL_EINVAL;
  int n = s > 0 ? snprintf(path, cap, "%.*s%s", (int)s, dir, SL_CLEANER_OFFSET_CHECKPOINT)
                : snprintf(path, cap, "%s", SL_CLEANER_OFFSET_CHECKPOINT);
  return n > 0 && (size_t)n < cap ? SL_OK : SL_EINVAL;
}

int sl_cleaner_checkpoint_read(const char *dir, int64_t *offset, sl_diag *diag) {
  *offset = -1;
  char path[PATH_CAP];
  sl_pdir_name pn;
  if (checkpoint_where(dir, path, sizeof(path), &pn) != SL_OK)
    return SL_OK;
  sl_offset_checkpoint cp;
  sl_offset_checkpoint_init(&cp);
  int rc = sl_offset_checkpoint_read(path, &cp, diag);
  if (rc == SL_OK) {
    const sl_offset_entry *e = sl_offset_checkpoint_find(&cp, pn.topic, pn.partition);
    if (e != NULL)
      *offset = e->offset;
  }
  sl_offset_checkpoint_release(&cp);
  return rc;
}

int sl_cleaner_checkpoint_update(const char *dir, int64_t offset, sl_diag *diag) {
  char path[PATH_CAP];
  sl_pdir_name pn;
  if (checkpoint_where(dir, path, sizeof(path), &pn) != SL_OK)
    return sl_diag_set(diag, SL_EINVAL, -1, "%s is not a partition directory name", dir);
  sl_offset_checkpoint cp;
  sl_offset_checkpoint_init(&cp);
  /* A corrupt file is replaced (Kafka treats it as empty). */
  int rc = sl_offset_checkpoint_read(path, &cp, NULL);
  if (rc != SL_OK)
    sl_offset_checkpoint_reset(&cp);
  rc = sl_offset_checkpoint_set(&cp, pn.topic, pn.partition, offset);
  if (rc == SL_OK)
    rc = sl_offset_checkpoint_write(path, &cp, diag);
  sl_offset_checkpoint_release(&cp);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* the cleaning round                                                        */

/* The log versions of the swap steps: the replaced segments leave the log's
 * list and are renamed *.deleted and removed after file.delete.delay.ms
 * (slices held by readers stay readable); the cleaned segment joins it. */
static int log_retire(clean_ctx *c, size_t gi, size_t gj, sl_diag *diag) {
  sl_log *log = c->log;
  for (size_t g = gi; g < gj; g++) {
    for (size_t i = 0; i < log->nsegs; i++) {
      if (log->segs[i]->base != c->segs[g].base)
        continue;
      c->log_touched = true;
      sl__segment *s = sl__log_remove_segment_at(log, i);
      int rc = sl__log_schedule_delete(log, s, c->now, diag);
      if (rc)
        return rc;
      break;
    }
  }
  return SL_OK;
}

static int log_install(clean_ctx *c, int64_t base, size_t gi, size_t gj, sl_diag *diag) {
  (void)gi;
  (void)gj;
  sl__segment_config sc;
  sl__log_segment_config(c->log, &sc);
  sl__segment *s = NULL;
  int rc = sl__segment_open(c->log->dir, base, &sc, SL__SEG_WRITABLE, c->now, &s, diag);
  if (rc)
    return rc;
  rc = sl__log_add_segment(c->log, s, diag);
  if (rc)
    sl__segment_unref(s);
  return rc;
}

static int clean_round(const char *dir, const sl_cleaner_opts *o, sl_cleaner_stats *stats,
                       long stop_after, sl_log *log, int64_t log_start, sl_diag *diag) {
  sl_cleaner_stats local;
  sl_cleaner_stats *st = stats ? stats : &local;
  memset(st, 0, sizeof(*st));
  int64_t t0 = mono_us();
  sl_cleaner_opts oo = *o;
  clean_ctx c;
  sl__offset_map map;
  memset(&map, 0, sizeof(map));
  sl__filter f;
  memset(&f, 0, sizeof(f));
  sl__txn_meta txn;
  sl__txn_meta_init(&txn, NULL, 0, NULL);
  bool use_checkpoint = oo.first_dirty_offset < 0;
  int rc = SL_OK;
  if (use_checkpoint) {
    rc = sl_cleaner_checkpoint_read(dir, &oo.first_dirty_offset, NULL);
    if (rc != SL_OK)
      oo.first_dirty_offset = -1; /* unreadable: as if absent (Kafka) */
  }
  rc = ctx_load(&c, dir, &oo, diag);
  c.st = st;
  if (rc)
    goto out;
  c.stop_after = stop_after;
  c.log = log;
  c.log_start = log_start;
  c.retire = log != NULL ? log_retire : dir_retire;
  c.install = log != NULL ? log_install : dir_install;
  rc = compute_plan(&c, &st->plan);
  if (rc)
    goto out;
  st->end_offset = st->plan.first_dirty_offset;
  if (!st->plan.should_clean)
    goto out;

  rc = sl__offset_map_init(&map, oo.dedupe_buffer_size, oo.dedupe_load_factor);
  if (rc) {
    rc = sl_diag_set(diag, rc, -1, "log.cleaner.dedupe.buffer.size %" PRId64 " too small",
                     oo.dedupe_buffer_size);
    goto out;
  }
  int64_t first_dirty = st->plan.first_dirty_offset;
  int64_t first_uncleanable = st->plan.first_uncleanable_offset;
  rc = build_map(&c, &map, first_dirty, first_uncleanable, diag);
  if (rc)
    goto out;
  int64_t end = map.latest_offset + 1;
  st->map_entries = (int64_t)map.size;
  st->map_utilization = map.nslots ? (double)map.size / (double)map.nslots : 0.0;
  if (end <= first_dirty) {
    if (st->map_full)
      rc = sl_diag_set(diag, SL_ETOO_LARGE, -1,
                       "the dedupe buffer cannot hold the keys of one batch");
    goto out;
  }
  st->end_offset = end;

  /* Legacy (v0/v1) tombstones live until the last clean segment's mtime
   * minus delete.retention.ms. */
  int64_t legacy_horizon = 0;
  for (size_t i = 0; i < c.nsegs; i++)
    if (c.segs[i].base < first_dirty)
      legacy_horizon = c.segs[i].mtime_ms - oo.delete_retention_ms;

  rc = sl__filter_init(&f, oo.max_message_bytes);
  if (rc)
    goto out;
  sl__txn_meta_init(&txn, c.aborted, c.naborted, NULL);
  f.map = &map;
  f.now_ms = c.now;
  f.delete_retention_ms = oo.delete_retention_ms;
  /* Kafka passes the first uncleanable offset as the round's upper bound
   * (its last batch is kept, empty if need be). */
  f.upper_bound_offset = first_uncleanable;
  f.txn = &txn;
  f.producers = c.prod;
  f.nproducers = c.nprod;
  f.stats = st;

  size_t n = 0; /* segments overlapping [0, end) */
  while (n < c.nsegs && c.segs[n].base < end)
    n++;
  for (size_t i = 0; i < n;) {
    size_t j = group_end(&c, i, n, first_uncleanable);
    bool any = false;
    for (size_t k = i; k < j; k++)
      any = any || c.segs[k].batches > 0;
    if (any) {
      rc = clean_group(&c, &f, &txn, i, j, legacy_horizon, diag);
      if (rc)
        goto out;
    }
    i = j;
  }
  st->cleaned = true;
  {
    sl_pdir_name pn;
    char path[PATH_CAP];
    if (checkpoint_where(dir, path, sizeof(path), &pn) == SL_OK) {
      if ((rc = step(&c)) == SL_OK)
        rc = sl_cleaner_checkpoint_update(dir, end, diag);
    }
  }
out:
  st->duration_us = mono_us() - t0;
  if (st->duration_us > 0)
    st->mb_per_s = (double)st->bytes_before / (double)st->duration_us;
  sl__txn_meta_release(&txn);
  sl__filter_release(&f);
  sl__offset_map_release(&map);
  ctx_release(&c);
  return rc;
}

int sl__cleaner_clean_dir_ex(const char *dir, const sl_cleaner_opts *o,
                             sl_cleaner_stats *stats, long stop_after, sl_diag *diag) {
  sl_cleaner_opts def;
  if (o == NULL) {
    sl_cleaner_opts_init(&def);
    o = &def;
  }
  return clean_round(dir, o, stats, stop_after, NULL, -1, diag);
}

int sl_cleaner_clean_dir(const char *dir, const sl_cleaner_opts *o,
                         sl_cleaner_stats *stats, sl_diag *diag) {
  return sl__cleaner_clean_dir_ex(dir, o, stats, -1, diag);
}

void sl_cleaner_opts_from_log_config(sl_cleaner_opts *o, const sl_log_config *cfg) {
  o->delete_retention_ms = cfg->delete_retention_ms;
  o->min_cleanable_dirty_ratio = cfg->min_cleanable_dirty_ratio;
  o->min_compaction_lag_ms = cfg->min_compaction_lag_ms;
  o->max_compaction_lag_ms = cfg->max_compaction_lag_ms;
  o->segment_bytes = cfg->segment_bytes;
  o->segment_index_bytes = cfg->segment_index_bytes;
  o->index_interval_bytes = cfg->index_interval_bytes;
  o->max_message_bytes = cfg->max_message_bytes;
}

int sl_log_compact(sl_log *log, const sl_cleaner_opts *o, sl_cleaner_stats *stats,
                   sl_diag *diag) {
  if (log == NULL)
    return SL_EINVAL;
  sl_cleaner_opts oo;
  if (o != NULL) {
    oo = *o;
  } else {
    sl_cleaner_opts_init(&oo);
    sl_cleaner_opts_from_log_config(&oo, &log->cfg);
  }
  pthread_mutex_lock(&log->mu);
  int rc = SL_OK;
  if (log->readonly)
    rc = SL_EREADONLY;
  else if (log->failed)
    rc = SL_EFAILED;
  /* Never past the high watermark (the LSO is at most the HW). */
  if (oo.last_stable_offset < 0 || oo.last_stable_offset > log->hw)
    oo.last_stable_offset = log->hw;
  int64_t log_start = log->log_start;
  pthread_mutex_unlock(&log->mu);
  /* The round runs without the mutex (appends go on); each group's swap
   * takes it (clean_group). */
  if (rc == SL_OK)
    rc = clean_round(log->dir, &oo, stats, -1, log, log_start, diag);
  return rc;
}
