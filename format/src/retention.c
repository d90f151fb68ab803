/*
 * retention.c - Kafka's retention pass (log start offset, retention.bytes,
 * retention.ms, never at or above the high watermark, roll first when every
 * segment would go) and the deferred removal of *.deleted files after
 * file.delete.delay.ms.  Design: docs/FORMAT.md, "Retention".
 */
#include <stdlib.h>
#include <string.h>

#include "fileio_int.h"
#include "log_int.h"

int sl__log_schedule_delete(sl_log *log, sl__segment *s, int64_t now_ms, sl_diag *diag) {
  int rc = sl__segment_rename_deleted(s, diag);
  if (rc) {
    sl__segment_unref(s);
    return rc;
  }
  if (log->cfg.file_delete_delay_ms == 0) {
    rc = sl__segment_delete_files(s, diag);
    sl__segment_unref(s);
    return rc;
  }
  if (log->npending == log->cappending) {
    size_t nc = log->cappending ? log->cappending * 2 : 8;
    sl__pending_delete *n = realloc(log->pending, nc * sizeof(*n));
    if (n == NULL) {
      /* Cannot defer: delete now (the files are already *.deleted). */
      rc = sl__segment_delete_files(s, diag);
      sl__segment_unref(s);
      return rc;
    }
    log->pending = n;
    log->cappending = nc;
  }
  log->pending[log->npending].seg = s;
  log->pending[log->npending].deadline_ms = now_ms + log->cfg.file_delete_delay_ms;
  log->npending++;
  return SL_OK;
}

/* Deletes a pending segment's files and drops it; the first error wins. */
static void delete_one(sl__segment *seg, int *rc, sl_diag *diag) {
  int r = sl__segment_delete_files(seg, *rc ? NULL : diag);
  if (r && *rc == SL_OK)
    *rc = r;
  sl__segment_unref(seg);
}

int sl__log_take_due(sl_log *log, int64_t now_ms, bool force, sl__segment ***out,
                     size_t *n, sl_diag *diag) {
  size_t due = 0, keep = 0;
  int rc = SL_OK;
  *out = NULL;
  *n = 0;
  for (size_t i = 0; i < log->npending; i++)
    due += force || now_ms >= log->pending[i].deadline_ms;
  if (due == 0)
    return SL_OK;
  /* Without the array they are deleted here, under the mutex. */
  sl__segment **segs = malloc(due * sizeof(*segs));
  for (size_t i = 0; i < log->npending; i++) {
    sl__pending_delete *p = &log->pending[i];
    if (!force && now_ms < p->deadline_ms)
      log->pending[keep++] = *p;
    else if (segs != NULL)
      segs[(*n)++] = p->seg;
    else
      delete_one(p->seg, &rc, diag);
  }
  log->npending = keep;
  *out = segs;
  return rc;
}

int sl__log_delete_taken(sl__segment **segs, size_t n, sl_diag *diag) {
  int rc = SL_OK;
  for (size_t i = 0; i < n; i++)
    delete_one(segs[i], &rc, diag);
  free(segs);
  return rc;
}

int sl__log_process_pending(sl_log *log, int64_t now_ms, bool force, sl_diag *diag) {
  sl__segment **segs = NULL;
  size_t n = 0;
  int rc = sl__log_take_due(log, now_ms, force, &segs, &n, diag);
  int r = sl__log_delete_taken(segs, n, rc ? NULL : diag);
  return rc ? rc : r;
}

typedef enum { RULE_START, RULE_BYTES, RULE_TIME } rule_t;

