/*
 * segment.c - one log segment (.log + .index + .timeindex + .txnindex):
 * create/open, append with the index.interval.bytes rule, offset and timestamp
 * lookups, recovery (Kafka's LogSegment.recover), read-only refresh,
 * truncation, roll-time trimming and deletion.  Design: docs/FORMAT.md,
 * "Segments", "Indexes" and "Recovery"; the structure is in segment_int.h.
 */
#include "segment_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio_int.h"
#include "seglog/bytes.h"

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p)
    memcpy(p, s, n);
  return p;
}

int sl__batch_info_parse(const uint8_t *p, size_t len, sl__batch_info *bi,
                         sl_diag *diag) {
  int64_t base;
  int32_t size;
  int8_t magic;
  int rc = sl_batch_peek(p, len, &base, &size, &magic);
  if (rc == SL_ETRUNCATED)
    return rc;
  if (rc)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                       "invalid batch length %d or magic %d",
                       (int32_t)sl_load_be32(p + SL_BATCH_OFF_LENGTH), magic);
  memset(bi, 0, sizeof(*bi));
  bi->base_offset = base;
  bi->last_offset = base;
  bi->size = size;
  bi->magic = magic;
  bi->leader_epoch = SL_NO_PARTITION_LEADER_EPOCH;
  bi->producer_id = SL_NO_PRODUCER_ID;
  bi->producer_epoch = SL_NO_PRODUCER_EPOCH;
  bi->base_sequence = SL_NO_SEQUENCE;
  bi->max_timestamp = SL_NO_TIMESTAMP;
  bi->records_count = 1;
  if (magic == 2) {
    sl_batch_header h;
    if (len < SL_BATCH_HEADER_SIZE) {
      if ((size_t)size < SL_BATCH_HEADER_SIZE)
        return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                           "batch length %d is below the v2 minimum", size - 12);
      return SL_ETRUNCATED;
    }
    rc = sl_batch_header_decode(p, len, &h, diag);
    if (rc)
      return rc == SL_ETRUNCATED ? SL_ECORRUPT : rc;
    bi->last_offset = sl_batch_last_offset(&h);
    bi->max_timestamp = h.max_timestamp;
    bi->leader_epoch = h.partition_leader_epoch;
    bi->attributes = h.attributes;
    bi->producer_id = h.producer_id;
    bi->producer_epoch = h.producer_epoch;
    bi->base_sequence = h.base_sequence;
    bi->records_count = h.records_count;
  } else {
    /* offset(8) size(4) crc(4) magic(1) attributes(1) [timestamp(8)] */
    if (len < 18)
      return SL_ETRUNCATED;
    bi->attributes = p[17];
    if (magic == 1) {
      if (len < 26)
        return SL_ETRUNCATED;
      bi->max_timestamp = (int64_t)sl_load_be64(p + 18);
    }
  }
  return SL_OK;
}

int sl__segment_file_name(char *out, size_t cap, const char *dir, int64_t base,
                          const char *suffix) {
  int n = snprintf(out, cap, "%s/%020lld%s", dir, (long long)base, suffix);
  if (n < 0 || (size_t)n >= cap)
    return SL_EINVAL;
  return SL_OK;
}

static void seg_free(sl__segment *s) {
  if (s == NULL)
    return;
  sl__index_close(&s->oindex);
  sl__index_close(&s->tindex);
  sl__txnindex_close(&s->txn);
  sl__fio_close(s->fd);
  free(s->log_path);
  free(s->dir);
  free(s);
}

void sl__segment_ref(sl__segment *s) {
  atomic_fetch_add(&s->refs, 1);
}

void sl__segment_unref(sl__segment *s) {
  if (s == NULL)
    return;
  if (atomic_fetch_sub(&s->refs, 1) == 1)
    seg_free(s);
}

