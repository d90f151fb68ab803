/*
 * recovery.c - loading a partition dir as Kafka's LogLoader does (temp files,
 * .cleaned/.swap completion, orphan indexes, recovery from the recovery
 * point, a torn tail deleting every later segment), the read-only reader's
 * load and refresh, and sl_log_verify (a walk that reports every problem and
 * changes nothing).  Design: docs/FORMAT.md, "Recovery".
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio_int.h"
#include "log_int.h"
#include "seglog/crc.h"

/* Kafka's names have 20 digits; accept 1..20 (Long.parseLong does). */
static bool parse_name(const char *name, int64_t *base, const char **suffix) {
  size_t n = 0;
  while (name[n] >= '0' && name[n] <= '9')
    n++;
  if (n == 0 || n > 20 || name[n] != '.')
    return false;
  char *end;
  errno = 0;
  long long v = strtoll(name, &end, 10);
  if (errno != 0 || end != name + n || v < 0)
    return false;
  *base = v;
  *suffix = name + n;
  return true;
}

bool sl__parse_segment_name(const char *name, int64_t *base, const char **suffix) {
  return parse_name(name, base, suffix);
}

static size_t floor_segment_index(sl_log *log, int64_t offset) {
  size_t i = 0;
  while (i + 1 < log->nsegs && log->segs[i + 1]->base <= offset)
    i++;
  return i;
}

static bool ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && memcmp(s + a - b, suf, b) == 0;
}

static bool is_segment_suffix(const char *suffix) {
  return strcmp(suffix, ".log") == 0 || strcmp(suffix, ".index") == 0 ||
         strcmp(suffix, ".timeindex") == 0 || strcmp(suffix, ".txnindex") == 0;
}

/* The names in a directory (malloc'd array of malloc'd strings). */
typedef struct name_list {
  char **v;
  size_t n, cap;
} name_list;

static void names_free(name_list *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

static int names_read(const char *dir, name_list *l, sl_diag *diag) {
  memset(l, 0, sizeof(*l));
  DIR *d = opendir(dir);
  if (d == NULL)
    return sl__fio_error(errno, "opendir", dir, diag);
  struct dirent *e;
  int rc = SL_OK;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
      continue;
    if (l->n == l->cap) {
      size_t nc = l->cap ? l->cap * 2 : 64;
      char **nv = realloc(l->v, nc * sizeof(*nv));
      if (nv == NULL) {
        rc = sl_diag_set(diag, SL_ENOMEM, -1, "listing %s", dir);
        break;
      }
      l->v = nv;
      l->cap = nc;
    }
    size_t len = strlen(e->d_name) + 1;
    char *s = malloc(len);
    if (s == NULL) {
      rc = sl_diag_set(diag, SL_ENOMEM, -1, "listing %s", dir);
      break;
    }
    memcpy(s, e->d_name, len);
    l->v[l->n++] = s;
  }
  closedir(d);
  if (rc)
    names_free(l);
  return rc;
}

static int join(char *out, size_t cap, const char *dir, const char *name) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  return n < 0 || (size_t)n >= cap ? SL_EINVAL : SL_OK;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Next offset of a .log file by walking batch headers (no CRC). */
static int file_next_offset(const char *path, int64_t base, int64_t *next,
                            sl_diag *diag) {
  int fd;
  int rc = sl__fio_open(path, O_RDONLY, 0, &fd, diag);
  if (rc)
    return rc;
  off_t flen;
  rc = sl__fio_file_size(fd, &flen, path, diag);
  int64_t pos = 0;
  *next = base;
  while (rc == SL_OK && flen - pos >= SL_BATCH_OFF_MAGIC + 1) {
    uint8_t h[SL_BATCH_HEADER_SIZE];
    size_t got;
    rc = sl__fio_pread_all(fd, h, sizeof(h), pos, &got, path, diag);
    if (rc)
      break;
    sl__batch_info bi;
    if (sl__batch_info_parse(h, got, &bi, NULL) != SL_OK || bi.size > flen - pos)
      break;
    *next = bi.last_offset + 1;
    pos += bi.size;
  }
  sl__fio_close(fd);
  return rc;
}

