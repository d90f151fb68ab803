/*
 * log.c - the partition log (seglog/log.h): configuration, open/close,
 * append (leader and follower paths, Kafka's roll rules), zero-copy reads
 * bounded by a max offset, ListOffsets lookups, roll, truncation for
 * replication, DeleteRecords, flush with a recovery point and the failed
 * latch, and the state getters.  Loading and recovery are in recovery.c,
 * retention in retention.c, the dir lock in lock.c.  Design: docs/FORMAT.md,
 * "Segments", "Recovery", "Retention" and "Durability".
 */
#include "log_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio_int.h"
#include "seglog/batch.h"

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

int64_t sl__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sl__diag_path(sl_diag *diag, const char *path) {
  if (diag == NULL || path == NULL)
    return;
  size_t n = strlen(path);
  if (n >= sizeof(diag->path))
    n = sizeof(diag->path) - 1;
  memcpy(diag->path, path, n);
  diag->path[n] = '\0';
}

static uint64_t rng_next(uint64_t *s) {
  /* xorshift64*: only for the roll jitter. */
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

void sl__log_segment_config(sl_log *log, sl__segment_config *sc) {
  sc->index_interval_bytes = log->cfg.index_interval_bytes;
  sc->max_index_bytes = log->cfg.segment_index_bytes;
  sc->segment_bytes = log->cfg.segment_bytes;
  sc->preallocate = log->cfg.preallocate;
  int64_t bound = log->cfg.segment_jitter_ms < log->cfg.segment_ms
                      ? log->cfg.segment_jitter_ms
                      : log->cfg.segment_ms;
  sc->roll_jitter_ms = bound > 0 ? (int64_t)(rng_next(&log->rng) % (uint64_t)bound) : 0;
}

int sl__log_add_segment(sl_log *log, sl__segment *s, sl_diag *diag) {
  if (log->nsegs == log->capsegs) {
    size_t nc = log->capsegs ? log->capsegs * 2 : 8;
    sl__segment **n = realloc(log->segs, nc * sizeof(*n));
    if (n == NULL)
      return sl_diag_set(diag, SL_ENOMEM, -1, "segment list");
    log->segs = n;
    log->capsegs = nc;
  }
  size_t i = log->nsegs;
  while (i > 0 && log->segs[i - 1]->base > s->base) {
    log->segs[i] = log->segs[i - 1];
    i--;
  }
  log->segs[i] = s;
  log->nsegs++;
  return SL_OK;
}

sl__segment *sl__log_remove_segment_at(sl_log *log, size_t i) {
  sl__segment *s = log->segs[i];
  memmove(&log->segs[i], &log->segs[i + 1], (log->nsegs - i - 1) * sizeof(*log->segs));
  log->nsegs--;
  return s;
}

int sl__log_latch(sl_log *log, int rc, sl_diag *diag) {
  log->failed = true;
  if (diag) {
    char cause[sizeof(diag->msg)];
    snprintf(cause, sizeof(cause), "%s", diag->msg);
    sl_diag_set(diag, SL_EFAILED, diag->pos, "log %s failed (%s): %.180s", log->dir,
                sl_errname(rc), cause);
  }
  return SL_EFAILED;
}

int sl__batch_marker(const uint8_t *batch, size_t size, sl_control *ctl, bool *has,
                     sl_diag *diag) {
  sl_batch_reader *r = NULL;
  sl_record rec;
  *has = false;
  int rc = sl_batch_reader_new(0, &r);
  if (rc == SL_OK)
    rc = sl_batch_reader_open(r, batch, size, NULL, diag);
  if (rc == SL_OK) {
    int more = sl_batch_reader_next(r, &rec, diag);
    if (more < 0)
      rc = more;
    else if (more == 1) {
      rc = sl_control_parse(&rec, ctl, diag);
      *has = rc == SL_OK;
    }
  }
  sl_batch_reader_free(r);
  return rc;
}

int sl__log_add_aborted(sl__segment *s, const sl_pstate_txn *txns, size_t n,
                        sl_diag *diag) {
  for (size_t i = 0; i < n; i++) {
    if (!txns[i].aborted)
      continue;
    sl_aborted_txn t = {0, txns[i].producer_id, txns[i].first_offset, txns[i].last_offset,
                        txns[i].last_stable_offset};
    int rc = sl__txnindex_append(&s->txn, &t, diag);
    if (rc)
      return rc;
  }
  return SL_OK;
}

static sl__segment *active(sl_log *log) {
  return log->nsegs ? log->segs[log->nsegs - 1] : NULL;
}

/* Index of the segment with the largest base <= offset, or 0. */
static size_t floor_segment(sl_log *log, int64_t offset) {
  size_t lo = 0, hi = log->nsegs;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (log->segs[mid]->base <= offset)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

static int64_t now_or(int64_t now_ms) {
  return now_ms > 0 ? now_ms : sl__now_ms();
}

/* ---------------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------------- */

void sl_log_config_init(sl_log_config *c) {
  c->segment_bytes = 1073741824;
  c->segment_ms = 604800000LL;
  c->segment_jitter_ms = 0;
  c->segment_index_bytes = 10485760;
  c->index_interval_bytes = 4096;
  c->retention_ms = 604800000LL;
  c->retention_bytes = -1;
  c->max_message_bytes = 1048588;
  c->message_timestamp_type = SL_TIMESTAMP_CREATE_TIME;
  c->flush_messages = INT64_MAX;
  c->flush_ms = INT64_MAX;
  c->file_delete_delay_ms = 60000;
  c->preallocate = false;
  c->cleanup_policy = SL_CLEANUP_DELETE;
  c->delete_retention_ms = 86400000LL;
  c->min_cleanable_dirty_ratio = 0.5;
  c->min_compaction_lag_ms = 0;
  c->max_compaction_lag_ms = INT64_MAX;
  c->roll_flush_async = false;
}

static int parse_i64(const char *v, int64_t *out) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0')
    return SL_EINVAL;
  *out = x;
  return SL_OK;
}

int sl_log_config_set(sl_log_config *c, const char *name, const char *value,
                      sl_diag *diag) {
  int64_t v = 0;
  struct {
    const char *name;
    int64_t *p64;
    int32_t *p32;
  } ints[] = {
      {"segment.bytes", NULL, &c->segment_bytes},
      {"segment.ms", &c->segment_ms, NULL},
      {"segment.jitter.ms", &c->segment_jitter_ms, NULL},
      {"segment.index.bytes", NULL, &c->segment_index_bytes},
      {"index.interval.bytes", NULL, &c->index_interval_bytes},
      {"retention.ms", &c->retention_ms, NULL},
      {"retention.bytes", &c->retention_bytes, NULL},
      {"max.message.bytes", NULL, &c->max_message_bytes},
      {"flush.messages", &c->flush_messages, NULL},
      {"flush.ms", &c->flush_ms, NULL},
      {"file.delete.delay.ms", &c->file_delete_delay_ms, NULL},
      {"delete.retention.ms", &c->delete_retention_ms, NULL},
      {"min.compaction.lag.ms", &c->min_compaction_lag_ms, NULL},
      {"max.compaction.lag.ms", &c->max_compaction_lag_ms, NULL},
  };
  for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
    if (strcmp(name, ints[i].name) != 0)
      continue;
    if (parse_i64(value, &v) != SL_OK)
      return sl_diag_set(diag, SL_EINVAL, -1, "%s: '%s' is not an integer", name, value);
    if (ints[i].p32 != NULL) {
      if (v < INT32_MIN || v > INT32_MAX)
        return sl_diag_set(diag, SL_EINVAL, -1, "%s: %lld is out of the int range", name,
                           (long long)v);
      *ints[i].p32 = (int32_t)v;
    } else {
      *ints[i].p64 = v;
    }
    return SL_OK;
  }
  if (strcmp(name, "message.timestamp.type") == 0) {
    if (strcmp(value, "CreateTime") == 0)
      c->message_timestamp_type = SL_TIMESTAMP_CREATE_TIME;
    else if (strcmp(value, "LogAppendTime") == 0)
      c->message_timestamp_type = SL_TIMESTAMP_LOG_APPEND_TIME;
    else
      return sl_diag_set(diag, SL_EINVAL, -1,
                         "message.timestamp.type: '%s' (CreateTime or LogAppendTime)",
                         value);
    return SL_OK;
  }
  if (strcmp(name, "preallocate") == 0) {
    if (strcmp(value, "true") == 0)
      c->preallocate = true;
    else if (strcmp(value, "false") == 0)
      c->preallocate = false;
    else
      return sl_diag_set(diag, SL_EINVAL, -1, "preallocate: '%s' (true or false)", value);
    return SL_OK;
  }
  if (strcmp(name, "cleanup.policy") == 0) {
    unsigned p = 0;
    const char *s = value;
    while (*s) {
      const char *e = strchr(s, ',');
      size_t n = e ? (size_t)(e - s) : strlen(s);
      while (n > 0 && *s == ' ') {
        s++;
        n--;
      }
      while (n > 0 && s[n - 1] == ' ')
        n--;
      if (n == 6 && memcmp(s, "delete", 6) == 0)
        p |= SL_CLEANUP_DELETE;
      else if (n == 7 && memcmp(s, "compact", 7) == 0)
        p |= SL_CLEANUP_COMPACT;
      else if (n > 0)
        return sl_diag_set(diag, SL_EINVAL, -1, "cleanup.policy: unknown policy in '%s'",
                           value);
      if (e == NULL)
        break;
      s = e + 1;
    }
    c->cleanup_policy = p;
    return SL_OK;
  }
  if (strcmp(name, "min.cleanable.dirty.ratio") == 0) {
    char *end;
    errno = 0;
    double d = strtod(value, &end);
    if (errno != 0 || end == value || *end != '\0' || !(d >= 0.0 && d <= 1.0))
      return sl_diag_set(diag, SL_EINVAL, -1,
                         "min.cleanable.dirty.ratio: '%s' (a number in [0, 1])", value);
    c->min_cleanable_dirty_ratio = d;
    return SL_OK;
  }
  return sl_diag_set(diag, SL_ENOT_FOUND, -1, "unknown topic config '%s'", name);
}