/* How many leading segments Kafka's deletableSegments() would return. */
static size_t deletable(sl_log *log, rule_t rule, int64_t now_ms) {
  int64_t total = 0;
  for (size_t i = 0; i < log->nsegs; i++)
    total += log->segs[i]->size;
  int64_t diff = total - log->cfg.retention_bytes;
  size_t n = 0;
  for (size_t i = 0; i < log->nsegs; i++) {
    sl__segment *s = log->segs[i];
    bool last = i + 1 == log->nsegs;
    int64_t upper = last ? log->leo : log->segs[i + 1]->base;
    if (log->hw < upper || (last && s->size == 0))
      break;
    bool del = false;
    switch (rule) {
    case RULE_START:
      del = !last && log->segs[i + 1]->base <= log->log_start;
      break;
    case RULE_BYTES:
      if (diff - s->size >= 0) {
        diff -= s->size;
        del = true;
      }
      break;
    case RULE_TIME:
      del = now_ms - sl__segment_largest_timestamp(s) > log->cfg.retention_ms;
      break;
    }
    if (!del)
      break;
    n++;
  }
  return n;
}

static int delete_first(sl_log *log, size_t n, int64_t now_ms, sl_retention_result *res,
                        sl_diag *diag) {
  int rc;
  if (n == 0)
    return SL_OK;
  if (n == log->nsegs) {
    /* Keep an active segment: roll first (Kafka's rule). */
    rc = sl__log_roll_locked(log, log->leo, now_ms, diag);
    if (rc)
      return rc;
  }
  for (size_t i = 0; i < n; i++) {
    sl__segment *s = sl__log_remove_segment_at(log, 0);
    res->segments_deleted++;
    res->bytes_deleted += s->size;
    rc = sl__log_schedule_delete(log, s, now_ms, diag);
    if (rc)
      return sl__log_latch(log, rc, diag);
  }
  if (log->nsegs > 0 && log->segs[0]->base > log->log_start)
    log->log_start = log->segs[0]->base;
  if (log->hw < log->log_start)
    log->hw = log->log_start;
  if (log->epochs != NULL) {
    sl_epoch_cache_truncate_from_start(log->epochs, log->log_start);
    rc = sl_epoch_cache_flush(log->epochs, diag);
    if (rc)
      return sl__log_latch(log, rc, diag);
  }
  if (log->ps != NULL) {
    rc = sl_pstate_on_log_start(log->ps, log->log_start, diag);
    if (rc == SL_OK && log->nsegs > 0)
      rc = sl_pstate_delete_snapshots_before(log->ps, log->segs[0]->base, diag);
    if (rc)
      return sl__log_latch(log, rc, diag);
  }
  return SL_OK;
}

int sl_log_retain(sl_log *log, int64_t now_ms, sl_retention_result *res, sl_diag *diag) {
  sl_retention_result local;
  sl__segment **due = NULL; /* deletions whose delay is over: done after unlocking */
  size_t ndue = 0;
  int rc = SL_OK;
  if (res == NULL)
    res = &local;
  memset(res, 0, sizeof(*res));
  if (now_ms <= 0)
    now_ms = sl__now_ms();
  pthread_mutex_lock(&log->mu);
  rc = sl__log_check_writable(log, diag);
  if (rc)
    goto out;
  size_t n = deletable(log, RULE_START, now_ms);
  rc = delete_first(log, n, now_ms, res, diag);
  res->by_start_offset = (int32_t)n;
  if (rc)
    goto out;
  if (log->cfg.cleanup_policy & SL_CLEANUP_DELETE) {
    if (log->cfg.retention_bytes >= 0) {
      n = deletable(log, RULE_BYTES, now_ms);
      rc = delete_first(log, n, now_ms, res, diag);
      res->by_bytes = (int32_t)n;
      if (rc)
        goto out;
    }
    if (log->cfg.retention_ms >= 0) {
      n = deletable(log, RULE_TIME, now_ms);
      rc = delete_first(log, n, now_ms, res, diag);
      res->by_time = (int32_t)n;
      if (rc)
        goto out;
    }
  }
  rc = sl__log_take_due(log, now_ms, false, &due, &ndue, diag);
out:
  res->log_start_offset = log->log_start;
  pthread_mutex_unlock(&log->mu);
  int r = sl__log_delete_taken(due, ndue, rc ? NULL : diag);
  return rc ? rc : r;
}