/* Step 1 of LogLoader: *.deleted, *.cleaned and *.swap. */
static int clean_temp_files(sl_log *log, sl_diag *diag) {
  name_list l;
  char path[SL__SEGMENT_NAME_MAX], to[SL__SEGMENT_NAME_MAX];
  int rc = names_read(log->dir, &l, diag);
  if (rc)
    return rc;
  int64_t min_cleaned = INT64_MAX;
  for (size_t i = 0; i < l.n; i++) {
    const char *nm = l.v[i];
    int64_t base;
    const char *suf;
    if (ends_with(nm, ".deleted") && !ends_with(nm, ".checkpoint.deleted")) {
      if (join(path, sizeof(path), log->dir, nm) == SL_OK &&
          (rc = sl__fio_unlink(path, diag)) != SL_OK)
        goto out;
      log->report.temp_files_deleted++;
      l.v[i][0] = '\0';
    } else if (ends_with(nm, ".cleaned") && parse_name(nm, &base, &suf)) {
      if (base < min_cleaned)
        min_cleaned = base;
    }
  }
  for (size_t i = 0; i < l.n; i++) {
    const char *nm = l.v[i];
    int64_t base;
    const char *suf;
    if (nm[0] == '\0' || !parse_name(nm, &base, &suf))
      continue;
    bool cleaned = ends_with(nm, ".cleaned");
    bool bad_swap = ends_with(nm, ".swap") && base >= min_cleaned;
    if (cleaned || bad_swap) {
      if (join(path, sizeof(path), log->dir, nm) == SL_OK &&
          (rc = sl__fio_unlink(path, diag)) != SL_OK)
        goto out;
      log->report.temp_files_deleted++;
      l.v[i][0] = '\0';
    }
  }
  /* Valid swaps: delete the segments they replace, then rename them in. */
  for (size_t i = 0; i < l.n; i++) {
    const char *nm = l.v[i];
    int64_t base, next;
    const char *suf;
    if (nm[0] == '\0' || !ends_with(nm, ".log.swap") || !parse_name(nm, &base, &suf))
      continue;
    if (join(path, sizeof(path), log->dir, nm) != SL_OK)
      continue;
    rc = file_next_offset(path, base, &next, diag);
    if (rc)
      goto out;
    for (size_t j = 0; j < l.n; j++) {
      int64_t b2;
      const char *s2;
      if (l.v[j][0] == '\0' || !parse_name(l.v[j], &b2, &s2) || !is_segment_suffix(s2))
        continue;
      if (b2 >= base && b2 < (next > base ? next : base + 1)) {
        if (join(path, sizeof(path), log->dir, l.v[j]) == SL_OK &&
            (rc = sl__fio_unlink(path, diag)) != SL_OK)
          goto out;
        l.v[j][0] = '\0';
      }
    }
  }
  for (size_t i = 0; i < l.n; i++) {
    const char *nm = l.v[i];
    if (nm[0] == '\0' || !ends_with(nm, ".swap"))
      continue;
    if (join(path, sizeof(path), log->dir, nm) != SL_OK ||
        join(to, sizeof(to), log->dir, nm) != SL_OK)
      continue;
    to[strlen(to) - strlen(".swap")] = '\0';
    rc = sl__fio_rename(path, to, diag);
    if (rc)
      goto out;
    if (ends_with(nm, ".log.swap"))
      log->report.swaps_completed++;
  }
out:
  names_free(&l);
  return rc;
}

/* The sorted base offsets of the .log files; deletes orphan indexes (writer). */
static int list_segments(sl_log *log, bool delete_orphans, int64_t **bases, size_t *n,
                         sl_diag *diag) {
  name_list l;
  char path[SL__SEGMENT_NAME_MAX];
  int rc = names_read(log->dir, &l, diag);
  if (rc)
    return rc;
  int64_t *v = malloc((l.n + 1) * sizeof(*v));
  size_t k = 0;
  if (v == NULL) {
    names_free(&l);
    return sl_diag_set(diag, SL_ENOMEM, -1, "listing %s", log->dir);
  }
  for (size_t i = 0; i < l.n; i++) {
    int64_t base;
    const char *suf;
    if (parse_name(l.v[i], &base, &suf) && strcmp(suf, ".log") == 0)
      v[k++] = base;
  }
  qsort(v, k, sizeof(*v), cmp_i64);
  if (delete_orphans) {
    for (size_t i = 0; i < l.n; i++) {
      int64_t base;
      const char *suf;
      if (!parse_name(l.v[i], &base, &suf) || !is_segment_suffix(suf) ||
          strcmp(suf, ".log") == 0)
        continue;
      if (bsearch(&base, v, k, sizeof(*v), cmp_i64) != NULL)
        continue;
      if (join(path, sizeof(path), log->dir, l.v[i]) == SL_OK &&
          (rc = sl__fio_unlink(path, diag)) != SL_OK)
        break;
      log->report.temp_files_deleted++;
    }
  }
  names_free(&l);
  if (rc) {
    free(v);
    return rc;
  }
  *bases = v;
  *n = k;
  return SL_OK;
}

/* Applies one batch to the producer state (replication origin).  Aborted
 * transactions go into `txn_seg`'s .txnindex when it is given.  A corrupt
 * marker is SL_ECORRUPT; state conflicts in old data are tolerated. */
static int replay_batch(sl_log *log, const uint8_t *batch, size_t size,
                        sl__segment *txn_seg, sl_diag *diag) {
  sl_batch_header h;
  sl_control ctl;
  bool has = false;
  const sl_pstate_txn *txns = NULL;
  size_t ntxns = 0;
  int rc = sl_batch_header_decode(batch, size, &h, NULL);
  if (rc)
    return SL_ECORRUPT;
  if (h.producer_id < 0)
    return SL_OK;
  if (sl_batch_is_control(&h) && h.records_count > 0) {
    rc = sl__batch_marker(batch, size, &ctl, &has, NULL);
    if (rc)
      return SL_ECORRUPT;
  }
  rc = sl_pstate_apply(log->ps, SL_ORIGIN_REPLICATION, &h, has ? &ctl : NULL, &txns,
                       &ntxns, NULL);
  if (rc == SL_ECORRUPT)
    return rc;
  if (rc == SL_ENOMEM)
    return sl_diag_set(diag, rc, -1, "producer state");
  if (rc == SL_OK && txn_seg != NULL)
    return sl__log_add_aborted(txn_seg, txns, ntxns, diag);
  return SL_OK;
}

/* Per-batch work during recovery (Kafka's LogSegment.recover): leader epochs,
 * producer state and the .txnindex entries of aborted transactions. */