int sl_log_config_validate(const sl_log_config *c, sl_diag *diag) {
  if (c->segment_bytes < 14)
    return sl_diag_set(diag, SL_EINVAL, -1, "segment.bytes %d is below 14",
                       c->segment_bytes);
  if (c->segment_ms < 1)
    return sl_diag_set(diag, SL_EINVAL, -1, "segment.ms must be >= 1");
  if (c->segment_jitter_ms < 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "segment.jitter.ms must be >= 0");
  if (c->segment_index_bytes < 4)
    return sl_diag_set(diag, SL_EINVAL, -1, "segment.index.bytes must be >= 4");
  if (c->index_interval_bytes < 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "index.interval.bytes must be >= 0");
  if (c->max_message_bytes < 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "max.message.bytes must be >= 0");
  if (c->flush_messages < 1 || c->flush_ms < 0 || c->file_delete_delay_ms < 0)
    return sl_diag_set(diag, SL_EINVAL, -1,
                       "flush.messages >= 1, flush.ms and file.delete.delay.ms >= 0");
  if (c->retention_ms < -1 || c->retention_bytes < -1)
    return sl_diag_set(diag, SL_EINVAL, -1, "retention.ms / retention.bytes >= -1");
  if (c->min_compaction_lag_ms < 0 || c->max_compaction_lag_ms < 1 ||
      c->delete_retention_ms < 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "compaction lag / delete.retention.ms");
  if (!(c->min_cleanable_dirty_ratio >= 0.0 && c->min_cleanable_dirty_ratio <= 1.0))
    return sl_diag_set(diag, SL_EINVAL, -1, "min.cleanable.dirty.ratio in [0, 1]");
  return SL_OK;
}

/* ---------------------------------------------------------------------------
 * Open / close
 * ------------------------------------------------------------------------- */

void sl_log_open_opts_init(sl_log_open_opts *o) {
  memset(o, 0, sizeof(*o));
  o->recovery_point = 0;
  o->log_start_offset = -1;
  o->high_watermark = -1;
}

/* The log dir is the partition dir's parent. */
static int parent_of(const char *dir, char *out, size_t cap) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  size_t i = n;
  while (i > 0 && dir[i - 1] != '/')
    i--;
  if (i == 0) {
    return snprintf(out, cap, ".") < (int)cap ? SL_OK : SL_EINVAL;
  }
  while (i > 1 && dir[i - 1] == '/')
    i--;
  if (i >= cap)
    return SL_EINVAL;
  memcpy(out, dir, i);
  out[i] = '\0';
  return SL_OK;
}

static void log_free(sl_log *log) {
  if (log == NULL)
    return;
  for (size_t i = 0; i < log->nsegs; i++)
    sl__segment_unref(log->segs[i]);
  free(log->segs);
  for (size_t i = 0; i < log->npending; i++)
    sl__segment_unref(log->pending[i].seg);
  free(log->pending);
  sl_dir_lock_release(log->lock);
  sl_epoch_cache_free(log->epochs);
  sl_pstate_free(log->ps);
  pthread_mutex_destroy(&log->mu);
  free(log->dir);
  free(log);
}

int sl_log_open(const char *dir, const sl_log_config *cfg, unsigned flags,
                const sl_log_open_opts *opts, sl_log **out, sl_diag *diag) {
  sl_log_open_opts defaults;
  char logdir[SL__SEGMENT_NAME_MAX];
  int rc;
  *out = NULL;
  if (opts == NULL) {
    sl_log_open_opts_init(&defaults);
    opts = &defaults;
  }
  sl_log *log = calloc(1, sizeof(*log));
  if (log == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "opening %s", dir);
  pthread_mutex_init(&log->mu, NULL);
  log->dir = malloc(strlen(dir) + 1);
  if (log->dir == NULL) {
    rc = sl_diag_set(diag, SL_ENOMEM, -1, "opening %s", dir);
    goto fail;
  }
  memcpy(log->dir, dir, strlen(dir) + 1);
  if (cfg)
    log->cfg = *cfg;
  else
    sl_log_config_init(&log->cfg);
  rc = sl_log_config_validate(&log->cfg, diag);
  if (rc)
    goto fail;
  log->flags = flags;
  log->readonly = (flags & SL_LOG_READONLY) != 0;
  log->latest_epoch = -1;
  log->hw = 0;
  log->rng = (uint64_t)sl__now_ms() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)log;
  if (log->rng == 0)
    log->rng = 0x9E3779B97F4A7C15ULL;
  log->last_flush_ms = now_or(opts->now_ms);
  if (!log->readonly) {
    if (flags & SL_LOG_CREATE) {
      if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rc = sl__fio_error(errno, "mkdir", dir, diag);
        goto fail;
      }
    }
    if (opts->lock != NULL) {
      atomic_fetch_add(&opts->lock->refs, 1);
      log->lock = opts->lock;
    } else {
      if (parent_of(dir, logdir, sizeof(logdir)) != SL_OK) {
        rc = sl_diag_set(diag, SL_EINVAL, -1, "bad partition dir %s", dir);
        goto fail;
      }
      rc = sl_dir_lock_acquire(logdir, &log->lock, diag);
      if (rc)
        goto fail;
    }
  }
  struct stat st;
  if (stat(dir, &st) != 0) {
    rc = sl__fio_error(errno, "open partition dir", dir, diag);
    goto fail;
  }
  if (!S_ISDIR(st.st_mode)) {
    rc = sl__fio_error(ENOTDIR, "open partition dir", dir, diag);
    goto fail;
  }
  rc = sl__log_load(log, opts, diag);
  if (rc)
    goto fail;
  *out = log;
  return SL_OK;
fail:
  log_free(log);
  return rc;
}

static int flush_impl(sl_log *log, int64_t offset, bool force, sl_diag *diag);

int sl_log_close(sl_log *log, sl_diag *diag) {
  int rc = SL_OK;
  if (log == NULL)
    return SL_OK;
  pthread_mutex_lock(&log->mu);
  if (!log->readonly && !log->failed) {
    sl__segment *a = active(log);
    if (a != NULL)
      rc = sl__segment_on_become_inactive(a, diag);
    if (rc == SL_OK && log->ps != NULL) {
      sl_pstate_set_map_end_offset(log->ps, log->leo);
      rc = sl_pstate_take_snapshot(log->ps, true, diag);
    }
    if (rc == SL_OK && log->epochs != NULL)
      rc = sl_epoch_cache_flush(log->epochs, diag);
    if (rc == SL_OK)
      rc = flush_impl(log, log->leo, true, diag);
  }
  int rc2 = sl__log_process_pending(log, 0, true, rc ? NULL : diag);
  if (rc == SL_OK)
    rc = rc2;
  if (rc == SL_OK && log->failed)
    rc = sl_diag_set(diag, SL_EFAILED, -1, "log %s had failed", log->dir);
  pthread_mutex_unlock(&log->mu);
  log_free(log);
  return rc;
}

void sl_log_load_report_get(const sl_log *log, sl_log_load_report *r) {
  *r = log->report;
}

/* ---------------------------------------------------------------------------
 * End offset and epoch
 * ------------------------------------------------------------------------- */