int sl__segment_open(const char *dir, int64_t base, const sl__segment_config *cfg,
                     unsigned flags, int64_t now_ms, sl__segment **out, sl_diag *diag) {
  char path[SL__SEGMENT_NAME_MAX];
  int rc;
  sl__segment *s = calloc(1, sizeof(*s));
  *out = NULL;
  if (s == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "opening segment %lld", (long long)base);
  atomic_init(&s->refs, 1);
  s->fd = -1;
  /* seg_free on an early failure closes all three: never descriptor 0. */
  s->oindex.fd = s->tindex.fd = s->txn.fd = -1;
  s->base = base;
  s->cfg = *cfg;
  s->writable = (flags & SL__SEG_WRITABLE) != 0;
  s->created_ms = now_ms;
  s->next_offset = -1;
  s->max_ts = SL_NO_TIMESTAMP;
  s->offset_of_max_ts = -1;
  s->rolling_ts = SL_NO_TIMESTAMP;
  s->tail_pos = -1;
  s->dir = dup_str(dir);
  if (s->dir == NULL ||
      sl__segment_file_name(path, sizeof(path), dir, base, ".log") != SL_OK ||
      (s->log_path = dup_str(path)) == NULL) {
    rc = sl_diag_set(diag, SL_ENOMEM, -1, "opening segment %lld", (long long)base);
    goto fail;
  }
  int oflags = s->writable ? O_RDWR : O_RDONLY;
  if (flags & SL__SEG_CREATE)
    oflags |= O_CREAT | O_TRUNC;
  rc = sl__fio_open(path, oflags, 0644, &s->fd, diag);
  if (rc)
    goto fail;
  if ((flags & SL__SEG_CREATE) && cfg->preallocate && cfg->segment_bytes > 0) {
    rc = sl__fio_truncate(s->fd, cfg->segment_bytes, path, diag);
    if (rc)
      goto fail;
    s->size = 0;
  } else {
    off_t len;
    rc = sl__fio_file_size(s->fd, &len, path, diag);
    if (rc)
      goto fail;
    s->size = len;
  }
  unsigned iflags = 0;
  if (s->writable)
    iflags |= SL__IDX_WRITABLE | SL__IDX_CREATE;
  if (flags & (SL__SEG_ACTIVE | SL__SEG_LIVE))
    iflags |= SL__IDX_LIVE;
  if ((flags & SL__SEG_ACTIVE) && s->writable)
    iflags |= SL__IDX_PREALLOC;
  if (!(flags & (SL__SEG_ACTIVE | SL__SEG_LIVE | SL__SEG_CREATE)))
    iflags |= SL__IDX_LAZY; /* inactive: one descriptor (the .log) until a lookup */
  if ((flags & SL__SEG_CREATE) && s->writable) {
    /* Stale index files of a replaced segment must not be reused. */
    sl__segment_file_name(path, sizeof(path), dir, base, ".index");
    sl__fio_unlink(path, NULL);
    sl__segment_file_name(path, sizeof(path), dir, base, ".timeindex");
    sl__fio_unlink(path, NULL);
    sl__segment_file_name(path, sizeof(path), dir, base, ".txnindex");
    sl__fio_unlink(path, NULL);
  }
  sl__segment_file_name(path, sizeof(path), dir, base, ".index");
  rc = sl__index_open(&s->oindex, SL__INDEX_OFFSET, path, base, cfg->max_index_bytes,
                      iflags, diag);
  if (rc)
    goto fail;
  sl__segment_file_name(path, sizeof(path), dir, base, ".timeindex");
  rc = sl__index_open(&s->tindex, SL__INDEX_TIME, path, base, cfg->max_index_bytes,
                      iflags, diag);
  if (rc)
    goto fail;
  sl__segment_file_name(path, sizeof(path), dir, base, ".txnindex");
  rc = sl__txnindex_open(&s->txn, path, base, s->writable, diag);
  if (rc)
    goto fail;
  if (s->tindex.entries > 0) {
    s->max_ts = s->tindex.last_key;
    s->offset_of_max_ts = s->tindex.last_val;
  }
  if (flags & SL__SEG_CREATE) {
    s->next_offset = base;
    s->rolling_ts_known = true;
  }
  *out = s;
  return SL_OK;
fail:
  if (diag && diag->path[0] == '\0')
    sl_diag_set_path(diag, s->log_path ? s->log_path : dir);
  seg_free(s);
  return rc;
}

static int seg_error(sl__segment *s, int err, sl_diag *diag) {
  if (diag)
    sl_diag_set_path(diag, s->log_path);
  return err;
}

int sl__segment_batch_at(sl__segment *s, int64_t pos, int64_t limit, sl__batch_info *bi,
                         sl_diag *diag) {
  uint8_t h[SL_BATCH_HEADER_SIZE];
  size_t got;
  if (limit - pos < SL_BATCH_OFF_MAGIC + 1)
    return 0;
  size_t want =
      limit - pos < SL_BATCH_HEADER_SIZE ? (size_t)(limit - pos) : SL_BATCH_HEADER_SIZE;
  int rc = sl__fio_pread_all(s->fd, h, want, pos, &got, s->log_path, diag);
  if (rc)
    return rc;
  rc = sl__batch_info_parse(h, got, bi, diag);
  if (rc == SL_ETRUNCATED)
    return 0;
  if (rc) {
    if (diag)
      diag->pos = pos + (diag->pos >= 0 ? diag->pos : 0);
    return seg_error(s, rc, diag);
  }
  if (pos + bi->size > limit)
    return 0;
  return 1;
}