static int recover_batch_cb(void *ctx, sl__segment *s, const uint8_t *batch,
                            const sl__batch_info *bi, int64_t pos) {
  sl_log *log = ctx;
  (void)pos;
  if (bi->magic != 2)
    return SL_OK;
  if (bi->leader_epoch >= 0 && bi->leader_epoch > log->latest_epoch)
    log->latest_epoch = bi->leader_epoch;
  if (log->epochs != NULL) {
    int rc =
        sl_epoch_cache_on_batch(log->epochs, bi->leader_epoch, bi->base_offset, NULL);
    if (rc)
      return rc == SL_EINVAL ? SL_OK : rc;
  }
  if (log->ps != NULL && bi->producer_id >= 0)
    return replay_batch(log, batch, (size_t)bi->size, s, NULL);
  return SL_OK;
}

int sl__log_replay(sl_log *log, int64_t from, int64_t to, sl_diag *diag) {
  uint8_t *buf = NULL;
  size_t cap = 0;
  int rc = SL_OK;
  if (log->ps == NULL || from >= to || log->nsegs == 0)
    return SL_OK;
  for (size_t i = floor_segment_index(log, from); i < log->nsegs; i++) {
    sl__segment *s = log->segs[i];
    if (s->base >= to)
      break;
    int64_t pos;
    sl__batch_info bi;
    rc = sl__segment_translate_offset(s, from, 0, &pos, &bi, diag);
    if (rc < 0)
      goto out;
    rc = SL_OK;
    while (sl__segment_batch_at(s, pos, s->size, &bi, NULL) == 1) {
      if (bi.base_offset >= to)
        break;
      if (bi.magic == 2 && bi.producer_id >= 0) {
        size_t got;
        if ((size_t)bi.size > cap) {
          uint8_t *nb = realloc(buf, (size_t)bi.size);
          if (nb == NULL) {
            rc = sl_diag_set(diag, SL_ENOMEM, -1, "replaying producer state");
            goto out;
          }
          buf = nb;
          cap = (size_t)bi.size;
        }
        rc = sl__fio_pread_all(s->fd, buf, (size_t)bi.size, pos, &got, s->log_path, diag);
        if (rc)
          goto out;
        if (got == (size_t)bi.size) {
          rc = replay_batch(log, buf, got, NULL, diag);
          if (rc == SL_ECORRUPT)
            rc = SL_OK; /* recovery decides about corrupt data, not replay */
          if (rc)
            goto out;
        }
      }
      pos += bi.size;
    }
  }
out:
  free(buf);
  if (rc == SL_OK)
    sl_pstate_set_map_end_offset(log->ps, to);
  return rc;
}

int sl__log_rebuild_pstate(sl_log *log, int64_t end, int64_t now_ms, sl_diag *diag) {
  if (log->ps == NULL)
    return SL_OK;
  int64_t start = log->log_start;
  if (log->nsegs > 0 && log->segs[0]->base > start)
    start = log->segs[0]->base;
  int rc = sl_pstate_truncate_and_reload(log->ps, start, end, now_ms, diag);
  if (rc)
    return rc;
  int64_t from = sl_pstate_map_end_offset(log->ps);
  if (from < start)
    from = start;
  return sl__log_replay(log, from, end, diag);
}

static void note_bad(sl_log *log, const sl_diag *d, int64_t pos) {
  if (log->report.first_bad_position >= 0)
    return;
  log->report.first_bad_position = pos;
  if (d) {
    size_t n = strnlen(d->path, sizeof(log->report.first_bad_file) - 1);
    memcpy(log->report.first_bad_file, d->path, n);
    log->report.first_bad_file[n] = '\0';
  }
}

static int recover_one(sl_log *log, size_t i, int64_t *truncated, sl_diag *diag) {
  sl__segment *s = log->segs[i];
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl__segment_recover(s, recover_batch_cb, log, truncated, &d);
  if (rc) {
    if (diag)
      *diag = d;
    return rc;
  }
  log->report.segments_recovered++;
  if (*truncated > 0) {
    log->report.bytes_truncated += *truncated;
    note_bad(log, &d, s->size);
  }
  return SL_OK;
}

static int delete_after(sl_log *log, size_t i, sl_diag *diag) {
  while (log->nsegs > i + 1) {
    sl__segment *s = sl__log_remove_segment_at(log, log->nsegs - 1);
    int rc = sl__segment_delete_files(s, diag);
    sl__segment_unref(s);
    if (rc)
      return rc;
    log->report.segments_deleted++;
  }
  return SL_OK;
}

/* Opens <dir>/leader-epoch-checkpoint.  A missing or corrupt file (the
 * writer deletes a corrupt one) asks for a rebuild from the batch headers. */
static int open_epochs(sl_log *log, bool readonly, bool *rebuild, sl_diag *diag) {
  char path[SL__SEGMENT_NAME_MAX];
  *rebuild = false;
  if (join(path, sizeof(path), log->dir, "leader-epoch-checkpoint") != SL_OK)
    return sl_diag_set(diag, SL_EINVAL, -1, "path too long");
  bool exists = access(path, F_OK) == 0;
  int rc =
      sl_epoch_cache_open(readonly ? (exists ? path : NULL) : path, &log->epochs, NULL);
  if (rc == SL_ENOMEM)
    return sl_diag_set(diag, rc, -1, "leader epoch cache");
  if (rc) {
    /* Corrupt: Kafka would fail the log; we rebuild it from the batches. */
    if (!readonly) {
      rc = sl__fio_unlink(path, diag);
      if (rc)
        return rc;
    }
    rc = sl_epoch_cache_open(readonly ? NULL : path, &log->epochs, diag);
    if (rc)
      return rc;
    exists = false;
  }
  *rebuild = !exists;
  return SL_OK;
}