int sl__log_update_end(sl_log *log, sl_diag *diag) {
  sl__segment *a = active(log);
  if (a == NULL)
    return SL_OK;
  int64_t next;
  int rc = sl__segment_next_offset(a, &next, diag);
  if (rc)
    return rc;
  log->leo = next > a->base ? next : a->base;
  /* The latest epoch: the last batch of the log carrying one. */
  for (size_t i = log->nsegs; i-- > 0;) {
    sl__segment *s = log->segs[i];
    if (s->size == 0)
      continue;
    int64_t pos;
    sl__batch_info bi;
    int64_t last = i == log->nsegs - 1 ? log->leo - 1 : log->segs[i + 1]->base - 1;
    rc = sl__segment_translate_offset(s, last, 0, &pos, &bi, diag);
    if (rc < 0)
      return rc;
    if (rc == 1 && bi.magic == 2) {
      /* Take the highest epoch in the tail: epochs only grow, so the last
       * batch's is the latest. */
      int64_t p = pos;
      sl__batch_info b2 = bi;
      while (sl__segment_batch_at(s, p, s->size, &b2, NULL) == 1) {
        if (b2.magic == 2 && b2.leader_epoch > log->latest_epoch)
          log->latest_epoch = b2.leader_epoch;
        p += b2.size;
      }
    }
    break;
  }
  return SL_OK;
}

/* ---------------------------------------------------------------------------
 * Roll
 * ------------------------------------------------------------------------- */

int sl__log_roll_locked(sl_log *log, int64_t expected_next, int64_t now_ms,
                        sl_diag *diag) {
  sl__segment *a = active(log);
  int64_t base = expected_next > log->leo ? expected_next : log->leo;
  int rc;
  if (a != NULL && a->base == base && a->size == 0)
    return SL_OK; /* the empty active segment already starts there */
  if (a != NULL && base < a->base)
    return sl_diag_set(diag, SL_EINVALID_OFFSET, -1,
                       "cannot roll to %lld below the active segment %lld",
                       (long long)base, (long long)a->base);
  if (a != NULL) {
    rc = sl__segment_on_become_inactive(a, diag);
    if (rc)
      return sl__log_latch(log, rc, diag);
  }
  sl__segment_config sc;
  sl__log_segment_config(log, &sc);
  sl__segment *s;
  rc = sl__segment_open(log->dir, base, &sc,
                        SL__SEG_CREATE | SL__SEG_WRITABLE | SL__SEG_ACTIVE, now_ms, &s,
                        diag);
  if (rc) {
    /* The old segment was trimmed: make it active again. */
    if (a != NULL && sl__segment_make_active(a, NULL) != SL_OK)
      return sl__log_latch(log, rc, diag);
    return rc;
  }
  rc = sl__log_add_segment(log, s, diag);
  if (rc) {
    sl__segment_delete_files(s, NULL);
    sl__segment_unref(s);
    return rc;
  }
  if (log->leo < base)
    log->leo = base;
  if (log->ps != NULL) {
    /* Kafka's roll: a producer snapshot at the new base offset. */
    sl_pstate_set_map_end_offset(log->ps, base);
    rc = sl_pstate_take_snapshot(log->ps, true, diag);
    if (rc)
      return sl__log_latch(log, rc, diag);
  }
  /* Kafka flushes everything below the new base asynchronously and the
   * recovery point moves there: with roll_flush_async the owner does it
   * (sl_log_flush_rolled); otherwise it is done now. */
  if (log->cfg.roll_flush_async) {
    if (base > log->rolled_to)
      log->rolled_to = base;
    return SL_OK;
  }
  return sl__log_flush_locked(log, base, diag);
}

int sl__log_check_writable(const sl_log *log, sl_diag *diag) {
  if (log->readonly)
    return sl_diag_set(diag, SL_EREADONLY, -1, "log %s is read-only", log->dir);
  if (log->failed)
    return sl_diag_set(diag, SL_EFAILED, -1, "log %s has failed", log->dir);
  return SL_OK;
}

int sl_log_roll(sl_log *log, int64_t now_ms, sl_diag *diag) {
  int rc;
  pthread_mutex_lock(&log->mu);
  rc = sl__log_check_writable(log, diag);
  if (rc == SL_OK)
    rc = sl__log_roll_locked(log, log->leo, now_or(now_ms), diag);
  pthread_mutex_unlock(&log->mu);
  return rc;
}

/* Kafka's LogSegment.shouldRoll. */
static int should_roll(sl_log *log, sl__segment *a, size_t len, int64_t max_ts,
                       int64_t last_offset, int64_t now_ms, bool *roll, sl_diag *diag) {
  *roll = false;
  if (a->size > (int64_t)log->cfg.segment_bytes - (int64_t)len) {
    *roll = true;
    return SL_OK;
  }
  if (a->size > 0) {
    int64_t rts;
    int rc = sl__segment_rolling_timestamp(a, &rts, diag);
    if (rc)
      return rc;
    int64_t waited = rts >= 0 ? max_ts - rts : now_ms - a->created_ms;
    int64_t seg_ms = log->cfg.segment_ms;
    if ((log->cfg.cleanup_policy & SL_CLEANUP_COMPACT) &&
        log->cfg.max_compaction_lag_ms > 0 && log->cfg.max_compaction_lag_ms < seg_ms)
      seg_ms = log->cfg.max_compaction_lag_ms;
    if (waited > seg_ms - a->cfg.roll_jitter_ms) {
      *roll = true;
      return SL_OK;
    }
  }
  if (sl__index_is_full(&a->oindex) || sl__index_is_full(&a->tindex) ||
      last_offset - a->base > INT32_MAX)
    *roll = true;
  return SL_OK;
}

/* ---------------------------------------------------------------------------
 * Append
 * ------------------------------------------------------------------------- */

/* Batch infos of one append live on the stack up to this many batches. */
#define APPEND_STACK_BATCHES 16

/* Parses and checks every batch header and CRC.  *infos_out is `stack` (room
 * for APPEND_STACK_BATCHES) or, for more batches, a heap array the caller
 * frees. */
static int validate_batches(sl_log *log, const uint8_t *data, size_t len, bool trusted,
                            sl__batch_info *stack, sl__batch_info **infos_out,
                            size_t *n_out, sl_diag *diag) {
  size_t cap = APPEND_STACK_BATCHES, n = 0, pos = 0;
  sl__batch_info *infos = stack;
  int rc = SL_OK;
  if (len == 0) {
    rc = sl_diag_set(diag, SL_EINVAL, 0, "nothing to append");
    goto out;
  }
  while (pos < len) {
    sl__batch_info bi;
    sl_diag d;
    sl_diag_clear(&d);
    rc = sl__batch_info_parse(data + pos, len - pos, &bi, &d);
    if (rc == SL_ETRUNCATED) {
      rc = sl_diag_set(diag, SL_ECORRUPT, (int64_t)pos,
                       "incomplete batch header (%zu bytes left)", len - pos);
      goto out;
    }
    if (rc) {
      rc = sl_diag_set(diag, rc, (int64_t)pos, "batch %zu: %s", n, d.msg);
      goto out;
    }
    if (bi.magic != 2) {
      rc = sl_diag_set(diag, SL_EUNSUPPORTED, (int64_t)pos,
                       "batch %zu has magic %d; only v2 batches are appended", n,
                       bi.magic);
      goto out;
    }
    if ((size_t)bi.size > len - pos) {
      rc =
          sl_diag_set(diag, SL_ECORRUPT, (int64_t)pos,
                      "batch %zu announces %d bytes, %zu present", n, bi.size, len - pos);
      goto out;
    }
    if (bi.size > log->cfg.max_message_bytes) {
      rc = sl_diag_set(diag, SL_ETOO_LARGE, (int64_t)pos,
                       "batch %zu of %d bytes exceeds max.message.bytes %d", n, bi.size,
                       log->cfg.max_message_bytes);
      goto out;
    }
    rc = trusted ? SL_OK : sl_batch_validate(data + pos, (size_t)bi.size, &d);
    if (rc) {
      rc = sl_diag_set(diag, rc, (int64_t)pos + (d.pos > 0 ? d.pos : 0), "batch %zu: %s",
                       n, d.msg);
      goto out;
    }
    if (n == cap) {
      sl__batch_info *ni = infos == stack ? malloc(cap * 2 * sizeof(*ni))
                                          : realloc(infos, cap * 2 * sizeof(*ni));
      if (ni == NULL) {
        rc = sl_diag_set(diag, SL_ENOMEM, -1, "append");
        goto out;
      }
      if (infos == stack)
        memcpy(ni, stack, n * sizeof(*ni));
      infos = ni;
      cap *= 2;
    }
    infos[n++] = bi;
    pos += (size_t)bi.size;
  }
out:
  if (rc) {
    if (infos != stack)
      free(infos);
    return rc;
  }
  *infos_out = infos;
  *n_out = n;
  return SL_OK;
}

/*
 * The leader's record-level checks, after offsets are assigned: every record
 * of a data batch parses (decompressed, bounded; count and size exact).  With
 * `client` (SL_APPEND_CLIENT), also Kafka's LogValidator rules for a
 * producer's batches: the offset range matches the record count (> 0), a
 * producer id comes with a sequence, no control batches, records at
 * consecutive offsets and, on a compacted topic, with a key.
 */
