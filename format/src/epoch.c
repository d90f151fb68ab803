/*
 * epoch.c - the leader-epoch cache of one partition (Kafka's
 * LeaderEpochFileCache): an ascending array of (epoch, start offset) backed by
 * the partition's leader-epoch-checkpoint file.  Semantics in seglog/epoch.h
 * and docs/FORMAT.md ("Leader epochs").
 */
#include "seglog/epoch.h"

#include <stdlib.h>
#include <string.h>

struct sl_epoch_cache {
  char *path; /* NULL: memory only */
  sl_epoch_entry *e;
  size_t n, cap;
  bool dirty;
};

static int write_file(sl_epoch_cache *c, sl_diag *diag) {
  if (c->path == NULL) {
    c->dirty = false;
    return SL_OK;
  }
  int rc = sl_epoch_checkpoint_write(c->path, c->e, c->n, diag);
  if (rc == SL_OK)
    c->dirty = false;
  return rc;
}

/* Kafka's isUpdateNeeded. */
static bool update_needed(const sl_epoch_cache *c, int32_t epoch, int64_t start) {
  if (c->n == 0)
    return true;
  const sl_epoch_entry *l = &c->e[c->n - 1];
  return epoch != l->epoch || start < l->start_offset;
}

/* In-memory assign; returns true if the cache changed. */
static int assign_mem(sl_epoch_cache *c, int32_t epoch, int64_t start, bool *changed) {
  *changed = false;
  if (!update_needed(c, epoch, start))
    return SL_OK;
  /* remove from the end entries with epoch >= new or start >= new start
   * (maybeTruncateNonMonotonicEntries) */
  while (c->n > 0 &&
         (c->e[c->n - 1].epoch >= epoch || c->e[c->n - 1].start_offset >= start))
    c->n--;
  if (c->n == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 8;
    sl_epoch_entry *ne = realloc(c->e, ncap * sizeof(*ne));
    if (ne == NULL)
      return SL_ENOMEM;
    c->e = ne;
    c->cap = ncap;
  }
  c->e[c->n].epoch = epoch;
  c->e[c->n].start_offset = start;
  c->n++;
  *changed = true;
  return SL_OK;
}