/* Walks every batch header (no CRC) and assigns epochs as appends would. */
static int rebuild_epochs_from_headers(sl_log *log, sl_diag *diag) {
  for (size_t i = 0; i < log->nsegs; i++) {
    sl__segment *s = log->segs[i];
    sl__batch_info bi;
    int64_t pos = 0;
    while (sl__segment_batch_at(s, pos, s->size, &bi, NULL) == 1) {
      if (bi.magic == 2) {
        int rc =
            sl_epoch_cache_on_batch(log->epochs, bi.leader_epoch, bi.base_offset, diag);
        if (rc && rc != SL_EINVAL)
          return rc;
      }
      pos += bi.size;
    }
  }
  return SL_OK;
}

static int load_writer(sl_log *log, const sl_log_open_opts *opts, sl_diag *diag) {
  int64_t *bases = NULL;
  size_t n = 0;
  int64_t now = opts->now_ms > 0 ? opts->now_ms : sl__now_ms();
  bool *needs = NULL;
  bool rebuild_epochs = false, had_snapshots = false;
  int rc = clean_temp_files(log, diag);
  if (rc)
    return rc;
  rc = open_epochs(log, false, &rebuild_epochs, diag);
  if (rc)
    return rc;
  rc = sl_pstate_new(log->dir, NULL, &log->ps);
  if (rc)
    return sl_diag_set(diag, rc, -1, "producer state for %s", log->dir);
  {
    int64_t *snaps = NULL;
    size_t nsnaps = 0;
    rc = sl_pstate_snapshot_list(log->dir, &snaps, &nsnaps, diag);
    free(snaps);
    if (rc)
      return rc;
    had_snapshots = nsnaps > 0;
  }
  rc = list_segments(log, true, &bases, &n, diag);
  if (rc)
    return rc;
  needs = calloc(n + 1, sizeof(*needs));
  if (needs == NULL) {
    free(bases);
    return sl_diag_set(diag, SL_ENOMEM, -1, "loading %s", log->dir);
  }
  for (size_t i = 0; i < n; i++) {
    sl__segment_config sc;
    sl__segment *s;
    sl__log_segment_config(log, &sc);
    unsigned fl = SL__SEG_WRITABLE | (i + 1 == n ? SL__SEG_LIVE : 0);
    rc = sl__segment_open(log->dir, bases[i], &sc, fl, now, &s, diag);
    if (rc)
      goto out;
    needs[i] = s->oindex.missing || sl__txnindex_sanity_check(&s->txn, NULL) != SL_OK;
    rc = sl__log_add_segment(log, s, diag);
    if (rc) {
      sl__segment_unref(s);
      goto out;
    }
  }
  /* Segments that must be recovered regardless (missing .index, bad .txnindex). */
  size_t start = n;
  if (!opts->clean_shutdown && n > 0)
    start = floor_segment_index(log, opts->recovery_point);
  int64_t provisional_start = log->nsegs ? log->segs[0]->base : 0;
  if (opts->log_start_offset > provisional_start)
    provisional_start = opts->log_start_offset;
  log->log_start = provisional_start;
  for (size_t i = 0; i < log->nsegs; i++) {
    if (i < start && !needs[i])
      continue;
    int64_t truncated;
    /* Producer state up to this segment, then replayed through it (Kafka's
     * recoverSegment), and a snapshot at its end. */
    rc = sl__log_rebuild_pstate(log, log->segs[i]->base, now, diag);
    if (rc)
      goto out;
    rc = recover_one(log, i, &truncated, diag);
    if (rc)
      goto out;
    sl_pstate_set_map_end_offset(log->ps, log->segs[i]->next_offset);
    rc = sl_pstate_take_snapshot(log->ps, false, diag);
    if (rc)
      goto out;
    if (truncated > 0 && i >= start) {
      rc = delete_after(log, i, diag);
      if (rc)
        goto out;
      break;
    }
  }
  int64_t want_start = opts->log_start_offset;
  if (log->nsegs == 0) {
    sl__segment_config sc;
    sl__segment *s;
    sl__log_segment_config(log, &sc);
    rc = sl__segment_open(log->dir, want_start > 0 ? want_start : 0, &sc,
                          SL__SEG_CREATE | SL__SEG_WRITABLE | SL__SEG_ACTIVE, now, &s,
                          diag);
    if (rc)
      goto out;
    rc = sl__log_add_segment(log, s, diag);
    if (rc) {
      sl__segment_unref(s);
      goto out;
    }
  }
  rc = sl__log_update_end(log, diag);
  if (rc)
    goto out;
  {
    /* Even when recovery was skipped (clean shutdown), never append after
     * bytes that do not frame as complete batches: cut them (a preallocated
     * .log has a zero tail by design; appends overwrite it). */
    sl__segment *a = log->segs[log->nsegs - 1];
    off_t flen;
    rc = sl__fio_file_size(a->fd, &flen, a->log_path, diag);
    if (rc)
      goto out;
    if ((int64_t)flen > a->size && !log->cfg.preallocate) {
      rc = sl__fio_truncate(a->fd, a->size, a->log_path, diag);
      if (rc)
        goto out;
      log->report.bytes_truncated += (int64_t)flen - a->size;
      sl_diag d;
      sl_diag_clear(&d);
      sl__diag_path(&d, a->log_path);
      note_bad(log, &d, a->size);
    }
  }
  if (want_start > log->leo) {
    /* Everything is below the checkpointed log start: restart there. */
    while (log->nsegs > 0) {
      sl__segment *s = sl__log_remove_segment_at(log, log->nsegs - 1);
      rc = sl__segment_delete_files(s, diag);
      sl__segment_unref(s);
      if (rc)
        goto out;
      log->report.segments_deleted++;
    }
    sl__segment_config sc;
    sl__segment *s;
    sl__log_segment_config(log, &sc);
    rc = sl__segment_open(log->dir, want_start, &sc,
                          SL__SEG_CREATE | SL__SEG_WRITABLE | SL__SEG_ACTIVE, now, &s,
                          diag);
    if (rc)
      goto out;
    rc = sl__log_add_segment(log, s, diag);
    if (rc) {
      sl__segment_unref(s);
      goto out;
    }
    log->leo = want_start;
    log->latest_epoch = -1;
  }
  rc = sl__segment_make_active(log->segs[log->nsegs - 1], diag);
  if (rc)
    goto out;
  log->log_start = log->segs[0]->base;
  if (want_start > log->log_start)
    log->log_start = want_start;
  if (opts->clean_shutdown)
    log->recovery_point = log->leo;
  else
    log->recovery_point =
        opts->recovery_point < log->leo ? opts->recovery_point : log->leo;
  if (log->recovery_point < 0)
    log->recovery_point = 0;
  log->hw = opts->high_watermark >= 0 ? opts->high_watermark : 0;
  if (log->hw < log->log_start)
    log->hw = log->log_start;
  if (log->hw > log->leo)
    log->hw = log->leo;
  /* Leader epochs: rebuilt from the batch headers when the checkpoint was lost,
   * then cut to [log start, LEO] (Kafka's load step 6). */
  if (rebuild_epochs) {
    rc = rebuild_epochs_from_headers(log, diag);
    if (rc)
      goto out;
  }
  sl_epoch_cache_truncate_from_end(log->epochs, log->leo);
  sl_epoch_cache_truncate_from_start(log->epochs, log->log_start);
  rc = sl_epoch_cache_flush(log->epochs, diag);
  if (rc)
    goto out;
  /* Producer state (Kafka's load step 8).  The upgrade shortcut: a clean
   * shutdown without any snapshot starts empty at the LEO, no scan. */
  if (opts->clean_shutdown && !had_snapshots) {
    rc = sl_pstate_truncate_fully(log->ps, log->leo, diag);
    if (rc == SL_OK)
      rc = sl_pstate_take_snapshot(log->ps, false, diag);
  } else {
    rc = sl__log_rebuild_pstate(log, log->leo, now, diag);
  }
  if (rc)
    goto out;
  /* New or deleted files must survive a crash. */
  if (log->report.segments_recovered > 0 || log->report.temp_files_deleted > 0 ||
      log->report.swaps_completed > 0 || log->report.segments_deleted > 0) {
    rc = sl__fio_fsync_dir(log->dir, diag);
    if (rc)
      goto out;
  }
out:
  free(needs);
  free(bases);
  return rc;
}