/* Kafka's batch-level rules for a client's batch. */
static int client_batch_rules(const sl__batch_info *bi, size_t i, int64_t at,
                              sl_diag *diag) {
  if (bi->records_count <= 0 ||
      bi->last_offset - bi->base_offset + 1 != bi->records_count)
    return sl_diag_set(
        diag, SL_EINVALID_RECORD, at, "batch %zu: %d records but an offset range of %lld",
        i, bi->records_count, (long long)(bi->last_offset - bi->base_offset + 1));
  if (bi->attributes & SL_ATTR_CONTROL)
    return sl_diag_set(diag, SL_EINVALID_RECORD, at,
                       "batch %zu: clients may not write control batches", i);
  if (bi->producer_id >= 0 && bi->base_sequence < 0)
    return sl_diag_set(diag, SL_EINVALID_RECORD, at,
                       "batch %zu: producer id %lld without a sequence number", i,
                       (long long)bi->producer_id);
  return SL_OK;
}

/* Zigzag varint (at most 5 bytes, sl_rbuf_varint's rules) with the one- and
 * two-byte forms, which are most record fields, decoded inline. */
static inline int32_t rec_varint(sl_rbuf *r) {
  size_t left = r->err == 0 ? r->len - r->pos : 0;
  if (left >= 1) {
    const uint8_t *p = r->p + r->pos;
    uint32_t u;
    if (p[0] < 0x80) {
      u = p[0];
      r->pos += 1;
    } else if (left >= 2 && p[1] < 0x80) {
      u = (uint32_t)(p[0] & 0x7f) | ((uint32_t)p[1] << 7);
      r->pos += 2;
    } else {
      return sl_rbuf_varint(r);
    }
    return (int32_t)((u >> 1) ^ (0u - (u & 1)));
  }
  return sl_rbuf_varint(r);
}

/* Skips a varint-length-prefixed byte string (-1 = null when nullable); false
 * if the length is malformed or runs past the record.  *len gets the length. */
static inline bool rec_skip_bytes(sl_rbuf *r, bool nullable, int32_t *len) {
  int32_t n = rec_varint(r);
  if (r->err || n < (nullable ? -1 : 0) || (n > 0 && (size_t)n > r->len - r->pos))
    return false;
  if (n > 0)
    r->pos += (size_t)n;
  *len = n;
  return true;
}

/*
 * The records of an uncompressed v2 batch checked in place, with no reader, no
 * allocation and no copy: the rules of sl_batch_reader_next (each record's
 * length inside the section and exactly filled by its fields, keys and values
 * null or inside the record, header keys not null, records_count records and
 * no trailing bytes) and, with `client`, consecutive offset deltas and (with
 * need_key) a key on every record.  `at` is the batch's position in the
 * append, for diagnostics.
 */
static int check_plain_records(const uint8_t *b, const sl__batch_info *bi, size_t i,
                               int64_t at, bool client, bool need_key, sl_diag *diag) {
  sl_rbuf r;
  const char *what = NULL;
  int32_t idx = 0;
  size_t start = 0;
  sl_rbuf_init(&r, b + SL_BATCH_HEADER_SIZE, (size_t)bi->size - SL_BATCH_HEADER_SIZE);
  if (bi->records_count < 0) { /* refused by the header decoder already */
    what = "negative record count";
    goto bad;
  }
  for (; idx < bi->records_count; idx++) {
    start = r.pos;
    int32_t len = rec_varint(&r);
    if (r.err) {
      what = r.err == SL_ETRUNCATED ? "records section ends before the record count is "
                                      "reached"
                                    : "invalid record length varint";
      goto bad;
    }
    if (len < 0 || (size_t)len > r.len - r.pos) {
      what = "record length exceeds the bytes left";
      goto bad;
    }
    sl_rbuf rec;
    sl_rbuf_init(&rec, r.p + r.pos, (size_t)len);
    r.pos += (size_t)len;
    (void)sl_rbuf_i8(&rec); /* attributes */
    if (rec.err == 0 && rec.pos < rec.len && rec.p[rec.pos] < 0x80)
      rec.pos++; /* a one-byte timestamp delta */
    else
      (void)sl_rbuf_varlong(&rec);
    int32_t off_delta = rec_varint(&rec);
    int32_t klen, vlen;
    if (rec.err) {
      what = "truncated or invalid record fields";
      goto bad;
    }
    if (!rec_skip_bytes(&rec, true, &klen)) {
      what = "invalid key length";
      goto bad;
    }
    if (!rec_skip_bytes(&rec, true, &vlen)) {
      what = "invalid value length";
      goto bad;
    }
    int32_t hc = rec_varint(&rec);
    if (rec.err || hc < 0 || (size_t)hc > rec.len - rec.pos) {
      what = "invalid header count";
      goto bad;
    }
    for (int32_t h = 0; h < hc; h++) {
      int32_t hk, hv;
      if (!rec_skip_bytes(&rec, false, &hk)) {
        what = "invalid header key length";
        goto bad;
      }
      if (!rec_skip_bytes(&rec, true, &hv)) {
        what = "invalid header value length";
        goto bad;
      }
    }
    if (rec.pos != rec.len) {
      what = "record length does not match its fields";
      goto bad;
    }
    int64_t off = (int64_t)((uint64_t)bi->base_offset + (uint64_t)(int64_t)off_delta);
    if (client && off != bi->base_offset + idx)
      return sl_diag_set(diag, SL_EINVALID_RECORD, at,
                         "batch %zu: record offset %lld, expected %lld", i,
                         (long long)off, (long long)(bi->base_offset + idx));
    if (need_key && klen < 0)
      return sl_diag_set(diag, SL_EINVALID_RECORD, at,
                         "batch %zu: a compacted topic needs a key (record %lld)", i,
                         (long long)off);
  }
  start = r.pos;
  if (r.pos == r.len)
    return SL_OK;
  what = "trailing bytes after the last record";
bad:
  return sl_diag_set(diag, SL_ECORRUPT, at + SL_BATCH_HEADER_SIZE + (int64_t)start,
                     "batch %zu: record %d at records byte %zu: %s", i, idx, start, what);
}

static int validate_records(sl_log *log, const uint8_t *data, const sl__batch_info *infos,
                            size_t n, bool client, sl_diag *diag) {
  sl_batch_reader *r = NULL;
  int rc = SL_OK;
  bool need_key = client && (log->cfg.cleanup_policy & SL_CLEANUP_COMPACT);
  size_t pos = 0;
  for (size_t i = 0; i < n && rc == SL_OK; i++) {
    const uint8_t *b = data + pos;
    const sl__batch_info *bi = &infos[i];
    int64_t at = (int64_t)pos;
    pos += (size_t)bi->size;
    if (client && (rc = client_batch_rules(bi, i, at, diag)) != SL_OK)
      break;
    if (bi->attributes & SL_ATTR_CONTROL)
      continue; /* markers: checked by the producer state */
    if ((bi->attributes & SL_ATTR_COMPRESSION_MASK) == SL_COMPRESSION_NONE) {
      rc = check_plain_records(b, bi, i, at, client, need_key, diag);
      continue;
    }
    if (r == NULL && (rc = sl_batch_reader_new(0, &r)) != SL_OK)
      return sl_diag_set(diag, rc, -1, "record validation");
    sl_diag d;
    sl_diag_clear(&d);
    int64_t expect = bi->base_offset;
    rc = sl_batch_reader_open(r, b, (size_t)bi->size, NULL, &d);
    while (rc == SL_OK) {
      sl_record rec;
      int more = sl_batch_reader_next(r, &rec, &d);
      if (more <= 0) {
        rc = more;
        break;
      }
      if (client && rec.offset != expect) {
        rc = sl_diag_set(diag, SL_EINVALID_RECORD, at,
                         "batch %zu: record offset %lld, expected %lld", i,
                         (long long)rec.offset, (long long)expect);
        goto out;
      }
      if (need_key && rec.key_len < 0) {
        rc = sl_diag_set(diag, SL_EINVALID_RECORD, at,
                         "batch %zu: a compacted topic needs a key (record %lld)", i,
                         (long long)rec.offset);
        goto out;
      }
      expect++;
    }
    if (rc)
      rc = sl_diag_set(diag, rc == SL_ENOMEM ? rc : SL_ECORRUPT,
                       at + (d.pos > 0 ? d.pos : 0), "batch %zu: %s", i, d.msg);
  }
out:
  sl_batch_reader_free(r);
  return rc;
}