void sl__cursor_init(sl__batch_cursor *c, sl__segment *s, int64_t limit) {
  c->s = s;
  c->limit = limit;
  c->win_pos = 0;
  c->win_len = 0;
  c->last_size = 0;
}

int sl__cursor_batch_at(sl__batch_cursor *c, int64_t pos, sl__batch_info *bi,
                        sl_diag *diag) {
  sl__segment *s = c->s;
  if (c->limit - pos < SL_BATCH_OFF_MAGIC + 1)
    return 0;
  size_t need = c->limit - pos < SL_BATCH_HEADER_SIZE ? (size_t)(c->limit - pos)
                                                      : SL_BATCH_HEADER_SIZE;
  if (pos < c->win_pos || pos + (int64_t)need > c->win_pos + (int64_t)c->win_len) {
    size_t want = c->limit - pos < (int64_t)sizeof(c->buf) ? (size_t)(c->limit - pos)
                                                           : sizeof(c->buf);
    if (c->last_size >= SL__CURSOR_BIG_BATCH)
      want = need;
    size_t got;
    int rc = sl__fio_pread_all(s->fd, c->buf, want, pos, &got, s->log_path, diag);
    if (rc)
      return rc;
    c->win_pos = pos;
    c->win_len = got;
  }
  size_t off = (size_t)(pos - c->win_pos);
  size_t have = c->win_len - off < need ? c->win_len - off : need;
  int rc = sl__batch_info_parse(c->buf + off, have, bi, diag);
  if (rc == SL_ETRUNCATED)
    return 0;
  if (rc) {
    if (diag)
      diag->pos = pos + (diag->pos >= 0 ? diag->pos : 0);
    return seg_error(s, rc, diag);
  }
  c->last_size = bi->size;
  if (pos + bi->size > c->limit)
    return 0;
  return 1;
}

/* The offset index's starting point for `target`, checked: the entry must
 * name a batch that starts at its position and ends at its offset.  A stale
 * or foreign index (a crashed writer's tail, a bad file) costs a scan from
 * the segment start instead of a wrong answer. */
static int index_hint(sl__segment *s, sl__batch_cursor *cur, int64_t target, int64_t *pos,
                      sl_diag *diag) {
  int64_t k, p = 0;
  sl__batch_info bi;
  int rc = sl__index_lookup(&s->oindex, target, &k, &p, diag);
  if (rc < 0)
    return rc;
  *pos = 0;
  /* k <= target too: a reader's index may be rewritten under it, and a
   * search through changing entries can end on any of them. */
  if (rc == 1 && k <= target && p > 0 && p < s->size &&
      sl__cursor_batch_at(cur, p, &bi, NULL) == 1 && bi.last_offset == k)
    *pos = p;
  return SL_OK;
}

int sl__segment_translate_offset(sl__segment *s, int64_t offset, int64_t start_pos,
                                 int64_t *pos, sl__batch_info *bi, sl_diag *diag) {
  int64_t p;
  sl__batch_cursor cur;
  sl__cursor_init(&cur, s, s->size);
  int rc = index_hint(s, &cur, offset, &p, diag);
  if (rc)
    return rc;
  if (start_pos > p)
    p = start_pos;
  for (;;) {
    rc = sl__cursor_batch_at(&cur, p, bi, diag);
    if (rc <= 0)
      return rc;
    if (bi->last_offset >= offset) {
      *pos = p;
      return 1;
    }
    p += bi->size;
  }
}

int sl__segment_find_by_timestamp(sl__segment *s, int64_t ts, int64_t start,
                                  int64_t *offset, int64_t *batch_ts, sl_diag *diag) {
  int64_t t, toff, p;
  int rc = sl__index_lookup(&s->tindex, ts, &t, &toff, diag);
  if (rc < 0)
    return rc;
  sl__batch_cursor cur;
  sl__cursor_init(&cur, s, s->size);
  /* A reader's time index may be rewritten under it: its entry must be at
   * or below ts and name the batch holding toff with max timestamp t, else
   * the scan starts over from the start offset. */
  bool check = rc == 1 && !s->writable;
  if (check && t > ts) {
    check = false;
    toff = start;
  }
  rc = index_hint(s, &cur, toff > start ? toff : start, &p, diag);
  if (rc)
    return rc;
  for (;;) {
    sl__batch_info bi = {0}; /* gcc -O3 cannot see rc == 0 guards it */
    rc = sl__cursor_batch_at(&cur, p, &bi, diag);
    if (rc < 0)
      return rc;
    if (check && (rc == 0 || bi.last_offset >= toff ||
                  (bi.max_timestamp >= ts && bi.last_offset >= start))) {
      /* (A batch before toff's that qualifies contradicts the entry.) */
      check = false;
      if (rc == 0 || bi.last_offset < toff || bi.base_offset > toff ||
          bi.max_timestamp != t) {
        rc = index_hint(s, &cur, start, &p, diag);
        if (rc)
          return rc;
        continue;
      }
    }
    if (rc == 0)
      return rc;
    if (bi.max_timestamp >= ts && bi.last_offset >= start) {
      *offset = bi.base_offset > start ? bi.base_offset : start;
      *batch_ts = bi.max_timestamp;
      return 1;
    }
    p += bi.size;
  }
}