static int load_reader(sl_log *log, const sl_log_open_opts *opts, sl_diag *diag) {
  int64_t *bases = NULL;
  size_t n = 0;
  bool rebuild;
  int64_t now = opts->now_ms > 0 ? opts->now_ms : sl__now_ms();
  int rc = open_epochs(log, true, &rebuild, diag);
  if (rc)
    return rc;
  rc = list_segments(log, false, &bases, &n, diag);
  if (rc)
    return rc;
  for (size_t i = 0; i < n; i++) {
    sl__segment_config sc;
    sl__segment *s;
    sl__log_segment_config(log, &sc);
    rc = sl__segment_open(log->dir, bases[i], &sc, i + 1 == n ? SL__SEG_LIVE : 0, now, &s,
                          diag);
    if (rc == SL_ENOT_FOUND)
      continue; /* deleted by the writer meanwhile */
    if (rc)
      goto out;
    if (i + 1 == n)
      rc = sl__segment_reader_start(s, diag);
    if (rc == SL_OK)
      rc = sl__log_add_segment(log, s, diag);
    if (rc) {
      sl__segment_unref(s);
      goto out;
    }
  }
  if (log->nsegs == 0) {
    rc = sl_diag_set(diag, SL_ENOT_FOUND, -1, "no segments in %s", log->dir);
    goto out;
  }
  rc = sl__log_update_end(log, diag);
  if (rc)
    goto out;
  log->log_start = log->segs[0]->base;
  if (opts->log_start_offset > log->log_start && opts->log_start_offset <= log->leo)
    log->log_start = opts->log_start_offset;
  log->hw = opts->high_watermark >= 0 ? opts->high_watermark : log->leo;
  if (log->hw < log->log_start)
    log->hw = log->log_start;
  if (log->hw > log->leo)
    log->hw = log->leo;
  log->recovery_point = 0;
out:
  free(bases);
  return rc;
}

int sl__log_load(sl_log *log, const sl_log_open_opts *opts, sl_diag *diag) {
  memset(&log->report, 0, sizeof(log->report));
  log->report.first_bad_position = -1;
  int rc = log->readonly ? load_reader(log, opts, diag) : load_writer(log, opts, diag);
  log->report.segments = (int32_t)log->nsegs;
  return rc;
}