int sl_log_append(sl_log *log, uint8_t *data, size_t len, unsigned flags,
                  int32_t leader_epoch, int64_t now_ms, sl_append_info *info,
                  sl_diag *diag) {
  sl__batch_info stack[APPEND_STACK_BATCHES];
  sl__batch_info *infos = stack;
  size_t n = 0;
  bool staged = false;
  int rc;
  now_ms = now_or(now_ms);
  pthread_mutex_lock(&log->mu);
  rc = sl__log_check_writable(log, diag);
  if (rc)
    goto out;
  bool trusted = (flags & SL_APPEND_TRUSTED) != 0;
  rc = validate_batches(log, data, len, trusted, stack, &infos, &n, diag);
  if (rc)
    goto out;
  bool leader = (flags & SL_APPEND_FOLLOWER) == 0;
  bool append_time =
      leader && log->cfg.message_timestamp_type == SL_TIMESTAMP_LOG_APPEND_TIME;
  if (leader) {
    int64_t next = log->leo;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
      uint8_t *b = data + pos;
      int64_t delta = infos[i].last_offset - infos[i].base_offset;
      sl_batch_set_base_offset(b, next);
      sl_batch_set_leader_epoch(b, leader_epoch);
      if (append_time) {
        sl_batch_set_log_append_time(b, (size_t)infos[i].size, now_ms);
        infos[i].max_timestamp = now_ms;
      }
      infos[i].base_offset = next;
      infos[i].last_offset = next + delta;
      infos[i].leader_epoch = leader_epoch;
      next += delta + 1;
      pos += (size_t)infos[i].size;
    }
  } else {
    int64_t prev = log->leo - 1;
    for (size_t i = 0; i < n; i++) {
      if (infos[i].base_offset <= prev) {
        rc = sl_diag_set(diag, SL_EINVALID_OFFSET, -1,
                         "batch %zu base offset %lld is not above %lld (LEO %lld)", i,
                         (long long)infos[i].base_offset, (long long)prev,
                         (long long)log->leo);
        goto out;
      }
      prev = infos[i].last_offset;
    }
  }
  if (leader && !trusted) {
    rc = validate_records(log, data, infos, n, (flags & SL_APPEND_CLIENT) != 0, diag);
    if (rc)
      goto out;
  }
  int64_t max_ts = SL_NO_TIMESTAMP, off_max = -1, records = 0;
  for (size_t i = 0; i < n; i++) {
    if (infos[i].max_timestamp > max_ts) {
      max_ts = infos[i].max_timestamp;
      off_max = infos[i].last_offset;
    }
    records += infos[i].records_count;
  }
  /* Producer state: idempotence and transaction checks before anything is
   * written (Kafka's analyzeAndValidateProducerState). */
  if (log->ps != NULL) {
    sl_append_origin origin = !leader                           ? SL_ORIGIN_REPLICATION
                              : (flags & SL_APPEND_COORDINATOR) ? SL_ORIGIN_COORDINATOR
                                                                : SL_ORIGIN_CLIENT;
    sl_pstate_begin(log->ps, origin);
    staged = true;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
      sl_batch_header h;
      sl_control ctl;
      bool has = false;
      const uint8_t *bp = data + pos;
      pos += (size_t)infos[i].size;
      if (infos[i].producer_id < 0)
        continue;
      rc = sl_batch_header_decode(bp, (size_t)infos[i].size, &h, diag);
      if (rc == SL_OK && sl_batch_is_control(&h) && h.records_count > 0)
        rc = sl__batch_marker(bp, (size_t)infos[i].size, &ctl, &has, diag);
      if (rc)
        goto out;
      sl_pstate_dup dup;
      rc = sl_pstate_stage(log->ps, &h, has ? &ctl : NULL, &dup, diag);
      if (rc == SL_EDUPLICATE_SEQUENCE && info) {
        memset(info, 0, sizeof(*info));
        info->first_offset = dup.first_offset;
        info->last_offset = dup.last_offset;
        info->max_timestamp = dup.timestamp;
        info->log_append_time = append_time ? dup.timestamp : -1;
        info->log_start_offset = log->log_start;
        info->segment_base = -1;
        info->position = -1;
        info->duplicate = true;
      }
      if (rc)
        goto out;
    }
  }
  /* Leader epochs first, as Kafka's maybeAssignEpochStartOffset. */
  if (log->epochs != NULL) {
    for (size_t i = 0; i < n; i++) {
      rc = sl_epoch_cache_on_batch(log->epochs, infos[i].leader_epoch,
                                   infos[i].base_offset, diag);
      if (rc) {
        rc = sl__log_latch(log, rc, diag);
        goto out;
      }
    }
  }
  sl__segment *a = active(log);
  bool roll;
  rc = should_roll(log, a, len, max_ts, infos[n - 1].last_offset, now_ms, &roll, diag);
  if (rc)
    goto out;
  if (roll) {
    rc = sl__log_roll_locked(log, infos[0].base_offset, now_ms, diag);
    if (rc)
      goto out;
    a = active(log);
  }
  if (infos[n - 1].last_offset - a->base > INT32_MAX) {
    rc = sl_diag_set(diag, SL_EINVALID_OFFSET, -1,
                     "the append spans more than 2^31 offsets from segment %lld",
                     (long long)a->base);
    goto out;
  }
  int64_t position = a->size;
  rc = sl__segment_append(a, data, len, infos, n, diag);
  if (rc) {
    off_t flen;
    if (sl__fio_file_size(a->fd, &flen, a->log_path, NULL) != SL_OK ||
        (int64_t)flen != a->size)
      rc = sl__log_latch(log, rc, diag);
    goto out;
  }
  log->leo = infos[n - 1].last_offset + 1;
  if (staged) {
    const sl_pstate_txn *txns;
    size_t ntxns = 0;
    staged = false;
    rc = sl_pstate_commit(log->ps, log->leo, &txns, &ntxns);
    if (rc == SL_OK)
      rc = sl__log_add_aborted(a, txns, ntxns, diag);
    if (rc) {
      /* The batches are in the log but the state is not: stop writing. */
      rc = sl__log_latch(log, rc, diag);
      goto out;
    }
  }
  for (size_t i = 0; i < n; i++)
    if (infos[i].leader_epoch >= 0 && infos[i].leader_epoch > log->latest_epoch)
      log->latest_epoch = infos[i].leader_epoch;
  if (info) {
    info->first_offset = infos[0].base_offset;
    info->last_offset = infos[n - 1].last_offset;
    info->log_append_time = append_time ? now_ms : -1;
    info->max_timestamp = max_ts;
    info->offset_of_max_timestamp = off_max;
    info->segment_base = a->base;
    info->position = position;
    info->log_start_offset = log->log_start;
    info->batches = (int32_t)n;
    info->records = records;
    info->duplicate = false;
  }
  if (log->leo - log->recovery_point >= log->cfg.flush_messages)
    rc = sl__log_flush_locked(log, log->leo, diag);
out:
  if (staged)
    sl_pstate_rollback(log->ps);
  if (rc && rc != SL_EDUPLICATE_SEQUENCE && log->epochs != NULL)
    sl_epoch_cache_truncate_from_end(log->epochs, log->leo);
  pthread_mutex_unlock(&log->mu);
  if (infos != stack)
    free(infos);
  return rc;
}

/* ---------------------------------------------------------------------------
 * Read
 * ------------------------------------------------------------------------- */

void sl_log_slice_release(sl_log_slice *s) {
  if (s == NULL)
    return;
  sl__segment_unref(s->ref_);
  s->ref_ = NULL;
  s->fd = -1;
  s->length = 0;
}

static void slice_empty(sl_log_slice *out, int64_t offset) {
  memset(out, 0, sizeof(*out));
  out->fd = -1;
  out->first_offset = offset;
  out->next_offset = offset;
  out->segment_base = -1;
}

/*
 * The slice for a read.  With `walk`, batch headers are walked to the exact
 * end (whole batches, max_bytes, max_offset).  Without, the slice is an upper
 * bound -- from the first batch to the segment's valid end, at most
 * max(first batch, max_bytes) long -- which the caller frames in memory after
 * reading it (sl_log_read_copy: no header preads).  *limit_offset (may be
 * NULL) gets the effective max_offset.
 */
static int read_locked(sl_log *log, int64_t offset, int64_t max_bytes, int64_t max_offset,
                       bool walk, int64_t *limit_offset, sl_log_slice *out,
                       sl_diag *diag) {
  slice_empty(out, offset);
  if (offset < log->log_start || offset > log->leo)
    return sl_diag_set(diag, SL_EOFFSET_OUT_OF_RANGE, -1,
                       "offset %lld is outside [%lld, %lld]", (long long)offset,
                       (long long)log->log_start, (long long)log->leo);
  if (max_offset < 0 || max_offset > log->leo)
    max_offset = log->leo;
  if (limit_offset)
    *limit_offset = max_offset;
  if (offset >= max_offset || log->nsegs == 0)
    return SL_OK;
  for (size_t i = floor_segment(log, offset); i < log->nsegs; i++) {
    sl__segment *s = log->segs[i];
    int64_t pos;
    sl__batch_info bi;
    int rc = sl__segment_translate_offset(s, offset, 0, &pos, &bi, diag);
    if (rc < 0)
      return rc;
    if (rc == 0)
      continue;
    if (bi.base_offset >= max_offset)
      return SL_OK;
    int64_t length = bi.size;
    int64_t next = bi.last_offset + 1;
    int64_t p = pos + bi.size;
    if (!walk) {
      int64_t rest = s->size - pos;
      length = max_bytes > length ? (max_bytes < rest ? max_bytes : rest) : length;
    }
    sl__batch_cursor cur;
    sl__cursor_init(&cur, s, s->size);
    for (; walk;) {
      sl__batch_info b2;
      rc = sl__cursor_batch_at(&cur, p, &b2, diag);
      if (rc < 0)
        return rc;
      if (rc == 0 || b2.base_offset >= max_offset || length + b2.size > max_bytes)
        break;
      length += b2.size;
      next = b2.last_offset + 1;
      p += b2.size;
    }
    sl__segment_ref(s);
    out->fd = s->fd;
    out->position = pos;
    out->length = length;
    out->first_offset = bi.base_offset;
    out->next_offset = next;
    out->segment_base = s->base;
    out->ref_ = s;
    return SL_OK;
  }
  return SL_OK;
}