int sl_epoch_cache_open(const char *path, sl_epoch_cache **out, sl_diag *diag) {
  sl_epoch_entry *loaded = NULL;
  size_t nloaded = 0;
  int rc = SL_OK;
  sl_epoch_cache *c = calloc(1, sizeof(*c));
  *out = NULL;
  if (c == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
  if (path != NULL) {
    c->path = strdup(path);
    if (c->path == NULL) {
      rc = sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
      goto out;
    }
    rc = sl_epoch_checkpoint_read(path, &loaded, &nloaded, diag);
    if (rc)
      goto out;
    for (size_t i = 0; i < nloaded; i++) {
      bool changed;
      /* the parser already rejected negative epochs and offsets */
      rc = assign_mem(c, loaded[i].epoch, loaded[i].start_offset, &changed);
      if (rc) {
        rc = sl_diag_set(diag, rc, -1, "out of memory");
        goto out;
      }
    }
  }
out:
  free(loaded);
  if (rc) {
    sl_epoch_cache_free(c);
    return rc;
  }
  *out = c;
  return SL_OK;
}

void sl_epoch_cache_free(sl_epoch_cache *c) {
  if (c == NULL)
    return;
  free(c->path);
  free(c->e);
  free(c);
}

int sl_epoch_cache_assign(sl_epoch_cache *c, int32_t epoch, int64_t start_offset,
                          bool *changed, sl_diag *diag) {
  bool ch = false;
  if (changed)
    *changed = false;
  if (epoch < 0 || start_offset < 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "invalid leader epoch entry (%d, %lld)",
                       (int)epoch, (long long)start_offset);
  int rc = assign_mem(c, epoch, start_offset, &ch);
  if (rc)
    return sl_diag_set(diag, rc, -1, "out of memory");
  if (changed)
    *changed = ch;
  if (!ch)
    return SL_OK;
  c->dirty = true;
  return write_file(c, diag);
}

int sl_epoch_cache_on_batch(sl_epoch_cache *c, int32_t partition_leader_epoch,
                            int64_t base_offset, sl_diag *diag) {
  if (partition_leader_epoch < 0)
    return SL_OK;
  if (c->n > 0 && partition_leader_epoch <= c->e[c->n - 1].epoch)
    return SL_OK;
  return sl_epoch_cache_assign(c, partition_leader_epoch, base_offset, NULL, diag);
}

void sl_epoch_cache_truncate_from_end(sl_epoch_cache *c, int64_t end_offset) {
  if (end_offset < 0 || c->n == 0 || c->e[c->n - 1].start_offset < end_offset)
    return;
  while (c->n > 0 && c->e[c->n - 1].start_offset >= end_offset)
    c->n--;
  c->dirty = true;
}

void sl_epoch_cache_truncate_from_start(sl_epoch_cache *c, int64_t start_offset) {
  if (start_offset < 0 || c->n == 0 || c->e[0].start_offset >= start_offset)
    return;
  size_t k = 0; /* entries removed: those with start <= start_offset */
  while (k < c->n && c->e[k].start_offset <= start_offset)
    k++;
  /* k >= 1 since e[0].start < start_offset; keep the last removed epoch */
  int32_t epoch = c->e[k - 1].epoch;
  memmove(c->e + 1, c->e + k, (c->n - k) * sizeof(*c->e));
  c->n = c->n - k + 1;
  c->e[0].epoch = epoch;
  c->e[0].start_offset = start_offset;
  c->dirty = true;
}

int sl_epoch_cache_clear(sl_epoch_cache *c, sl_diag *diag) {
  c->n = 0;
  c->dirty = true;
  return write_file(c, diag);
}

int sl_epoch_cache_flush(sl_epoch_cache *c, sl_diag *diag) {
  if (!c->dirty)
    return SL_OK;
  return write_file(c, diag);
}

void sl_epoch_cache_end_offset_for(const sl_epoch_cache *c, int32_t requested,
                                   int64_t log_end_offset, int32_t *epoch,
                                   int64_t *end_offset) {
  *epoch = SL_UNDEFINED_EPOCH;
  *end_offset = SL_UNDEFINED_EPOCH_OFFSET;
  if (requested == SL_UNDEFINED_EPOCH)
    return;
  if (c->n > 0 && c->e[c->n - 1].epoch == requested) {
    /* the leader's current epoch: it ends at the log end */
    *epoch = requested;
    *end_offset = log_end_offset;
    return;
  }
  /* higher = first entry with epoch > requested; floor = the one before it */
  size_t lo = 0, hi = c->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->e[mid].epoch <= requested)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == c->n)
    return; /* larger than any known epoch */
  *epoch = lo == 0 ? requested : c->e[lo - 1].epoch;
  *end_offset = c->e[lo].start_offset;
}

bool sl_epoch_cache_latest(const sl_epoch_cache *c, sl_epoch_entry *out) {
  if (c->n == 0)
    return false;
  if (out)
    *out = c->e[c->n - 1];
  return true;
}

bool sl_epoch_cache_earliest(const sl_epoch_cache *c, sl_epoch_entry *out) {
  if (c->n == 0)
    return false;
  if (out)
    *out = c->e[0];
  return true;
}

bool sl_epoch_cache_epoch_for_offset(const sl_epoch_cache *c, int64_t offset,
                                     int32_t *epoch) {
  bool found = false;
  for (size_t i = 0; i < c->n && c->e[i].start_offset <= offset; i++) {
    *epoch = c->e[i].epoch;
    found = true;
  }
  return found;
}

const sl_epoch_entry *sl_epoch_cache_entries(const sl_epoch_cache *c, size_t *count) {
  *count = c->n;
  return c->e;
}

bool sl_epoch_cache_is_dirty(const sl_epoch_cache *c) {
  return c->dirty;
}