int sl__log_refresh_locked(sl_log *log, sl_diag *diag) {
  int64_t *bases = NULL;
  size_t n = 0;
  int rc = list_segments(log, false, &bases, &n, diag);
  if (rc)
    return rc;
  /* Drop segments whose .log is gone (retention or truncation). */
  for (size_t i = 0; i < log->nsegs;) {
    if (bsearch(&log->segs[i]->base, bases, n, sizeof(*bases), cmp_i64) == NULL) {
      sl__segment_unref(sl__log_remove_segment_at(log, i));
    } else {
      i++;
    }
  }
  int64_t last = log->nsegs ? log->segs[log->nsegs - 1]->base : -1;
  if (log->nsegs > 0) {
    rc = sl__segment_refresh(log->segs[log->nsegs - 1], diag);
    if (rc)
      goto out;
  }
  for (size_t i = 0; i < n; i++) {
    if (bases[i] <= last)
      continue;
    sl__segment_config sc;
    sl__segment *s;
    sl__log_segment_config(log, &sc);
    rc = sl__segment_open(log->dir, bases[i], &sc, SL__SEG_LIVE, sl__now_ms(), &s, diag);
    if (rc == SL_ENOT_FOUND)
      continue;
    if (rc)
      goto out;
    rc = sl__segment_refresh(s, diag);
    if (rc == SL_OK)
      rc = sl__log_add_segment(log, s, diag);
    if (rc) {
      sl__segment_unref(s);
      goto out;
    }
  }
  if (log->nsegs > 0) {
    rc = sl__log_update_end(log, diag);
    if (rc)
      goto out;
    if (log->segs[0]->base > log->log_start)
      log->log_start = log->segs[0]->base;
    log->hw = log->leo;
  }
out:
  free(bases);
  return rc;
}

/* ---------------------------------------------------------------------------
 * Verify
 * ------------------------------------------------------------------------- */

typedef struct vbatch {
  int64_t pos, base, last, max_ts, prefix_max_ts;
} vbatch;

typedef struct verifier {
  sl_verify_cb cb;
  void *ctx;
  int64_t problems;
  int stop; /* the callback's non-zero answer */
} verifier;

static void report(verifier *v, sl_verify_kind kind, const char *file, int64_t pos,
                   int64_t offset, uint32_t stored, uint32_t computed, const char *fmt,
                   ...) __attribute__((format(printf, 8, 9)));

static void report(verifier *v, sl_verify_kind kind, const char *file, int64_t pos,
                   int64_t offset, uint32_t stored, uint32_t computed, const char *fmt,
                   ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  v->problems++;
  if (v->stop || v->cb == NULL)
    return;
  sl_verify_problem p = {kind, file, pos, offset, stored, computed, msg};
  v->stop = v->cb(v->ctx, &p);
}

static int read_whole(const char *path, sl_buf *b, bool *exists, sl_diag *diag) {
  sl_buf_reset(b);
  int rc = sl__fio_read_file(path, (size_t)1 << 30, b, diag);
  *exists = rc != SL_ENOT_FOUND;
  if (rc == SL_ENOT_FOUND) {
    if (diag)
      sl_diag_clear(diag);
    return SL_OK;
  }
  return rc;
}

/* The batch whose start is pos (binary search), or NULL. */
static const vbatch *batch_at_pos(const vbatch *v, size_t n, int64_t pos) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid].pos == pos)
      return &v[mid];
    if (v[mid].pos < pos)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* The batch containing offset, or NULL. */
static const vbatch *batch_with_offset(const vbatch *v, size_t n, int64_t off) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid].last < off)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && v[lo].base <= off ? &v[lo] : NULL;
}

/* Whether bytes [from, len) are all zero (a preallocated index tail). */
static bool zero_tail(const uint8_t *p, size_t len, size_t from) {
  for (size_t i = from; i < len; i++)
    if (p[i] != 0)
      return false;
  return true;
}

/* Whether bytes [0, n) are all zero. */
static bool all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0)
      return false;
  return true;
}

/*
 * Whether a writer has the partition dir's log open: the write lock on
 * `<parent>/.lock` is held (tested with F_OFD_GETLK on a read-only
 * descriptor; nothing is created or locked).
 */
static bool dir_is_live(const char *dir) {
  char path[SL__SEGMENT_NAME_MAX];
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  size_t i = n;
  while (i > 0 && dir[i - 1] != '/')
    i--;
  int w = i == 0 ? snprintf(path, sizeof(path), "./.lock")
                 : snprintf(path, sizeof(path), "%.*s.lock", (int)i, dir);
  if (w < 0 || (size_t)w >= sizeof(path))
    return false;
  int fd = -1;
  if (sl__fio_open(path, O_RDONLY, 0, &fd, NULL) != SL_OK)
    return false;
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  bool live = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  sl__fio_close(fd);
  return live;
}

/*
 * `live`: this is the active segment of a log a writer has open, whose end is
 * in progress: an incomplete batch at the end of the .log, a preallocated zero
 * tail, and index entries past the bytes read are the writer's tail, not
 * problems (not reported).
 */