int sl_log_read(sl_log *log, int64_t offset, int64_t max_bytes, int64_t max_offset,
                sl_log_slice *out, sl_diag *diag) {
  pthread_mutex_lock(&log->mu);
  int rc = read_locked(log, offset, max_bytes, max_offset, true, NULL, out, diag);
  pthread_mutex_unlock(&log->mu);
  return rc;
}

/*
 * One pread of the upper-bound slice (read_locked without the header walk),
 * then the batches framed in the copy: whole batches, the first always, then
 * as many as fit max_bytes and start below max_offset.  The bytes up to the
 * segment's valid end are complete batches, so the framing only stops early
 * for those two limits.
 */
int sl_log_read_copy(sl_log *log, int64_t offset, int64_t max_bytes, int64_t max_offset,
                     sl_buf *out, int64_t *next_offset, sl_diag *diag) {
  sl_log_slice sl;
  int64_t limit = -1;
  pthread_mutex_lock(&log->mu);
  int rc = read_locked(log, offset, max_bytes, max_offset, false, &limit, &sl, diag);
  pthread_mutex_unlock(&log->mu);
  if (rc)
    return rc;
  int64_t next = sl.next_offset;
  if (sl.length > 0) {
    uint8_t *p = sl_buf_reserve(out, (size_t)sl.length);
    sl__segment *s = sl.ref_;
    size_t got = 0, keep = 0;
    if (p == NULL)
      rc = sl_diag_set(diag, SL_ENOMEM, -1, "reading %lld bytes", (long long)sl.length);
    else
      rc = sl__fio_pread_all(sl.fd, p, (size_t)sl.length, sl.position, &got, s->log_path,
                             diag);
    if (rc == SL_OK && got != (size_t)sl.length)
      rc = sl_diag_set(diag, SL_ETRUNCATED, sl.position + (int64_t)got,
                       "segment was truncated during the read");
    while (rc == SL_OK && keep < got) {
      sl__batch_info bi;
      if (sl__batch_info_parse(p + keep, got - keep, &bi, NULL) != SL_OK ||
          (size_t)bi.size > got - keep)
        break;
      if (keep > 0 && (bi.base_offset >= limit || (int64_t)(keep + (size_t)bi.size) >
                                                      (max_bytes > 0 ? max_bytes : 0)))
        break;
      keep += (size_t)bi.size;
      next = bi.last_offset + 1;
    }
    if (rc == SL_OK && keep == 0) {
      sl_diag_set_path(diag, s->log_path);
      rc = sl_diag_set(diag, SL_ECORRUPT, sl.position,
                       "no complete batch at the start of the read");
    }
    if (rc == SL_OK)
      out->len += keep;
  }
  if (rc == SL_OK && next_offset)
    *next_offset = next;
  sl_log_slice_release(&sl);
  return rc;
}

/* ---------------------------------------------------------------------------
 * ListOffsets
 * ------------------------------------------------------------------------- */

/* Reads the batch at pos and finds its first record with timestamp >= ts (or
 * == ts when exact) and offset >= start. */
static int record_by_time(sl__segment *s, int64_t pos, const sl__batch_info *bi,
                          int64_t ts, bool exact, int64_t start, int64_t *offset,
                          int64_t *timestamp, sl_diag *diag) {
  uint8_t *buf = malloc((size_t)bi->size);
  sl_batch_reader *r = NULL;
  size_t got;
  int rc;
  if (buf == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "batch of %d bytes", bi->size);
  rc = sl__fio_pread_all(s->fd, buf, (size_t)bi->size, pos, &got, s->log_path, diag);
  if (rc == SL_OK && got != (size_t)bi->size)
    rc = sl_diag_set(diag, SL_ETRUNCATED, pos, "batch cut short");
  if (rc == SL_OK)
    rc = sl_batch_reader_new(0, &r);
  if (rc == SL_OK)
    rc = sl_batch_reader_open(r, buf, (size_t)bi->size, NULL, diag);
  if (rc)
    goto out;
  rc = 0;
  for (;;) {
    sl_record rec;
    int more = sl_batch_reader_next(r, &rec, diag);
    if (more < 0) {
      rc = more;
      break;
    }
    if (more == 0)
      break;
    if (rec.offset >= start && (exact ? rec.timestamp == ts : rec.timestamp >= ts)) {
      *offset = rec.offset;
      *timestamp = rec.timestamp;
      rc = 1;
      break;
    }
  }
out:
  sl_batch_reader_free(r);
  free(buf);
  return rc;
}

int sl_log_find_offset_by_time(sl_log *log, int64_t ts, int64_t *offset,
                               int64_t *timestamp, sl_diag *diag) {
  int rc = SL_OK;
  pthread_mutex_lock(&log->mu);
  *timestamp = -1;
  if (ts == SL_LIST_EARLIEST || ts == SL_LIST_EARLIEST_LOCAL) {
    *offset = log->log_start;
    goto out;
  }
  if (ts == SL_LIST_LATEST) {
    *offset = log->leo;
    goto out;
  }
  if (ts == SL_LIST_MAX_TIMESTAMP) {
    sl__segment *best = NULL;
    for (size_t i = 0; i < log->nsegs; i++)
      if (log->segs[i]->max_ts >= 0 &&
          (best == NULL || log->segs[i]->max_ts > best->max_ts))
        best = log->segs[i];
    if (best == NULL) {
      rc = sl_diag_set(diag, SL_ENOT_FOUND, -1, "no timestamps in the log");
      goto out;
    }
    int64_t pos;
    sl__batch_info bi;
    rc = sl__segment_translate_offset(best, best->offset_of_max_ts, 0, &pos, &bi, diag);
    if (rc == 1)
      rc = record_by_time(best, pos, &bi, best->max_ts, true, log->log_start, offset,
                          timestamp, diag);
    if (rc == 0) {
      /* No record carries it (LogAppendTime or compacted): the batch. */
      *offset = best->offset_of_max_ts;
      *timestamp = best->max_ts;
    }
    rc = rc < 0 ? rc : SL_OK;
    goto out;
  }
  if (ts < 0) {
    rc = sl_diag_set(diag, SL_EINVAL, -1, "invalid ListOffsets timestamp %lld",
                     (long long)ts);
    goto out;
  }
  for (size_t i = 0; i < log->nsegs; i++) {
    sl__segment *s = log->segs[i];
    if (sl__segment_largest_timestamp(s) < ts)
      continue;
    /* Kafka stops at the first segment whose largest timestamp qualifies. */
    int64_t start = log->log_start;
    for (;;) {
      int64_t boff, bts, pos;
      sl__batch_info bi;
      rc = sl__segment_find_by_timestamp(s, ts, start, &boff, &bts, diag);
      if (rc <= 0)
        break;
      rc = sl__segment_translate_offset(s, boff, 0, &pos, &bi, diag);
      if (rc <= 0)
        break;
      rc = record_by_time(s, pos, &bi, ts, false, start, offset, timestamp, diag);
      if (rc != 0)
        break;
      /* Batch max timestamp qualified but no record did (LogAppendTime data
       * is substituted by the reader, so this is rare): try later batches. */
      start = bi.last_offset + 1;
    }
    if (rc == 0)
      rc = sl_diag_set(diag, SL_ENOT_FOUND, -1, "no record with timestamp >= %lld",
                       (long long)ts);
    else if (rc == 1)
      rc = SL_OK;
    goto out;
  }
  rc = sl_diag_set(diag, SL_ENOT_FOUND, -1, "no record with timestamp >= %lld",
                   (long long)ts);
out:
  pthread_mutex_unlock(&log->mu);
  return rc;
}

/* ---------------------------------------------------------------------------
 * Truncation and DeleteRecords
 * ------------------------------------------------------------------------- */