int64_t sl__segment_largest_timestamp(sl__segment *s) {
  if (s->max_ts >= 0)
    return s->max_ts;
  struct stat st;
  if (fstat(s->fd, &st) != 0)
    return 0;
  return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* Walks the batch headers from the last offset index entry to the end of the
 * data: next offset, max timestamp, bytes since the last index entry and the
 * first batch's timestamp. */
static int rescan_tail(sl__segment *s, sl_diag *diag) {
  int64_t pos = 0;
  if (s->oindex.entries > 0) {
    sl__batch_cursor c;
    sl__cursor_init(&c, s, s->size);
    int rc = index_hint(s, &c, s->oindex.last_key, &pos, diag);
    if (rc)
      return rc;
  }
  int64_t next = s->base;
  int64_t index_pos = pos;
  sl__batch_info bi;
  if (!s->rolling_ts_known) {
    int rc = sl__segment_batch_at(s, 0, s->size, &bi, diag);
    if (rc < 0)
      return rc;
    s->rolling_ts = rc == 1 ? bi.max_timestamp : SL_NO_TIMESTAMP;
    s->rolling_ts_known = true;
  }
  sl__batch_cursor cur;
  sl__cursor_init(&cur, s, s->size);
  for (;;) {
    int rc = sl__cursor_batch_at(&cur, pos, &bi, diag);
    if (rc < 0)
      return rc;
    if (rc == 0)
      break;
    if (bi.max_timestamp > s->max_ts) {
      s->max_ts = bi.max_timestamp;
      s->offset_of_max_ts = bi.last_offset;
    }
    next = bi.last_offset + 1;
    pos += bi.size;
  }
  /* A segment whose data ends early (a reader's torn tail) keeps what it has. */
  s->size = pos;
  s->next_offset = next;
  s->bytes_since_index = pos - (s->oindex.entries > 0 ? index_pos : 0);
  return SL_OK;
}

int sl__segment_next_offset(sl__segment *s, int64_t *next, sl_diag *diag) {
  if (s->next_offset < 0) {
    int rc = rescan_tail(s, diag);
    if (rc)
      return rc;
  }
  *next = s->next_offset;
  return SL_OK;
}

int sl__segment_rolling_timestamp(sl__segment *s, int64_t *ts, sl_diag *diag) {
  if (!s->rolling_ts_known) {
    sl__batch_info bi;
    int rc = sl__segment_batch_at(s, 0, s->size, &bi, diag);
    if (rc < 0)
      return rc;
    s->rolling_ts = rc == 1 ? bi.max_timestamp : SL_NO_TIMESTAMP;
    s->rolling_ts_known = true;
  }
  *ts = s->rolling_ts;
  return SL_OK;
}

int sl__segment_append(sl__segment *s, const uint8_t *data, size_t len,
                       const sl__batch_info *infos, size_t n, sl_diag *diag) {
  if (!s->writable)
    return sl_diag_set(diag, SL_EREADONLY, -1, "segment %s is read-only", s->log_path);
  if (len == 0)
    return SL_OK;
  if (s->next_offset < 0) {
    int64_t next;
    int rc = sl__segment_next_offset(s, &next, diag);
    if (rc)
      return rc;
  }
  const int64_t old_size = s->size;
  const size_t old_oi = s->oindex.entries, old_ti = s->tindex.entries;
  const int64_t old_max = s->max_ts, old_max_off = s->offset_of_max_ts;
  const int64_t old_since = s->bytes_since_index;
  int rc = sl__fio_pwrite_all(s->fd, data, len, old_size, s->log_path, diag);
  if (rc)
    goto rollback;
  int64_t pos = old_size;
  for (size_t i = 0; i < n; i++) {
    const sl__batch_info *bi = &infos[i];
    if (bi->max_timestamp > s->max_ts) {
      s->max_ts = bi->max_timestamp;
      s->offset_of_max_ts = bi->last_offset;
    }
    if (s->bytes_since_index > s->cfg.index_interval_bytes &&
        !sl__index_is_full(&s->oindex) && !sl__index_is_full(&s->tindex)) {
      rc = sl__index_append_offset(&s->oindex, bi->last_offset, pos, diag);
      if (rc == SL_OK)
        rc = sl__index_maybe_append_time(&s->tindex, s->max_ts, s->offset_of_max_ts,
                                         false, diag);
      if (rc)
        goto rollback;
      s->bytes_since_index = 0;
    }
    pos += bi->size;
    s->bytes_since_index += bi->size;
  }
  if (old_size == 0) {
    s->rolling_ts = infos[0].max_timestamp;
    s->rolling_ts_known = true;
  }
  s->size = old_size + (int64_t)len;
  s->next_offset = infos[n - 1].last_offset + 1;
  return SL_OK;
rollback:
  /* Best effort: the caller reports rc; a failed rollback is caught by the
   * log (it latches) and by recovery after a restart. */
  if (sl__fio_truncate(s->fd, old_size, s->log_path, NULL) != SL_OK && diag)
    snprintf(diag->msg + strlen(diag->msg), sizeof(diag->msg) - strlen(diag->msg),
             " (and the rollback failed)");
  sl__index_truncate_entries(&s->oindex, old_oi, NULL);
  sl__index_truncate_entries(&s->tindex, old_ti, NULL);
  s->max_ts = old_max;
  s->offset_of_max_ts = old_max_off;
  s->bytes_since_index = old_since;
  if (diag && diag->path[0] == '\0')
    sl_diag_set_path(diag, s->log_path);
  return rc;
}

/* Scans batches from `pos` up to `flen`, validating each one completely.  With
 * `rebuild`, adds index entries and calls cb.  Stops at the first invalid
 * batch, describing it in diag (if given) and setting *bad = true.  Returns
 * the end of valid data in *end. */
static int scan_valid(sl__segment *s, int64_t pos, int64_t flen, bool rebuild,
                      int64_t last_index_pos, sl__segment_batch_cb cb, void *ctx,
                      int64_t *end, bool *bad, sl_diag *diag) {
  uint8_t *buf = NULL;
  size_t cap = 0;
  int rc = SL_OK;
  int64_t prev_last = s->next_offset > s->base ? s->next_offset - 1 : -1;
  *bad = false;
  for (;;) {
    sl__batch_info bi;
    sl_diag d;
    sl_diag_clear(&d);
    if (flen - pos == 0)
      break;
    if (flen - pos < SL_BATCH_OFF_MAGIC + 1) {
      sl_diag_set(&d, SL_ETRUNCATED, pos, "incomplete batch header (%lld bytes)",
                  (long long)(flen - pos));
      *bad = true;
      goto stop;
    }
    uint8_t h[SL_BATCH_HEADER_SIZE];
    size_t want =
        flen - pos < SL_BATCH_HEADER_SIZE ? (size_t)(flen - pos) : SL_BATCH_HEADER_SIZE;
    size_t got;
    rc = sl__fio_pread_all(s->fd, h, want, pos, &got, s->log_path, diag);
    if (rc)
      goto out;
    rc = sl__batch_info_parse(h, got, &bi, &d);
    if (rc == SL_ETRUNCATED) {
      sl_diag_set(&d, SL_ETRUNCATED, pos, "incomplete batch header");
      *bad = true;
      rc = SL_OK;
      goto stop;
    }
    if (rc) {
      d.pos = pos + (d.pos >= 0 ? d.pos : 0);
      *bad = true;
      rc = SL_OK;
      goto stop;
    }
    if (bi.size > flen - pos) {
      sl_diag_set(&d, SL_ETRUNCATED, pos,
                  "incomplete batch at offset %lld: %d bytes announced, %lld present",
                  (long long)bi.base_offset, bi.size, (long long)(flen - pos));
      *bad = true;
      goto stop;
    }
    if ((size_t)bi.size > cap) {
      uint8_t *nb = realloc(buf, (size_t)bi.size);
      if (nb == NULL) {
        rc = sl_diag_set(diag, SL_ENOMEM, pos, "batch of %d bytes", bi.size);
        goto out;
      }
      buf = nb;
      cap = (size_t)bi.size;
    }
    rc = sl__fio_pread_all(s->fd, buf, (size_t)bi.size, pos, &got, s->log_path, diag);
    if (rc)
      goto out;
    if (got < (size_t)bi.size) {
      sl_diag_set(&d, SL_ETRUNCATED, pos, "batch cut short by the end of the file");
      *bad = true;
      goto stop;
    }
    if (sl_batch_validate(buf, (size_t)bi.size, &d) != SL_OK) {
      d.pos = pos + (d.pos >= 0 ? d.pos : 0);
      *bad = true;
      goto stop;
    }
    if (bi.base_offset < s->base || bi.base_offset <= prev_last) {
      sl_diag_set(&d, SL_EINVALID_OFFSET, pos,
                  "batch offset %lld is not above the previous last offset %lld "
                  "(segment base %lld)",
                  (long long)bi.base_offset, (long long)prev_last, (long long)s->base);
      *bad = true;
      goto stop;
    }
    if (bi.last_offset - s->base > INT32_MAX) {
      sl_diag_set(&d, SL_EINVALID_OFFSET, pos,
                  "last offset %lld does not fit the segment's relative offsets",
                  (long long)bi.last_offset);
      *bad = true;
      goto stop;
    }
    if (rebuild) {
      if (bi.max_timestamp > s->max_ts) {
        s->max_ts = bi.max_timestamp;
        s->offset_of_max_ts = bi.last_offset;
      }
      if (pos - last_index_pos > s->cfg.index_interval_bytes &&
          !sl__index_is_full(&s->oindex) && !sl__index_is_full(&s->tindex)) {
        rc = sl__index_append_offset(&s->oindex, bi.last_offset, pos, diag);
        if (rc == SL_OK)
          rc = sl__index_maybe_append_time(&s->tindex, s->max_ts, s->offset_of_max_ts,
                                           false, diag);
        if (rc)
          goto out;
        last_index_pos = pos;
      }
      if (cb != NULL) {
        rc = cb(ctx, s, buf, &bi, pos);
        if (rc == SL_ECORRUPT) {
          sl_diag_set(&d, SL_ECORRUPT, pos, "invalid control batch at offset %lld",
                      (long long)bi.base_offset);
          *bad = true;
          rc = SL_OK;
          goto stop;
        }
        if (rc)
          goto out;
      }
    } else if (bi.max_timestamp > s->max_ts) {
      s->max_ts = bi.max_timestamp;
      s->offset_of_max_ts = bi.last_offset;
    }
    if (pos == 0) {
      s->rolling_ts = bi.max_timestamp;
      s->rolling_ts_known = true;
    }
    prev_last = bi.last_offset;
    s->next_offset = bi.last_offset + 1;
    s->tail_pos = pos;
    s->tail_base = bi.base_offset;
    s->tail_size = bi.size;
    pos += bi.size;
    continue;
  stop:
    if (diag) {
      *diag = d;
      sl_diag_set_path(diag, s->log_path);
    }
    break;
  }
  s->bytes_since_index = pos - last_index_pos;
out:
  free(buf);
  *end = pos;
  return rc;
}

int sl__segment_recover(sl__segment *s, sl__segment_batch_cb cb, void *ctx,
                        int64_t *truncated, sl_diag *diag) {
  off_t flen;
  int64_t end;
  bool bad;
  *truncated = 0;
  int rc = sl__fio_file_size(s->fd, &flen, s->log_path, diag);
  if (rc)
    return rc;
  rc = sl__index_reset(&s->oindex, diag);
  if (rc == SL_OK)
    rc = sl__index_reset(&s->tindex, diag);
  if (rc == SL_OK)
    rc = sl__txnindex_reset(&s->txn, diag);
  if (rc)
    return rc;
  s->max_ts = SL_NO_TIMESTAMP;
  s->offset_of_max_ts = -1;
  s->next_offset = s->base;
  s->rolling_ts = SL_NO_TIMESTAMP;
  s->rolling_ts_known = true;
  rc = scan_valid(s, 0, flen, true, 0, cb, ctx, &end, &bad, diag);
  if (rc)
    return rc;
  if (end < flen) {
    rc = sl__fio_truncate(s->fd, end, s->log_path, diag);
    if (rc)
      return rc;
    *truncated = flen - end;
  }
  s->size = end;
  if (s->oindex.entries > 0)
    s->bytes_since_index = end - s->oindex.last_val;
  else
    s->bytes_since_index = end;
  rc = sl__index_trim(&s->oindex, diag);
  if (rc == SL_OK)
    rc = sl__index_maybe_append_time(&s->tindex, s->max_ts, s->offset_of_max_ts, true,
                                     diag);
  if (rc == SL_OK)
    rc = sl__index_trim(&s->tindex, diag);
  return rc;
}

int sl__segment_refresh(sl__segment *s, sl_diag *diag) {
  off_t flen;
  int64_t end;
  bool bad;
  int rc = sl__fio_file_size(s->fd, &flen, s->log_path, diag);
  if (rc)
    return rc;
  bool rewritten = false;
  if (s->tail_pos >= 0 && s->tail_pos < s->size && flen >= s->size) {
    sl__batch_info bi;
    int r = sl__segment_batch_at(s, s->tail_pos, flen, &bi, NULL);
    rewritten = r != 1 || bi.base_offset != s->tail_base || bi.size != s->tail_size;
  }
  /* The .txnindex as the writer has it now (sl__txnindex_snapshot checks it). */
  sl__txnindex_refresh(&s->txn);
  if (flen < s->size || s->next_offset < 0 || rewritten) {
    /* Shrunk or rewritten (truncated by the writer) or never scanned: start
     * over, with the writer's current index entries. */
    if (flen < s->size || rewritten) {
      sl__index_refresh(&s->oindex, NULL);
      sl__index_refresh(&s->tindex, NULL);
    }
    s->size = 0;
    s->next_offset = s->base;
    s->max_ts = SL_NO_TIMESTAMP;
    s->offset_of_max_ts = -1;
    s->rolling_ts_known = false;
    s->tail_pos = -1;
  }
  if (flen == s->size)
    return SL_OK;
  rc = scan_valid(s, s->size, flen, false, 0, NULL, NULL, &end, &bad, NULL);
  if (rc)
    return rc;
  s->size = end;
  if (!s->rolling_ts_known && end == 0) {
    s->rolling_ts = SL_NO_TIMESTAMP;
    s->rolling_ts_known = true;
  }
  return SL_OK;
}

int sl__segment_reader_start(sl__segment *s, sl_diag *diag) {
  off_t flen;
  int64_t end;
  bool bad;
  int rc = sl__fio_file_size(s->fd, &flen, s->log_path, diag);
  if (rc)
    return rc;
  int64_t start = 0;
  s->next_offset = s->base;
  if (s->oindex.entries > 0 && s->oindex.last_val < flen) {
    sl__batch_info bi;
    rc = sl__segment_batch_at(s, s->oindex.last_val, flen, &bi, NULL);
    if (rc == 1 && bi.last_offset == s->oindex.last_key) {
      start = s->oindex.last_val;
      /* The batch is rescanned; scan_valid checks offsets against
       * next_offset - 1. */
      s->next_offset = bi.base_offset;
    }
  }
  rc = scan_valid(s, start, flen, false, 0, NULL, NULL, &end, &bad, NULL);
  if (rc)
    return rc;
  s->size = end;
  return SL_OK;
}

int sl__segment_truncate_to(sl__segment *s, int64_t offset, int64_t *removed,
                            sl_diag *diag) {
  int64_t pos;
  sl__batch_info bi;
  *removed = 0;
  int rc = sl__segment_translate_offset(s, offset, 0, &pos, &bi, diag);
  if (rc <= 0)
    return rc;
  rc = sl__index_truncate_to(&s->oindex, offset, diag);
  if (rc == SL_OK)
    rc = sl__index_truncate_to(&s->tindex, offset, diag);
  if (rc == SL_OK)
    rc = sl__txnindex_truncate_to(&s->txn, offset, diag);
  if (rc)
    return rc;
  /* Index entries of the removed batch itself (its last offset may be below
   * `offset` when the cut falls inside it) go too. */
  rc = sl__index_truncate_to(&s->oindex, bi.base_offset, diag);
  if (rc == SL_OK)
    rc = sl__index_truncate_to(&s->tindex, bi.base_offset, diag);
  if (rc)
    return rc;
  rc = sl__fio_truncate(s->fd, pos, s->log_path, diag);
  if (rc)
    return rc;
  *removed = s->size - pos;
  s->size = pos;
  s->max_ts = SL_NO_TIMESTAMP;
  s->offset_of_max_ts = -1;
  if (s->tindex.entries > 0) {
    s->max_ts = s->tindex.last_key;
    s->offset_of_max_ts = s->tindex.last_val;
  }
  s->next_offset = -1;
  if (pos == 0)
    s->rolling_ts_known = false;
  return rescan_tail(s, diag);
}

int sl__segment_on_become_inactive(sl__segment *s, sl_diag *diag) {
  if (!s->writable)
    return SL_OK;
  int rc = SL_OK;
  if (s->max_ts >= 0 && s->offset_of_max_ts >= s->base)
    rc = sl__index_maybe_append_time(&s->tindex, s->max_ts, s->offset_of_max_ts, true,
                                     diag);
  if (rc == SL_OK)
    rc = sl__index_trim(&s->oindex, diag);
  if (rc == SL_OK)
    rc = sl__index_trim(&s->tindex, diag);
  if (rc == SL_OK && s->cfg.preallocate) {
    off_t flen;
    rc = sl__fio_file_size(s->fd, &flen, s->log_path, diag);
    if (rc == SL_OK && flen != s->size)
      rc = sl__fio_truncate(s->fd, s->size, s->log_path, diag);
  }
  return rc;
}

int sl__segment_make_active(sl__segment *s, sl_diag *diag) {
  int rc = sl__index_resize(&s->oindex, s->cfg.max_index_bytes, diag);
  if (rc == SL_OK)
    rc = sl__index_resize(&s->tindex, s->cfg.max_index_bytes, diag);
  return rc;
}

int sl__segment_flush(sl__segment *s, sl_diag *diag) {
  if (!s->writable)
    return SL_OK;
  int rc = sl__fio_fsync(s->fd, s->log_path, diag);
  if (rc == SL_OK)
    rc = sl__index_flush(&s->oindex, diag);
  if (rc == SL_OK)
    rc = sl__index_flush(&s->tindex, diag);
  if (rc == SL_OK)
    rc = sl__txnindex_flush(&s->txn, diag);
  return rc;
}

int sl__segment_flush_fds(sl__segment *s, int *fds, size_t *n, sl_diag *diag) {
  if (!s->writable)
    return SL_OK;
  int rc = SL_OK;
  if (s->oindex.fd >= 0 && s->oindex.writable)
    rc = sl__index_write_pending(&s->oindex, diag);
  if (rc == SL_OK && s->tindex.fd >= 0 && s->tindex.writable)
    rc = sl__index_write_pending(&s->tindex, diag);
  if (rc)
    return rc;
  int src[4] = {s->fd, s->oindex.writable ? s->oindex.fd : -1,
                s->tindex.writable ? s->tindex.fd : -1, s->txn.writable ? s->txn.fd : -1};
  for (int i = 0; i < 4; i++) {
    if (src[i] < 0)
      continue;
    int d = fcntl(src[i], F_DUPFD_CLOEXEC, 0);
    if (d < 0)
      return sl__fio_error(errno, "dup", s->log_path, diag);
    fds[(*n)++] = d;
  }
  return SL_OK;
}

static int rename_suffix(const char *path, char **owned, sl_diag *diag) {
  char to[SL__SEGMENT_NAME_MAX];
  if ((size_t)snprintf(to, sizeof(to), "%s.deleted", path) >= sizeof(to))
    return sl_diag_set(diag, SL_EINVAL, -1, "path too long: %s", path);
  int rc = sl__fio_rename(path, to, diag);
  if (rc)
    return rc;
  if (owned != NULL) {
    char *np = dup_str(to);
    if (np == NULL)
      return sl_diag_set(diag, SL_ENOMEM, -1, "renaming %s", path);
    free(*owned);
    *owned = np;
  }
  return SL_OK;
}

int sl__segment_rename_deleted(sl__segment *s, sl_diag *diag) {
  char to[SL__SEGMENT_NAME_MAX];
  int rc = rename_suffix(s->log_path, &s->log_path, diag);
  if (rc)
    return rc;
  if (sl__index_has_file(&s->oindex)) {
    snprintf(to, sizeof(to), "%s.deleted", s->oindex.path);
    rc = sl__index_rename(&s->oindex, to, diag);
    if (rc)
      return rc;
  }
  if (sl__index_has_file(&s->tindex)) {
    snprintf(to, sizeof(to), "%s.deleted", s->tindex.path);
    rc = sl__index_rename(&s->tindex, to, diag);
    if (rc)
      return rc;
  }
  if (s->txn.fd >= 0) {
    snprintf(to, sizeof(to), "%s.deleted", s->txn.path);
    rc = sl__txnindex_rename(&s->txn, to, diag);
  }
  s->deleted = true;
  return rc;
}

int sl__segment_delete_files(sl__segment *s, sl_diag *diag) {
  int rc = sl__fio_unlink(s->log_path, diag);
  if (rc == SL_OK)
    rc = sl__fio_unlink(s->oindex.path, diag);
  if (rc == SL_OK)
    rc = sl__fio_unlink(s->tindex.path, diag);
  if (rc == SL_OK)
    rc = sl__fio_unlink(s->txn.path, diag);
  s->deleted = true;
  return rc;
}