static int verify_segment(verifier *v, const char *dir, int64_t base, int64_t next_base,
                          bool last_segment, bool live, sl_diag *diag) {
  char path[SL__SEGMENT_NAME_MAX];
  sl_buf data = SL_BUF_INIT, ix = SL_BUF_INIT;
  vbatch *bv = NULL;
  size_t nb = 0, capb = 0;
  bool exists;
  int fd = -1;
  int rc;
  sl__segment_file_name(path, sizeof(path), dir, base, ".log");
  /* Stream the .log a batch at a time (segments can be 2 GiB). */
  rc = sl__fio_open(path, O_RDONLY, 0, &fd, diag);
  if (rc)
    goto out;
  off_t flen;
  rc = sl__fio_file_size(fd, &flen, path, diag);
  if (rc)
    goto out;
  int64_t pos = 0, prev_last = -1, prefix_max = -1;
  const int64_t len = (int64_t)flen;
  while (pos < len && !v->stop) {
    uint8_t hdr[SL_BATCH_HEADER_SIZE];
    size_t left = (size_t)(len - pos), got;
    rc = sl__fio_pread_all(fd, hdr, left < sizeof(hdr) ? left : sizeof(hdr), pos, &got,
                           path, diag);
    if (rc)
      goto out;
    sl__batch_info bi;
    sl_diag d;
    sl_diag_clear(&d);
    int prc = sl__batch_info_parse(hdr, got, &bi, &d);
    if (live && (prc == SL_ETRUNCATED || (prc != SL_OK && all_zero(hdr, got))))
      break; /* a batch being written, or the preallocated zeros after the end */
    if (prc == SL_ETRUNCATED) {
      report(v, SL_VERIFY_TRUNCATED, path, pos, -1, 0, 0,
             "incomplete batch header: %zu bytes at the end of the file", left);
      break;
    }
    if (prc) {
      report(v, SL_VERIFY_BAD_LENGTH, path, pos,
             got >= 8 ? (int64_t)sl_load_be64(hdr) : -1, 0, 0,
             "batch at %lld: %s; the rest of the segment cannot be framed",
             (long long)pos, d.msg);
      break;
    }
    if ((size_t)bi.size > left) {
      if (live)
        break;
      report(v, SL_VERIFY_TRUNCATED, path, pos, bi.base_offset, 0, 0,
             "incomplete batch at offset %lld: %d bytes announced, %zu present",
             (long long)bi.base_offset, bi.size, left);
      break;
    }
    sl_buf_reset(&data);
    uint8_t *p = sl_buf_reserve(&data, (size_t)bi.size);
    if (p == NULL) {
      rc = sl_diag_set(diag, SL_ENOMEM, pos, "batch of %d bytes", bi.size);
      goto out;
    }
    rc = sl__fio_pread_all(fd, p, (size_t)bi.size, pos, &got, path, diag);
    if (rc)
      goto out;
    if (got != (size_t)bi.size) {
      if (live)
        break;
      report(v, SL_VERIFY_TRUNCATED, path, pos, bi.base_offset, 0, 0,
             "batch at offset %lld cut short while reading", (long long)bi.base_offset);
      break;
    }
    prc = sl_batch_validate(p, (size_t)bi.size, &d);
    if (prc == SL_ECRC) {
      uint32_t stored, computed;
      if (bi.magic == 2) {
        stored = sl_load_be32(p + SL_BATCH_OFF_CRC);
        computed = sl_batch_crc_compute(p, (size_t)bi.size);
      } else {
        stored = sl_load_be32(p + 12);
        computed = sl_crc32_ieee(0, p + 16, (size_t)bi.size - 16);
      }
      report(v, SL_VERIFY_CRC, path, pos, bi.base_offset, stored, computed,
             "CRC mismatch in the batch at offset %lld: stored 0x%08x, computed 0x%08x",
             (long long)bi.base_offset, stored, computed);
    } else if (prc) {
      report(v, SL_VERIFY_BAD_LENGTH, path, pos, bi.base_offset, 0, 0,
             "invalid batch at offset %lld: %s", (long long)bi.base_offset, d.msg);
    }
    if (bi.base_offset < base || bi.base_offset <= prev_last)
      report(v, SL_VERIFY_OFFSETS, path, pos, bi.base_offset, 0, 0,
             "batch offset %lld is not above the previous last offset %lld (segment "
             "base %lld)",
             (long long)bi.base_offset, (long long)prev_last, (long long)base);
    if (next_base >= 0 && bi.last_offset >= next_base)
      report(v, SL_VERIFY_SEGMENT_OVERLAP, path, pos, bi.last_offset, 0, 0,
             "last offset %lld reaches into the next segment (base %lld)",
             (long long)bi.last_offset, (long long)next_base);
    if (bi.max_timestamp > prefix_max)
      prefix_max = bi.max_timestamp;
    if (nb == capb) {
      size_t nc = capb ? capb * 2 : 256;
      vbatch *n2 = realloc(bv, nc * sizeof(*n2));
      if (n2 == NULL) {
        rc = sl_diag_set(diag, SL_ENOMEM, -1, "verifying %s", path);
        goto out;
      }
      bv = n2;
      capb = nc;
    }
    bv[nb++] =
        (vbatch){pos, bi.base_offset, bi.last_offset, bi.max_timestamp, prefix_max};
    if (bi.last_offset > prev_last)
      prev_last = bi.last_offset;
    pos += bi.size;
  }

  /* .index */
  sl__segment_file_name(path, sizeof(path), dir, base, ".index");
  rc = read_whole(path, &ix, &exists, diag);
  if (rc)
    goto out;
  if (exists) {
    size_t n = last_segment ? sl_offset_index_live_count(ix.data, ix.len)
                            : sl_offset_index_count(ix.len);
    if (last_segment && !zero_tail(ix.data, ix.len, n * SL_OFFSET_INDEX_ENTRY_SIZE))
      report(v, SL_VERIFY_INDEX_ENTRY, path, (int64_t)(n * SL_OFFSET_INDEX_ENTRY_SIZE),
             -1, 0, 0,
             "entry %zu is not above the previous one, and what follows is not a "
             "preallocated zero tail",
             n);
    sl_diag d;
    sl_diag_clear(&d);
    if (!last_segment && sl_offset_index_sanity_check(ix.data, ix.len, base, &d))
      report(v, SL_VERIFY_INDEX_FILE, path, d.pos, -1, 0, 0, "%s", d.msg);
    int64_t prev_off = -1, prev_pos = -1;
    for (size_t i = 0; i < n && !v->stop; i++) {
      sl_offset_position e;
      sl_offset_index_entry(ix.data, ix.len, i, base, &e);
      int64_t at = (int64_t)(i * SL_OFFSET_INDEX_ENTRY_SIZE);
      if (live && e.position >= pos && e.offset > prev_off)
        break; /* written after the .log was read */
      if (e.offset <= prev_off || e.position <= prev_pos)
        report(v, SL_VERIFY_INDEX_ENTRY, path, at, e.offset, 0, 0,
               "entry %zu (offset %lld, position %lld) is not above the previous one", i,
               (long long)e.offset, (long long)e.position);
      const vbatch *b = batch_at_pos(bv, nb, e.position);
      if (b == NULL)
        report(v, SL_VERIFY_INDEX_ENTRY, path, at, e.offset, 0, 0,
               "entry %zu points at position %lld, which is not the start of a batch", i,
               (long long)e.position);
      else if (b->last != e.offset)
        report(v, SL_VERIFY_INDEX_ENTRY, path, at, e.offset, 0, 0,
               "entry %zu says offset %lld but the batch at position %lld ends at %lld",
               i, (long long)e.offset, (long long)e.position, (long long)b->last);
      prev_off = e.offset;
      prev_pos = e.position;
    }
  }

  /* .timeindex */
  sl__segment_file_name(path, sizeof(path), dir, base, ".timeindex");
  rc = read_whole(path, &ix, &exists, diag);
  if (rc)
    goto out;
  if (exists) {
    size_t n = last_segment ? sl_time_index_live_count(ix.data, ix.len)
                            : sl_time_index_count(ix.len);
    if (last_segment && !zero_tail(ix.data, ix.len, n * SL_TIME_INDEX_ENTRY_SIZE))
      report(v, SL_VERIFY_TIME_INDEX, path, (int64_t)(n * SL_TIME_INDEX_ENTRY_SIZE), -1,
             0, 0,
             "entry %zu is not monotonic, and what follows is not a preallocated zero "
             "tail",
             n);
    sl_diag d;
    sl_diag_clear(&d);
    if (!last_segment && sl_time_index_sanity_check(ix.data, ix.len, base, &d))
      report(v, SL_VERIFY_INDEX_FILE, path, d.pos, -1, 0, 0, "%s", d.msg);
    int64_t prev_ts = INT64_MIN, prev_off = -1;
    for (size_t i = 0; i < n && !v->stop; i++) {
      sl_timestamp_offset e;
      sl_time_index_entry(ix.data, ix.len, i, base, &e);
      int64_t at = (int64_t)(i * SL_TIME_INDEX_ENTRY_SIZE);
      if (live && e.offset > prev_last && e.timestamp > prev_ts)
        break; /* written after the .log was read */
      if (e.timestamp <= prev_ts || e.offset < prev_off)
        report(v, SL_VERIFY_TIME_INDEX, path, at, e.offset, 0, 0,
               "entry %zu (timestamp %lld, offset %lld) is not monotonic", i,
               (long long)e.timestamp, (long long)e.offset);
      const vbatch *b = batch_with_offset(bv, nb, e.offset);
      if (b == NULL)
        report(v, SL_VERIFY_TIME_INDEX, path, at, e.offset, 0, 0,
               "entry %zu: no batch holds offset %lld", i, (long long)e.offset);
      else if (b->prefix_max_ts != e.timestamp)
        report(
            v, SL_VERIFY_TIME_INDEX, path, at, e.offset, 0, 0,
            "entry %zu: timestamp %lld, but the largest timestamp up to offset %lld is "
            "%lld",
            i, (long long)e.timestamp, (long long)e.offset, (long long)b->prefix_max_ts);
      prev_ts = e.timestamp;
      prev_off = e.offset;
    }
  }

  /* .txnindex */
  sl__segment_file_name(path, sizeof(path), dir, base, ".txnindex");
  rc = read_whole(path, &ix, &exists, diag);
  if (rc)
    goto out;
  if (exists) {
    sl_diag d;
    sl_diag_clear(&d);
    if (sl_txn_index_sanity_check(ix.data, ix.len, base, &d))
      report(v, SL_VERIFY_TXN_INDEX, path, d.pos, -1, 0, 0, "%s", d.msg);
  }
out:
  sl__fio_close(fd);
  free(bv);
  sl_buf_release(&data);
  sl_buf_release(&ix);
  return rc;
}

int sl_log_verify(const char *dir, sl_verify_cb cb, void *ctx, int64_t *problems,
                  sl_diag *diag) {
  verifier v = {cb, ctx, 0, 0};
  int64_t *bases = NULL;
  size_t n = 0;
  sl_log tmp;
  memset(&tmp, 0, sizeof(tmp));
  tmp.dir = (char *)dir;
  int rc = list_segments(&tmp, false, &bases, &n, diag);
  if (rc)
    return rc;
  bool live = dir_is_live(dir);
  for (size_t i = 0; i < n && !v.stop; i++) {
    rc = verify_segment(&v, dir, bases[i], i + 1 < n ? bases[i + 1] : -1, i + 1 == n,
                        live && i + 1 == n, diag);
    if (rc)
      break;
  }
  free(bases);
  if (problems)
    *problems = v.problems;
  if (rc == SL_OK && v.stop)
    rc = v.stop;
  return rc;
}