static int truncate_fully_locked(sl_log *log, int64_t offset, int64_t now_ms,
                                 sl_diag *diag) {
  int rc;
  sl__segment_config sc;
  sl__log_segment_config(log, &sc);
  while (log->nsegs > 0) {
    sl__segment *s = sl__log_remove_segment_at(log, log->nsegs - 1);
    rc = sl__log_schedule_delete(log, s, now_ms, diag);
    if (rc)
      return sl__log_latch(log, rc, diag);
  }
  sl__segment *s;
  rc = sl__segment_open(log->dir, offset, &sc,
                        SL__SEG_CREATE | SL__SEG_WRITABLE | SL__SEG_ACTIVE, now_ms, &s,
                        diag);
  if (rc)
    return sl__log_latch(log, rc, diag);
  rc = sl__log_add_segment(log, s, diag);
  if (rc) {
    sl__segment_unref(s);
    return sl__log_latch(log, rc, diag);
  }
  log->leo = log->log_start = log->hw = log->recovery_point = offset;
  log->rolled_to = offset;
  log->trunc_gen++;
  log->latest_epoch = -1;
  if (log->epochs != NULL && (rc = sl_epoch_cache_clear(log->epochs, diag)) != SL_OK)
    return sl__log_latch(log, rc, diag);
  if (log->ps != NULL && (rc = sl_pstate_truncate_fully(log->ps, offset, diag)) != SL_OK)
    return sl__log_latch(log, rc, diag);
  return sl__fio_fsync_dir(log->dir, diag) ? sl__log_latch(log, SL_EIO, diag) : SL_OK;
}

int sl_log_truncate_fully_and_start_at(sl_log *log, int64_t offset, sl_diag *diag) {
  int rc;
  pthread_mutex_lock(&log->mu);
  rc = sl__log_check_writable(log, diag);
  if (rc == SL_OK && offset < 0)
    rc = sl_diag_set(diag, SL_EINVAL, -1, "negative offset %lld", (long long)offset);
  else if (rc == SL_OK)
    rc = truncate_fully_locked(log, offset, sl__now_ms(), diag);
  pthread_mutex_unlock(&log->mu);
  return rc;
}

int sl_log_truncate_to(sl_log *log, int64_t offset, sl_diag *diag) {
  int rc = SL_OK;
  int64_t now = sl__now_ms();
  pthread_mutex_lock(&log->mu);
  rc = sl__log_check_writable(log, diag);
  if (rc)
    goto out;
  if (offset < 0) {
    rc = sl_diag_set(diag, SL_EINVAL, -1, "negative offset %lld", (long long)offset);
    goto out;
  }
  if (offset >= log->leo)
    goto out;
  if (log->nsegs == 0 || offset < log->segs[0]->base) {
    rc = truncate_fully_locked(log, offset, now, diag);
    goto out;
  }
  while (log->nsegs > 1 && log->segs[log->nsegs - 1]->base > offset) {
    sl__segment *s = sl__log_remove_segment_at(log, log->nsegs - 1);
    rc = sl__log_schedule_delete(log, s, now, diag);
    if (rc) {
      rc = sl__log_latch(log, rc, diag);
      goto out;
    }
  }
  sl__segment *a = active(log);
  int64_t removed;
  rc = sl__segment_truncate_to(a, offset, &removed, diag);
  if (rc == SL_OK)
    rc = sl__segment_make_active(a, diag);
  if (rc) {
    rc = sl__log_latch(log, rc, diag);
    goto out;
  }
  log->leo = offset;
  log->trunc_gen++;
  if (log->rolled_to > offset)
    log->rolled_to = offset;
  if (log->hw > offset)
    log->hw = offset;
  if (log->recovery_point > offset)
    log->recovery_point = offset;
  if (log->log_start > offset)
    log->log_start = offset;
  log->latest_epoch = -1;
  rc = sl__log_update_end(log, diag);
  log->leo = offset; /* Kafka: the LEO is the target even inside a batch gap */
  if (rc == SL_OK && log->epochs != NULL) {
    sl_epoch_cache_truncate_from_end(log->epochs, offset);
    rc = sl_epoch_cache_flush(log->epochs, diag);
  }
  if (rc == SL_OK && log->ps != NULL)
    rc = sl__log_rebuild_pstate(log, offset, now, diag);
  if (rc)
    rc = sl__log_latch(log, rc, diag);
out:
  pthread_mutex_unlock(&log->mu);
  return rc;
}

int sl_log_delete_records(sl_log *log, int64_t offset, int64_t *new_start,
                          sl_diag *diag) {
  int rc = SL_OK;
  pthread_mutex_lock(&log->mu);
  if (log->readonly)
    rc = sl_diag_set(diag, SL_EREADONLY, -1, "log %s is read-only", log->dir);
  else if (offset > log->hw || offset < 0)
    rc = sl_diag_set(diag, SL_EOFFSET_OUT_OF_RANGE, -1,
                     "cannot delete records up to %lld: the high watermark is %lld",
                     (long long)offset, (long long)log->hw);
  else if (offset > log->log_start) {
    log->log_start = offset;
    if (log->epochs != NULL) {
      sl_epoch_cache_truncate_from_start(log->epochs, offset);
      rc = sl_epoch_cache_flush(log->epochs, diag);
    }
    if (rc == SL_OK && log->ps != NULL)
      rc = sl_pstate_on_log_start(log->ps, offset, diag);
  }
  if (new_start)
    *new_start = log->log_start;
  pthread_mutex_unlock(&log->mu);
  return rc;
}

/* ---------------------------------------------------------------------------
 * Flush
 * ------------------------------------------------------------------------- */

/* Kafka's flush(offset): fsyncs the segments overlapping [recovery point,
 * offset) (with `force`, also the active one: close trims its indexes), the
 * directory, then moves the recovery point. */
static int flush_impl(sl_log *log, int64_t offset, bool force, sl_diag *diag) {
  if (log->failed)
    return sl_diag_set(diag, SL_EFAILED, -1, "log %s has failed", log->dir);
  if (offset < 0 || offset > log->leo)
    offset = log->leo;
  if (offset <= log->recovery_point && !force)
    return SL_OK;
  for (size_t i = 0; i < log->nsegs; i++) {
    sl__segment *s = log->segs[i];
    int64_t end = i + 1 < log->nsegs ? log->segs[i + 1]->base : INT64_MAX;
    bool last = i + 1 == log->nsegs;
    if (end <= log->recovery_point && !(force && last))
      continue;
    if (s->base >= offset && !(force && last))
      break;
    int rc = sl__segment_flush(s, diag);
    if (rc)
      return sl__log_latch(log, rc, diag);
  }
  int rc = sl__fio_fsync_dir(log->dir, diag);
  if (rc)
    return sl__log_latch(log, rc, diag);
  if (offset > log->recovery_point)
    log->recovery_point = offset;
  log->last_flush_ms = sl__now_ms();
  return SL_OK;
}

int sl__log_flush_locked(sl_log *log, int64_t offset, sl_diag *diag) {
  return flush_impl(log, offset, false, diag);
}

int sl_log_flush_rolled(sl_log *log, sl_diag *diag) {
  int *fds = NULL;
  size_t n = 0;
  char *dir = NULL;
  int rc = SL_OK;
  pthread_mutex_lock(&log->mu);
  int64_t target = log->rolled_to;
  uint64_t gen = log->trunc_gen;
  if (log->readonly || log->failed || target <= log->recovery_point) {
    pthread_mutex_unlock(&log->mu);
    return SL_OK;
  }
  /* At most 4 descriptors per segment; the directory's name outlives the
   * unlock (the log's own string is the log's). */
  fds = malloc(sizeof(*fds) * 4 * (log->nsegs ? log->nsegs : 1));
  dir = strdup(log->dir);
  if (fds == NULL || dir == NULL) {
    rc = sl_diag_set(diag, SL_ENOMEM, -1, "flushing %s", log->dir);
    pthread_mutex_unlock(&log->mu);
    free(fds);
    free(dir);
    return rc;
  }
  /* The segments below `target` not yet flushed: rolled, so immutable. */
  for (size_t i = 0; rc == SL_OK && i < log->nsegs; i++) {
    sl__segment *s = log->segs[i];
    int64_t end = i + 1 < log->nsegs ? log->segs[i + 1]->base : INT64_MAX;
    if (end <= log->recovery_point)
      continue;
    if (s->base >= target)
      break;
    rc = sl__segment_flush_fds(s, fds, &n, diag);
  }
  pthread_mutex_unlock(&log->mu);
  for (size_t i = 0; i < n; i++) {
    if (rc == SL_OK)
      rc = sl__fio_fsync(fds[i], dir, diag);
    close(fds[i]);
  }
  free(fds);
  if (rc == SL_OK)
    rc = sl__fio_fsync_dir(dir, diag);
  free(dir);
  pthread_mutex_lock(&log->mu);
  if (rc != SL_OK) {
    rc = sl__log_latch(log, rc, diag);
  } else if (gen == log->trunc_gen && target > log->recovery_point) {
    /* (A truncation meanwhile may have replaced what was flushed.) */
    log->recovery_point = target;
  }
  pthread_mutex_unlock(&log->mu);
  return rc;
}

int sl_log_flush(sl_log *log, int64_t offset, sl_diag *diag) {
  int rc;
  pthread_mutex_lock(&log->mu);
  if (log->readonly)
    rc = sl_diag_set(diag, SL_EREADONLY, -1, "log %s is read-only", log->dir);
  else
    rc = sl__log_flush_locked(log, offset, diag);
  pthread_mutex_unlock(&log->mu);
  return rc;
}

int sl_log_tick(sl_log *log, int64_t now_ms, sl_diag *diag) {
  int rc = SL_OK;
  now_ms = now_or(now_ms);
  pthread_mutex_lock(&log->mu);
  if (!log->readonly && !log->failed && log->leo > log->recovery_point &&
      now_ms - log->last_flush_ms >= log->cfg.flush_ms)
    rc = sl__log_flush_locked(log, log->leo, diag);
  sl__segment **due = NULL;
  size_t ndue = 0;
  int rc2 = sl__log_take_due(log, now_ms, false, &due, &ndue, rc ? NULL : diag);
  if (log->ps != NULL)
    sl_pstate_remove_expired(log->ps, now_ms);
  if (rc == SL_OK && rc2 == SL_OK && log->epochs != NULL && !log->readonly &&
      !log->failed && sl_epoch_cache_is_dirty(log->epochs))
    rc = sl_epoch_cache_flush(log->epochs, diag);
  pthread_mutex_unlock(&log->mu);
  int r = sl__log_delete_taken(due, ndue, rc || rc2 ? NULL : diag);
  return rc ? rc : rc2 ? rc2 : r;
}

/* ---------------------------------------------------------------------------
 * State
 * ------------------------------------------------------------------------- */

#define LOCKED_GET(type, expr)                                                           \
  do {                                                                                   \
    pthread_mutex_lock(&log->mu);                                                        \
    type v_ = (expr);                                                                    \
    pthread_mutex_unlock(&log->mu);                                                      \
    return v_;                                                                           \
  } while (0)

bool sl_log_flush_rolled_pending(sl_log *log) {
  LOCKED_GET(bool,
             !log->readonly && !log->failed && log->rolled_to > log->recovery_point);
}

int64_t sl_log_start_offset(sl_log *log) {
  LOCKED_GET(int64_t, log->log_start);
}
int64_t sl_log_end_offset(sl_log *log) {
  LOCKED_GET(int64_t, log->leo);
}
int64_t sl_log_high_watermark(sl_log *log) {
  LOCKED_GET(int64_t, log->hw);
}
int64_t sl_log_recovery_point(sl_log *log) {
  LOCKED_GET(int64_t, log->recovery_point);
}
int32_t sl_log_latest_epoch(sl_log *log) {
  pthread_mutex_lock(&log->mu);
  int32_t e = log->latest_epoch;
  sl_epoch_entry last;
  if (log->epochs != NULL && sl_epoch_cache_latest(log->epochs, &last))
    e = last.epoch;
  pthread_mutex_unlock(&log->mu);
  return e;
}

int sl_log_become_leader(sl_log *log, int32_t leader_epoch, sl_diag *diag) {
  pthread_mutex_lock(&log->mu);
  int rc = sl__log_check_writable(log, diag);
  if (rc == SL_OK && log->epochs != NULL && leader_epoch >= 0) {
    sl_epoch_entry last;
    if (!sl_epoch_cache_latest(log->epochs, &last) || leader_epoch > last.epoch)
      rc = sl_epoch_cache_assign(log->epochs, leader_epoch, log->leo, NULL, diag);
    if (rc != SL_OK)
      rc = sl__log_latch(log, rc, diag);
  }
  pthread_mutex_unlock(&log->mu);
  return rc;
}

int64_t sl_log_last_stable_offset(sl_log *log) {
  pthread_mutex_lock(&log->mu);
  int64_t lso = log->hw, first;
  if (log->ps != NULL && sl_pstate_first_unstable_offset(log->ps, &first) && first < lso)
    lso = first;
  pthread_mutex_unlock(&log->mu);
  return lso;
}

void sl_log_end_offset_for_epoch(sl_log *log, int32_t requested, int32_t *epoch,
                                 int64_t *end_offset) {
  pthread_mutex_lock(&log->mu);
  if (log->epochs != NULL) {
    sl_epoch_cache_end_offset_for(log->epochs, requested, log->leo, epoch, end_offset);
  } else {
    *epoch = SL_UNDEFINED_EPOCH;
    *end_offset = SL_UNDEFINED_EPOCH_OFFSET;
  }
  pthread_mutex_unlock(&log->mu);
}

int sl_log_collect_aborted_txns(sl_log *log, int64_t fetch_offset, int64_t upper_bound,
                                sl_aborted_txn_cb cb, void *ctx, sl_diag *diag) {
  int rc = SL_OK;
  sl_aborted_txn *all = NULL, *v = NULL;
  size_t nall = 0, cap = 0, n = 0;
  bool complete = false;
  pthread_mutex_lock(&log->mu);
  /* Gather first (a read-only snapshot may fail midway), then deliver. */
  for (size_t i = log->nsegs ? floor_segment(log, fetch_offset) : 0;
       i < log->nsegs && !complete; i++) {
    sl__segment *s = log->segs[i];
    int64_t view_end = i + 1 < log->nsegs ? log->segs[i + 1]->base : log->leo;
    rc = sl__txnindex_snapshot(&s->txn, view_end, &v, &n, diag);
    if (rc)
      goto out;
    for (size_t k = 0; k < n && !complete; k++) {
      const sl_aborted_txn *t = &v[k];
      if (t->last_offset >= fetch_offset && t->first_offset < upper_bound) {
        if (nall == cap) {
          size_t nc = cap ? cap * 2 : 16;
          sl_aborted_txn *g = realloc(all, nc * sizeof(*g));
          if (g == NULL) {
            rc = sl_diag_set(diag, SL_ENOMEM, -1, "collecting aborted transactions");
            goto out;
          }
          all = g;
          cap = nc;
        }
        all[nall++] = *t;
      }
      complete = t->last_stable_offset >= upper_bound;
    }
    free(v);
    v = NULL;
  }
  for (size_t k = 0; k < nall && rc == SL_OK; k++)
    rc = cb(ctx, &all[k]);
out:
  pthread_mutex_unlock(&log->mu);
  free(v);
  free(all);
  return rc;
}
int sl_log_set_config(sl_log *log, const sl_log_config *cfg, sl_diag *diag) {
  int rc = sl_log_config_validate(cfg, diag);
  if (rc != SL_OK)
    return rc;
  pthread_mutex_lock(&log->mu);
  if (log->readonly)
    rc = sl_diag_set(diag, SL_EREADONLY, -1, "the log is open read-only");
  else
    log->cfg = *cfg;
  pthread_mutex_unlock(&log->mu);
  return rc;
}

void sl_log_get_config(sl_log *log, sl_log_config *out) {
  pthread_mutex_lock(&log->mu);
  *out = log->cfg;
  pthread_mutex_unlock(&log->mu);
}

bool sl_log_failed(sl_log *log) {
  LOCKED_GET(bool, log->failed);
}

int64_t sl_log_set_high_watermark(sl_log *log, int64_t hw) {
  pthread_mutex_lock(&log->mu);
  if (hw < log->log_start)
    hw = log->log_start;
  if (hw > log->leo)
    hw = log->leo;
  log->hw = hw;
  if (log->ps != NULL)
    sl_pstate_on_high_watermark(log->ps, hw);
  pthread_mutex_unlock(&log->mu);
  return hw;
}

int64_t sl_log_size_bytes(sl_log *log) {
  int64_t total = 0;
  pthread_mutex_lock(&log->mu);
  for (size_t i = 0; i < log->nsegs; i++)
    total += log->segs[i]->size;
  pthread_mutex_unlock(&log->mu);
  return total;
}

const char *sl_log_dir(const sl_log *log) {
  return log->dir;
}

size_t sl_log_segments(sl_log *log, sl_log_segment_info *out, size_t cap) {
  pthread_mutex_lock(&log->mu);
  size_t n = log->nsegs;
  for (size_t i = 0; i < n && i < cap; i++) {
    sl__segment *s = log->segs[i];
    out[i].base_offset = s->base;
    out[i].size_bytes = s->size;
    out[i].next_offset = i + 1 == n ? log->leo : s->next_offset;
    out[i].largest_timestamp = sl__segment_largest_timestamp(s);
  }
  pthread_mutex_unlock(&log->mu);
  return n;
}

int sl_log_refresh(sl_log *log, sl_diag *diag) {
  if (!log->readonly)
    return SL_OK;
  pthread_mutex_lock(&log->mu);
  int rc = sl__log_refresh_locked(log, diag);
  pthread_mutex_unlock(&log->mu);
  return rc;
}
