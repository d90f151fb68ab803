/*
 * index.c - Kafka's segment indexes: the offset index (.index), the time index
 * (.timeindex) and the aborted-transaction index (.txnindex).  The first part
 * is the pure (pointer, length) codecs of seglog/index.h; the second the files
 * the log keeps open (index_int.h), with pread/pwrite through fileio instead of
 * mmap (the reasons are in index_int.h).  Layouts, preallocation, trimming and
 * the zero-tail rule: docs/FORMAT.md, "Indexes".
 */
#include "index_int.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio_int.h"
#include "seglog/bytes.h"

/* ---------------------------------------------------------------------------
 * Codecs
 * ------------------------------------------------------------------------- */

int sl_offset_index_entry(const uint8_t *p, size_t len, size_t i, int64_t base_offset,
                          sl_offset_position *out) {
  if (i >= len / SL_OFFSET_INDEX_ENTRY_SIZE)
    return SL_ETRUNCATED;
  sl_rbuf r;
  sl_rbuf_init(&r, p + i * SL_OFFSET_INDEX_ENTRY_SIZE, SL_OFFSET_INDEX_ENTRY_SIZE);
  int32_t rel = sl_rbuf_i32(&r);
  int32_t pos = sl_rbuf_i32(&r);
  out->offset = base_offset + rel;
  out->position = pos;
  return sl_rbuf_err(&r);
}

int sl_time_index_entry(const uint8_t *p, size_t len, size_t i, int64_t base_offset,
                        sl_timestamp_offset *out) {
  if (i >= len / SL_TIME_INDEX_ENTRY_SIZE)
    return SL_ETRUNCATED;
  sl_rbuf r;
  sl_rbuf_init(&r, p + i * SL_TIME_INDEX_ENTRY_SIZE, SL_TIME_INDEX_ENTRY_SIZE);
  out->timestamp = sl_rbuf_i64(&r);
  out->offset = base_offset + sl_rbuf_i32(&r);
  return sl_rbuf_err(&r);
}

int sl_txn_index_entry(const uint8_t *p, size_t len, size_t i, sl_aborted_txn *out) {
  if (i >= len / SL_TXN_INDEX_ENTRY_SIZE)
    return SL_ETRUNCATED;
  sl_rbuf r;
  sl_rbuf_init(&r, p + i * SL_TXN_INDEX_ENTRY_SIZE, SL_TXN_INDEX_ENTRY_SIZE);
  out->version = sl_rbuf_i16(&r);
  out->producer_id = sl_rbuf_i64(&r);
  out->first_offset = sl_rbuf_i64(&r);
  out->last_offset = sl_rbuf_i64(&r);
  out->last_stable_offset = sl_rbuf_i64(&r);
  if (sl_rbuf_err(&r))
    return sl_rbuf_err(&r);
  /* Kafka reads only the first byte as the version; 00 00 is version 0. */
  if (out->version < 0 || out->version > 0)
    return SL_EUNSUPPORTED;
  return SL_OK;
}

void sl_offset_index_encode(uint8_t out[SL_OFFSET_INDEX_ENTRY_SIZE], int64_t base_offset,
                            int64_t offset, int32_t position) {
  sl_store_be32(out, (uint32_t)(int32_t)(offset - base_offset));
  sl_store_be32(out + 4, (uint32_t)position);
}

void sl_time_index_encode(uint8_t out[SL_TIME_INDEX_ENTRY_SIZE], int64_t base_offset,
                          int64_t timestamp, int64_t offset) {
  sl_store_be64(out, (uint64_t)timestamp);
  sl_store_be32(out + 8, (uint32_t)(int32_t)(offset - base_offset));
}

void sl_txn_index_encode(uint8_t out[SL_TXN_INDEX_ENTRY_SIZE], const sl_aborted_txn *t) {
  sl_store_be16(out, (uint16_t)t->version);
  sl_store_be64(out + 2, (uint64_t)t->producer_id);
  sl_store_be64(out + 10, (uint64_t)t->first_offset);
  sl_store_be64(out + 18, (uint64_t)t->last_offset);
  sl_store_be64(out + 26, (uint64_t)t->last_stable_offset);
}

size_t sl_offset_index_count(size_t len) {
  return len / SL_OFFSET_INDEX_ENTRY_SIZE;
}

size_t sl_time_index_count(size_t len) {
  return len / SL_TIME_INDEX_ENTRY_SIZE;
}

size_t sl_offset_index_live_count(const uint8_t *p, size_t len) {
  size_t n = len / SL_OFFSET_INDEX_ENTRY_SIZE;
  int64_t prev_rel = -1, prev_pos = -1;
  for (size_t i = 0; i < n; i++) {
    int32_t rel = (int32_t)sl_load_be32(p + i * 8);
    int32_t pos = (int32_t)sl_load_be32(p + i * 8 + 4);
    /* The first batch of a segment (position 0) is never indexed, so an entry
     * at position 0 is a zero slot. */
    if (rel < 0 || pos <= 0 || rel <= prev_rel || pos <= prev_pos)
      return i;
    prev_rel = rel;
    prev_pos = pos;
  }
  return n;
}

size_t sl_time_index_live_count(const uint8_t *p, size_t len) {
  size_t n = len / SL_TIME_INDEX_ENTRY_SIZE;
  int64_t prev_ts = 0;
  int64_t prev_rel = -1;
  for (size_t i = 0; i < n; i++) {
    int64_t ts = (int64_t)sl_load_be64(p + i * 12);
    int32_t rel = (int32_t)sl_load_be32(p + i * 12 + 8);
    if (rel < 0 || rel < prev_rel)
      return i;
    if (i == 0 ? (ts == 0 && rel == 0) : ts <= prev_ts)
      return i;
    prev_ts = ts;
    prev_rel = rel;
  }
  return n;
}

int sl_offset_index_sanity_check(const uint8_t *p, size_t len, int64_t base_offset,
                                 sl_diag *diag) {
  if (len % SL_OFFSET_INDEX_ENTRY_SIZE != 0)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)len,
                       "offset index length %zu is not a multiple of %d", len,
                       SL_OFFSET_INDEX_ENTRY_SIZE);
  size_t n = len / SL_OFFSET_INDEX_ENTRY_SIZE;
  if (n > 0) {
    sl_offset_position e;
    sl_offset_index_entry(p, len, n - 1, base_offset, &e);
    if (e.offset < base_offset)
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)((n - 1) * 8),
                         "last offset %lld is below the base offset %lld",
                         (long long)e.offset, (long long)base_offset);
  }
  return SL_OK;
}

int sl_time_index_sanity_check(const uint8_t *p, size_t len, int64_t base_offset,
                               sl_diag *diag) {
  if (len % SL_TIME_INDEX_ENTRY_SIZE != 0)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)len,
                       "time index length %zu is not a multiple of %d", len,
                       SL_TIME_INDEX_ENTRY_SIZE);
  size_t n = len / SL_TIME_INDEX_ENTRY_SIZE;
  if (n > 0) {
    sl_timestamp_offset first, last;
    sl_time_index_entry(p, len, 0, base_offset, &first);
    sl_time_index_entry(p, len, n - 1, base_offset, &last);
    if (last.timestamp < first.timestamp)
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)((n - 1) * 12),
                         "last timestamp %lld is below the first %lld",
                         (long long)last.timestamp, (long long)first.timestamp);
    if (last.offset < base_offset)
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)((n - 1) * 12 + 8),
                         "last offset %lld is below the base offset %lld",
                         (long long)last.offset, (long long)base_offset);
  }
  return SL_OK;
}

int sl_txn_index_sanity_check(const uint8_t *p, size_t len, int64_t base_offset,
                              sl_diag *diag) {
  size_t n = len / SL_TXN_INDEX_ENTRY_SIZE;
  for (size_t i = 0; i < n; i++) {
    sl_aborted_txn t;
    int rc = sl_txn_index_entry(p, len, i, &t);
    if (rc)
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)(i * SL_TXN_INDEX_ENTRY_SIZE),
                         "aborted transaction entry %zu has version %d", i, t.version);
    if (t.last_offset < base_offset)
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)(i * SL_TXN_INDEX_ENTRY_SIZE + 18),
                         "last offset %lld of aborted transaction %zu is below the "
                         "base offset %lld",
                         (long long)t.last_offset, i, (long long)base_offset);
  }
  if (len % SL_TXN_INDEX_ENTRY_SIZE != 0)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)(n * SL_TXN_INDEX_ENTRY_SIZE),
                       "transaction index has %zu trailing bytes",
                       len % SL_TXN_INDEX_ENTRY_SIZE);
  return SL_OK;
}

/* ---------------------------------------------------------------------------
 * Offset and time index files
 * ------------------------------------------------------------------------- */

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p)
    memcpy(p, s, n);
  return p;
}

static void decode_entry(const sl__index *ix, const uint8_t *p, int64_t *key,
                         int64_t *val) {
  if (ix->kind == SL__INDEX_OFFSET) {
    *key = ix->base + (int32_t)sl_load_be32(p);
    *val = (int32_t)sl_load_be32(p + 4);
  } else {
    *key = (int64_t)sl_load_be64(p);
    *val = ix->base + (int32_t)sl_load_be32(p + 8);
  }
}

/* Opens the descriptor of a lazily opened index. */
static int ensure_fd(sl__index *ix, sl_diag *diag) {
  if (ix->fd >= 0 || !ix->lazy)
    return SL_OK;
  int rc = sl__fio_open(ix->path, ix->writable ? O_RDWR : O_RDONLY, 0644, &ix->fd, diag);
  if (rc == SL_OK)
    ix->lazy = false;
  return rc;
}

int sl__index_entry(sl__index *ix, size_t i, int64_t *key, int64_t *val, sl_diag *diag) {
  uint8_t e[SL_TIME_INDEX_ENTRY_SIZE];
  size_t got;
  if (i < ix->entries && i >= ix->entries - ix->npending) {
    decode_entry(ix, ix->pending + (i - (ix->entries - ix->npending)) * ix->entry_size,
                 key, val);
    return SL_OK;
  }
  int rc = i < ix->entries ? ensure_fd(ix, diag) : SL_OK;
  if (rc)
    return rc;
  if (i >= ix->entries || ix->fd < 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "index entry %zu out of range", i);
  rc = sl__fio_pread_all(ix->fd, e, ix->entry_size, (off_t)(i * ix->entry_size), &got,
                         ix->path, diag);
  if (rc)
    return rc;
  if (got != ix->entry_size) {
    if (diag)
      sl_diag_set_path(diag, ix->path);
    return sl_diag_set(diag, SL_ETRUNCATED, (int64_t)(i * ix->entry_size),
                       "index entry %zu is past the end of the file", i);
  }
  decode_entry(ix, e, key, val);
  return SL_OK;
}

/* Counts the entries of a live index by scanning it in chunks: the same rule
 * as sl_offset_index_live_count / sl_time_index_live_count, carried across
 * chunk boundaries. */
static int count_live(sl__index *ix, sl_diag *diag) {
  enum { CHUNK = 65520 }; /* a multiple of 8 and 12 */
  uint8_t *buf = malloc(CHUNK);
  int rc = SL_OK;
  size_t total = 0;
  int64_t prev_k = 0, prev_v = -1;
  if (buf == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "counting %s", ix->path);
  for (bool done = false; !done;) {
    size_t got;
    rc = sl__fio_pread_all(ix->fd, buf, CHUNK, (off_t)(total * ix->entry_size), &got,
                           ix->path, diag);
    if (rc)
      break;
    size_t n = got / ix->entry_size;
    if (got < CHUNK)
      done = true;
    for (size_t i = 0; i < n; i++) {
      const uint8_t *e = buf + i * ix->entry_size;
      bool ok;
      if (ix->kind == SL__INDEX_OFFSET) {
        int64_t rel = (int32_t)sl_load_be32(e);
        int64_t pos = (int32_t)sl_load_be32(e + 4);
        ok = rel >= 0 && pos > 0 && (total == 0 || (rel > prev_k && pos > prev_v));
        prev_k = rel;
        prev_v = pos;
      } else {
        int64_t ts = (int64_t)sl_load_be64(e);
        int64_t rel = (int32_t)sl_load_be32(e + 8);
        ok = rel >= 0 &&
             (total == 0 ? !(ts == 0 && rel == 0) : (ts > prev_k && rel >= prev_v));
        prev_k = ts;
        prev_v = rel;
      }
      if (!ok) {
        done = true;
        break;
      }
      total++;
    }
  }
  free(buf);
  ix->entries = total;
  return rc;
}

static int load_last(sl__index *ix, sl_diag *diag) {
  if (ix->entries == 0)
    return SL_OK;
  return sl__index_entry(ix, ix->entries - 1, &ix->last_key, &ix->last_val, diag);
}

/*
 * A read-only index belongs to a writer in another process that may shrink,
 * reset or rewrite it at any moment (its recovery truncates and rebuilds the
 * indexes, its close and roll trim them, entries sit in its memory before they
 * are written).  For a reader an index is only a hint: this recounts the
 * entries from the file as it is now (the zero-tail rule, which also stops at
 * a reset or half-rebuilt tail), retrying when the file changes between the
 * count and the read of the last entry.  It never fails: an index that cannot
 * be read counts no entries, and the reader scans its .log from the start.
 */
static void reader_recount(sl__index *ix) {
  if (ix->fd < 0) {
    /* Lazy, or missing when opened: the file as it is now, if any. */
    ix->lazy = false;
    if (sl__fio_open(ix->path, O_RDONLY, 0644, &ix->fd, NULL) != SL_OK) {
      ix->fd = -1;
      ix->entries = 0;
      ix->file_len = 0;
      return;
    }
    ix->missing = false;
  }
  for (int attempt = 0; attempt < 3; attempt++) {
    if (sl__fio_file_size(ix->fd, &ix->file_len, ix->path, NULL) == SL_OK &&
        count_live(ix, NULL) == SL_OK && load_last(ix, NULL) == SL_OK)
      return;
  }
  ix->entries = 0;
}

static size_t max_entries_for(const sl__index *ix, int32_t max_index_bytes) {
  size_t m = max_index_bytes > 0 ? (size_t)max_index_bytes / ix->entry_size : 0;
  return m;
}

int sl__index_open(sl__index *ix, sl__index_kind kind, const char *path, int64_t base,
                   int32_t max_index_bytes, unsigned flags, sl_diag *diag) {
  int rc;
  memset(ix, 0, sizeof(*ix));
  ix->fd = -1;
  ix->kind = kind;
  ix->base = base;
  ix->entry_size =
      kind == SL__INDEX_OFFSET ? SL_OFFSET_INDEX_ENTRY_SIZE : SL_TIME_INDEX_ENTRY_SIZE;
  ix->writable = (flags & SL__IDX_WRITABLE) != 0;
  ix->path = dup_str(path);
  if (ix->path == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "opening %s", path);
  int oflags = ix->writable ? O_RDWR : O_RDONLY;
  if ((flags & SL__IDX_LAZY) && !(flags & (SL__IDX_LIVE | SL__IDX_PREALLOC))) {
    struct stat st;
    if (stat(path, &st) == 0) {
      /* Inactive: every slot is an entry; only the last one is read now. */
      ix->lazy = true;
      ix->file_len = st.st_size;
      ix->entries = (size_t)ix->file_len / ix->entry_size;
      ix->max_entries = max_entries_for(ix, max_index_bytes);
      if (ix->max_entries < ix->entries)
        ix->max_entries = ix->entries;
      rc = load_last(ix, diag);
      if (rc && !ix->writable) {
        /* Shrunk or removed since the stat (a writer at work). */
        if (diag)
          sl_diag_clear(diag);
        reader_recount(ix);
        return SL_OK;
      }
      if (rc)
        goto fail;
      sl__fio_close(ix->fd);
      ix->fd = -1;
      ix->lazy = true;
      return SL_OK;
    }
  }
  rc = sl__fio_open(path, oflags, 0644, &ix->fd, diag);
  if (rc == SL_ENOT_FOUND) {
    ix->missing = true;
    if (!(flags & SL__IDX_CREATE)) {
      if (diag)
        sl_diag_clear(diag);
      ix->max_entries = max_entries_for(ix, max_index_bytes);
      return SL_OK;
    }
    rc = sl__fio_open(path, oflags | O_CREAT, 0644, &ix->fd, diag);
  }
  if (rc)
    goto fail;
  rc = sl__fio_file_size(ix->fd, &ix->file_len, path, diag);
  if (rc)
    goto fail;
  if (flags & SL__IDX_LIVE) {
    rc = count_live(ix, diag);
    if (rc)
      goto fail;
  } else {
    ix->entries = (size_t)ix->file_len / ix->entry_size;
  }
  rc = load_last(ix, diag);
  if (rc && !ix->writable) {
    /* Shrunk since it was counted (a writer at work). */
    if (diag)
      sl_diag_clear(diag);
    reader_recount(ix);
    rc = SL_OK;
  }
  if (rc)
    goto fail;
  ix->max_entries = max_entries_for(ix, max_index_bytes);
  if (ix->max_entries < ix->entries)
    ix->max_entries = ix->entries;
  if (flags & SL__IDX_PREALLOC) {
    rc = sl__index_resize(ix, max_index_bytes, diag);
    if (rc)
      goto fail;
  }
  return SL_OK;
fail:
  sl__index_close(ix);
  return rc;
}

void sl__index_close(sl__index *ix) {
  if (ix == NULL)
    return;
  if (ix->npending > 0)
    (void)sl__index_write_pending(ix, NULL);
  free(ix->pending);
  ix->pending = NULL;
  ix->npending = 0;
  sl__fio_close(ix->fd);
  ix->fd = -1;
  free(ix->path);
  ix->path = NULL;
}

static int index_error(sl__index *ix, int err, int64_t pos, sl_diag *diag) {
  if (diag)
    sl_diag_set_path(diag, ix->path);
  (void)pos;
  return err;
}

int sl__index_write_pending(sl__index *ix, sl_diag *diag) {
  if (ix->npending == 0)
    return SL_OK;
  size_t first = ix->entries - ix->npending;
  off_t at = (off_t)(first * ix->entry_size);
  size_t len = ix->npending * ix->entry_size;
  int rc = sl__fio_pwrite_all(ix->fd, ix->pending, len, at, ix->path, diag);
  if (rc)
    return rc;
  if (at + (off_t)len > ix->file_len)
    ix->file_len = at + (off_t)len;
  ix->npending = 0;
  return SL_OK;
}

/* Adds an entry at the end: into the pending buffer, written out once it is
 * full (the file then holds every entry but this one). */
static int write_entry(sl__index *ix, const uint8_t *e, sl_diag *diag) {
  if (ix->pending == NULL) {
    ix->pending = malloc(SL__INDEX_PENDING_MAX * SL_TIME_INDEX_ENTRY_SIZE);
    if (ix->pending == NULL)
      return sl_diag_set(diag, SL_ENOMEM, -1, "index %s", ix->path);
  }
  if (ix->npending == SL__INDEX_PENDING_MAX) {
    int rc = sl__index_write_pending(ix, diag);
    if (rc)
      return rc;
  }
  memcpy(ix->pending + ix->npending * ix->entry_size, e, ix->entry_size);
  ix->npending++;
  ix->entries++;
  return SL_OK;
}

int sl__index_append_offset(sl__index *ix, int64_t offset, int64_t position,
                            sl_diag *diag) {
  uint8_t e[SL_OFFSET_INDEX_ENTRY_SIZE];
  int efd = ix->writable ? ensure_fd(ix, diag) : SL_OK;
  if (efd)
    return efd;
  if (!ix->writable || ix->fd < 0)
    return sl_diag_set(diag, SL_EREADONLY, -1, "index %s is not writable", ix->path);
  if (ix->entries >= ix->max_entries)
    return index_error(ix,
                       sl_diag_set(diag, SL_ETOO_LARGE, -1,
                                   "offset index is full (%zu entries)", ix->entries),
                       -1, diag);
  if (ix->entries > 0 && offset <= ix->last_key)
    return index_error(ix,
                       sl_diag_set(diag, SL_EINVALID_OFFSET, -1,
                                   "index offset %lld is not above the last entry %lld",
                                   (long long)offset, (long long)ix->last_key),
                       -1, diag);
  if (offset - ix->base < 0 || offset - ix->base > INT32_MAX || position < 0 ||
      position > INT32_MAX)
    return index_error(ix,
                       sl_diag_set(diag, SL_EINVALID_OFFSET, -1,
                                   "offset %lld / position %lld out of the index range "
                                   "of base %lld",
                                   (long long)offset, (long long)position,
                                   (long long)ix->base),
                       -1, diag);
  sl_offset_index_encode(e, ix->base, offset, (int32_t)position);
  int rc = write_entry(ix, e, diag);
  if (rc)
    return rc;
  ix->last_key = offset;
  ix->last_val = position;
  return SL_OK;
}

int sl__index_maybe_append_time(sl__index *ix, int64_t timestamp, int64_t offset,
                                bool skip_full_check, sl_diag *diag) {
  uint8_t e[SL_TIME_INDEX_ENTRY_SIZE];
  int efd = ix->writable ? ensure_fd(ix, diag) : SL_OK;
  if (efd)
    return efd;
  if (!ix->writable || ix->fd < 0)
    return sl_diag_set(diag, SL_EREADONLY, -1, "index %s is not writable", ix->path);
  if (!skip_full_check && sl__index_is_full(ix))
    return index_error(ix,
                       sl_diag_set(diag, SL_ETOO_LARGE, -1,
                                   "time index is full (%zu entries)", ix->entries),
                       -1, diag);
  if (ix->entries > 0 && offset < ix->last_val)
    return index_error(ix,
                       sl_diag_set(diag, SL_EINVALID_OFFSET, -1,
                                   "time index offset %lld is below the last entry %lld",
                                   (long long)offset, (long long)ix->last_val),
                       -1, diag);
  if (ix->entries > 0 && timestamp < ix->last_key)
    return index_error(ix,
                       sl_diag_set(diag, SL_EINVALID_TIMESTAMP, -1,
                                   "time index timestamp %lld is below the last %lld",
                                   (long long)timestamp, (long long)ix->last_key),
                       -1, diag);
  /* Kafka's lastEntry of an empty time index is (-1, base): only a timestamp
   * above the last one (or above -1) is appended. */
  if (timestamp <= (ix->entries > 0 ? ix->last_key : -1))
    return SL_OK;
  if (offset - ix->base < 0 || offset - ix->base > INT32_MAX)
    return index_error(ix,
                       sl_diag_set(diag, SL_EINVALID_OFFSET, -1,
                                   "offset %lld out of the index range of base %lld",
                                   (long long)offset, (long long)ix->base),
                       -1, diag);
  sl_time_index_encode(e, ix->base, timestamp, offset);
  int rc = write_entry(ix, e, diag);
  if (rc)
    return rc;
  ix->last_key = timestamp;
  ix->last_val = offset;
  return SL_OK;
}

/* Largest slot whose key (or, by_value, value) is <= target; -1 if none. */
static int largest_lower_bound(sl__index *ix, int64_t target, bool by_value, long *slot,
                               sl_diag *diag) {
  long lo = 0, hi = (long)ix->entries - 1, found = -1;
  while (lo <= hi) {
    long mid = lo + (hi - lo) / 2;
    int64_t k = 0, v = 0;
    int rc = sl__index_entry(ix, (size_t)mid, &k, &v, diag);
    if (rc)
      return rc;
    int64_t x = by_value ? v : k;
    if (x <= target) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  *slot = found;
  return SL_OK;
}

static int lookup_once(sl__index *ix, int64_t target, int64_t *key, int64_t *val,
                       sl_diag *diag) {
  long slot = -1;
  if (ix->entries > 0) {
    int rc = ensure_fd(ix, diag);
    if (rc)
      return rc;
  }
  if (ix->entries > 0 && ix->fd >= 0) {
    if (target >= ix->last_key) {
      slot = (long)ix->entries - 1;
    } else {
      int rc = largest_lower_bound(ix, target, false, &slot, diag);
      if (rc)
        return rc;
    }
  }
  if (slot < 0) {
    if (ix->kind == SL__INDEX_OFFSET) {
      *key = ix->base;
      *val = 0;
    } else {
      *key = -1;
      *val = ix->base;
    }
    return 0;
  }
  if (slot == (long)ix->entries - 1) {
    *key = ix->last_key;
    *val = ix->last_val;
    return 1;
  }
  int rc = sl__index_entry(ix, (size_t)slot, key, val, diag);
  return rc ? rc : 1;
}

int sl__index_lookup(sl__index *ix, int64_t target, int64_t *key, int64_t *val,
                     sl_diag *diag) {
  if (ix->writable)
    return lookup_once(ix, target, key, val, diag);
  /* A reader: an entry past the end of the file (the writer shrank or reset
   * it since it was counted) or a file that is gone is no error, the count is
   * redone once; if that fails too, the answer is "no entry" (a scan from the
   * segment start).  What the entries say is checked by the caller. */
  int rc = lookup_once(ix, target, key, val, NULL);
  if (rc >= 0)
    return rc;
  reader_recount(ix);
  rc = lookup_once(ix, target, key, val, NULL);
  if (rc >= 0)
    return rc;
  ix->entries = 0;
  return lookup_once(ix, target, key, val, NULL);
}

/* Sets the entry count and zeroes the dropped slots of a preallocated file so
 * that live readers' zero-tail rule holds. */
int sl__index_truncate_entries(sl__index *ix, size_t n, sl_diag *diag) {
  int rc;
  if (n >= ix->entries)
    return SL_OK;
  size_t on_disk = ix->entries - ix->npending;
  if (n >= on_disk) {
    /* Only pending entries go: their slots in the file were never written. */
    ix->npending = n - on_disk;
    ix->entries = n;
    return load_last(ix, diag);
  }
  ix->npending = 0;
  ix->entries = on_disk;
  if (ix->writable && (rc = ensure_fd(ix, diag)) != SL_OK)
    return rc;
  if (ix->fd >= 0 && ix->writable) {
    off_t keep = (off_t)(n * ix->entry_size);
    off_t len = ix->file_len;
    rc = sl__fio_truncate(ix->fd, keep, ix->path, diag);
    if (rc)
      return rc;
    if (ix->preallocated && len > keep) {
      /* Preallocated: re-extend, the dropped slots read back as zeros. */
      rc = sl__fio_truncate(ix->fd, len, ix->path, diag);
      if (rc)
        return rc;
    } else {
      ix->file_len = keep;
    }
  }
  ix->entries = n;
  return load_last(ix, diag);
}

int sl__index_truncate_to(sl__index *ix, int64_t offset, sl_diag *diag) {
  long slot;
  if (ix->entries == 0)
    return SL_OK;
  int rc = largest_lower_bound(ix, offset, ix->kind == SL__INDEX_TIME, &slot, diag);
  if (rc)
    return rc;
  size_t n;
  if (slot < 0) {
    n = 0;
  } else {
    int64_t k, v;
    rc = sl__index_entry(ix, (size_t)slot, &k, &v, diag);
    if (rc)
      return rc;
    int64_t off = ix->kind == SL__INDEX_OFFSET ? k : v;
    n = off == offset ? (size_t)slot : (size_t)slot + 1;
    /* Time index offsets may repeat: drop every entry at this offset. */
    while (ix->kind == SL__INDEX_TIME && n > 0) {
      rc = sl__index_entry(ix, n - 1, &k, &v, diag);
      if (rc)
        return rc;
      if (v < offset)
        break;
      n--;
    }
  }
  return sl__index_truncate_entries(ix, n, diag);
}

int sl__index_reset(sl__index *ix, sl_diag *diag) {
  return sl__index_truncate_entries(ix, 0, diag);
}

int sl__index_trim(sl__index *ix, sl_diag *diag) {
  int prc = sl__index_write_pending(ix, diag);
  if (prc)
    return prc;
  off_t want = (off_t)(ix->entries * ix->entry_size);
  if (ix->file_len == want) {
    ix->preallocated = false;
    return SL_OK;
  }
  int efd = ix->writable ? ensure_fd(ix, diag) : SL_OK;
  if (efd)
    return efd;
  if (ix->fd < 0 || !ix->writable)
    return SL_OK;
  int rc = sl__fio_truncate(ix->fd, want, ix->path, diag);
  if (rc == SL_OK) {
    ix->file_len = want;
    ix->max_entries = ix->entries;
    ix->preallocated = false;
  }
  return rc;
}

int sl__index_resize(sl__index *ix, int32_t max_index_bytes, sl_diag *diag) {
  size_t m = max_entries_for(ix, max_index_bytes);
  if (m < ix->entries)
    m = ix->entries;
  off_t want = (off_t)(m * ix->entry_size);
  int efd = sl__index_write_pending(ix, diag);
  if (efd)
    return efd;
  efd = ix->writable ? ensure_fd(ix, diag) : SL_OK;
  if (efd)
    return efd;
  if (ix->fd < 0 || !ix->writable)
    return SL_OK;
  if (want != ix->file_len) {
    int rc = sl__fio_truncate(ix->fd, want, ix->path, diag);
    if (rc)
      return rc;
    ix->file_len = want;
  }
  ix->max_entries = m;
  ix->preallocated = true;
  return SL_OK;
}

bool sl__index_is_full(const sl__index *ix) {
  if (ix->kind == SL__INDEX_TIME)
    return ix->entries + 1 >= ix->max_entries;
  return ix->entries >= ix->max_entries;
}

int sl__index_flush(sl__index *ix, sl_diag *diag) {
  if (ix->fd < 0 || !ix->writable)
    return SL_OK;
  int rc = sl__index_write_pending(ix, diag);
  if (rc)
    return rc;
  return sl__fio_fsync(ix->fd, ix->path, diag);
}

int sl__index_rename(sl__index *ix, const char *new_path, sl_diag *diag) {
  char *np = dup_str(new_path);
  if (np == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "renaming %s", ix->path);
  if (sl__index_has_file(ix)) {
    int rc = sl__fio_rename(ix->path, new_path, diag);
    if (rc) {
      free(np);
      return rc;
    }
  }
  free(ix->path);
  ix->path = np;
  return SL_OK;
}

int sl__index_refresh(sl__index *ix, sl_diag *diag) {
  if (ix->writable)
    return sl_diag_set(diag, SL_EINVAL, -1, "index %s is writable", ix->path);
  reader_recount(ix);
  return SL_OK;
}

/* ---------------------------------------------------------------------------
 * .txnindex
 * ------------------------------------------------------------------------- */

int sl__txnindex_open(sl__txnindex *tx, const char *path, int64_t base, bool writable,
                      sl_diag *diag) {
  memset(tx, 0, sizeof(*tx));
  tx->fd = -1;
  tx->base = base;
  tx->writable = writable;
  tx->last_offset = -1;
  tx->path = dup_str(path);
  if (tx->path == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "opening %s", path);
  int rc = sl__fio_open(path, writable ? O_RDWR : O_RDONLY, 0644, &tx->fd, diag);
  if (rc == SL_ENOT_FOUND) {
    if (diag)
      sl_diag_clear(diag);
    return SL_OK;
  }
  if (rc)
    goto fail;
  off_t len;
  rc = sl__fio_file_size(tx->fd, &len, path, diag);
  if (rc)
    goto fail;
  tx->entries = (size_t)len / SL_TXN_INDEX_ENTRY_SIZE;
  if (tx->entries > 0) {
    sl_aborted_txn t;
    rc = sl__txnindex_entry(tx, tx->entries - 1, &t, diag);
    if (rc == SL_EUNSUPPORTED)
      rc = SL_OK; /* the sanity check reports it */
    if (rc)
      goto fail;
    tx->last_offset = t.last_offset;
  }
  return SL_OK;
fail:
  sl__txnindex_close(tx);
  return rc;
}

void sl__txnindex_close(sl__txnindex *tx) {
  if (tx == NULL)
    return;
  sl__fio_close(tx->fd);
  tx->fd = -1;
  free(tx->path);
  tx->path = NULL;
  free(tx->seen);
  tx->seen = NULL;
  tx->nseen = 0;
}

int sl__txnindex_entry(sl__txnindex *tx, size_t i, sl_aborted_txn *t, sl_diag *diag) {
  uint8_t e[SL_TXN_INDEX_ENTRY_SIZE];
  size_t got;
  if (i >= tx->entries || tx->fd < 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "txn index entry %zu out of range", i);
  int rc = sl__fio_pread_all(tx->fd, e, sizeof(e), (off_t)(i * sizeof(e)), &got, tx->path,
                             diag);
  if (rc)
    return rc;
  if (got != sizeof(e))
    return sl_diag_set(diag, SL_ETRUNCATED, (int64_t)(i * sizeof(e)),
                       "txn index entry %zu is past the end of the file", i);
  rc = sl_txn_index_entry(e, sizeof(e), 0, t);
  if (rc)
    return sl_diag_set(diag, rc, (int64_t)(i * sizeof(e)),
                       "txn index entry %zu has version %d", i, t->version);
  return SL_OK;
}

int sl__txnindex_append(sl__txnindex *tx, const sl_aborted_txn *t, sl_diag *diag) {
  uint8_t e[SL_TXN_INDEX_ENTRY_SIZE];
  int rc;
  if (!tx->writable)
    return sl_diag_set(diag, SL_EREADONLY, -1, "txn index %s is not writable", tx->path);
  if (tx->entries > 0 && t->last_offset <= tx->last_offset)
    return sl_diag_set(diag, SL_EINVALID_OFFSET, -1,
                       "aborted txn last offset %lld is not above %lld",
                       (long long)t->last_offset, (long long)tx->last_offset);
  if (tx->fd < 0) {
    rc = sl__fio_open(tx->path, O_RDWR | O_CREAT, 0644, &tx->fd, diag);
    if (rc)
      return rc;
  }
  sl_txn_index_encode(e, t);
  rc = sl__fio_pwrite_all(tx->fd, e, sizeof(e), (off_t)(tx->entries * sizeof(e)),
                          tx->path, diag);
  if (rc)
    return rc;
  tx->entries++;
  tx->last_offset = t->last_offset;
  return SL_OK;
}

int sl__txnindex_truncate_to(sl__txnindex *tx, int64_t offset, sl_diag *diag) {
  size_t n = tx->entries;
  while (n > 0) {
    sl_aborted_txn t;
    int rc = sl__txnindex_entry(tx, n - 1, &t, diag);
    if (rc)
      return rc;
    if (t.last_offset < offset)
      break;
    n--;
  }
  if (n == tx->entries)
    return SL_OK;
  int rc = sl__fio_truncate(tx->fd, (off_t)(n * SL_TXN_INDEX_ENTRY_SIZE), tx->path, diag);
  if (rc)
    return rc;
  tx->entries = n;
  tx->last_offset = -1;
  if (n > 0) {
    sl_aborted_txn t;
    rc = sl__txnindex_entry(tx, n - 1, &t, diag);
    if (rc)
      return rc;
    tx->last_offset = t.last_offset;
  }
  return SL_OK;
}

int sl__txnindex_reset(sl__txnindex *tx, sl_diag *diag) {
  if (tx->fd >= 0 && tx->writable) {
    int rc = sl__fio_truncate(tx->fd, 0, tx->path, diag);
    if (rc)
      return rc;
  }
  tx->entries = 0;
  tx->last_offset = -1;
  return SL_OK;
}

int sl__txnindex_flush(sl__txnindex *tx, sl_diag *diag) {
  if (tx->fd < 0 || !tx->writable)
    return SL_OK;
  return sl__fio_fsync(tx->fd, tx->path, diag);
}

int sl__txnindex_rename(sl__txnindex *tx, const char *new_path, sl_diag *diag) {
  char *np = dup_str(new_path);
  if (np == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "renaming %s", tx->path);
  if (tx->fd >= 0) {
    int rc = sl__fio_rename(tx->path, new_path, diag);
    if (rc) {
      free(np);
      return rc;
    }
  }
  free(tx->path);
  tx->path = np;
  return SL_OK;
}

int sl__txnindex_sanity_check(sl__txnindex *tx, sl_diag *diag) {
  if (tx->fd < 0)
    return SL_OK;
  off_t len;
  int rc = sl__fio_file_size(tx->fd, &len, tx->path, diag);
  if (rc)
    return rc;
  if (len % SL_TXN_INDEX_ENTRY_SIZE != 0)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)len,
                       "transaction index length %lld is not a multiple of %d",
                       (long long)len, SL_TXN_INDEX_ENTRY_SIZE);
  for (size_t i = 0; i < tx->entries; i++) {
    sl_aborted_txn t;
    rc = sl__txnindex_entry(tx, i, &t, diag);
    if (rc)
      return rc == SL_EUNSUPPORTED ? SL_ECORRUPT : rc;
    if (t.last_offset < tx->base)
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)(i * SL_TXN_INDEX_ENTRY_SIZE),
                         "aborted txn last offset %lld is below the base offset %lld",
                         (long long)t.last_offset, (long long)tx->base);
  }
  return SL_OK;
}

/*
 * Read-only .txnindex: the writer (another process) resets and rebuilds it on
 * an open with recovery, truncates it with the log and appends to it on an
 * abort marker.  Unlike the offset and time indexes it is not a hint: a
 * missing entry makes a READ_COMMITTED consumer see aborted records, so a
 * reader either gets a consistent snapshot or SL_EINTERRUPTED.
 */
static void reader_reopen(sl__txnindex *tx) {
  struct stat pst, fst;
  if (stat(tx->path, &pst) != 0) {
    /* Removed (a rebuild or a deleted segment): no file, no entries. */
    sl__fio_close(tx->fd);
    tx->fd = -1;
    return;
  }
  if (tx->fd >= 0 && fstat(tx->fd, &fst) == 0 && fst.st_ino == pst.st_ino &&
      fst.st_dev == pst.st_dev)
    return;
  sl__fio_close(tx->fd);
  tx->fd = -1;
  if (sl__fio_open(tx->path, O_RDONLY, 0644, &tx->fd, NULL) != SL_OK)
    tx->fd = -1;
}

void sl__txnindex_refresh(sl__txnindex *tx) {
  off_t len;
  if (tx->writable)
    return;
  reader_reopen(tx);
  tx->entries = 0;
  tx->last_offset = -1;
  if (tx->fd < 0 || sl__fio_file_size(tx->fd, &len, tx->path, NULL) != SL_OK)
    return;
  tx->entries = (size_t)len / SL_TXN_INDEX_ENTRY_SIZE;
  if (tx->entries > 0) {
    sl_aborted_txn t;
    if (sl__txnindex_entry(tx, tx->entries - 1, &t, NULL) == SL_OK)
      tx->last_offset = t.last_offset;
    else
      tx->entries = 0; /* changed under the count: the next snapshot rereads */
  }
}

/* Largest .txnindex a reader loads (about 7.9 million entries). */
#define TXN_SNAPSHOT_MAX ((off_t)256 << 20)

/* One attempt: SL_OK with a consistent snapshot, 1 when the file looks
 * inconsistent (why in *why), or a negative error that a retry cannot fix. */
static int snapshot_once(sl__txnindex *tx, int64_t view_end, sl_aborted_txn **out,
                         size_t *n, char *why, size_t why_len, sl_diag *diag) {
  off_t len = 0, len2 = 0;
  size_t got = 0, cnt;
  uint8_t *raw = NULL;
  sl_aborted_txn *v = NULL;
  int rc = 1;
  reader_reopen(tx);
  if (tx->fd >= 0) {
    if (sl__fio_file_size(tx->fd, &len, tx->path, NULL) != SL_OK) {
      snprintf(why, why_len, "its size cannot be read");
      goto out;
    }
  }
  if (len > TXN_SNAPSHOT_MAX) {
    rc = sl_diag_set(diag, SL_ETOO_LARGE, (int64_t)len, "txn index of %lld bytes",
                     (long long)len);
    goto out;
  }
  if (len % SL_TXN_INDEX_ENTRY_SIZE != 0) {
    snprintf(why, why_len, "its length %lld is not a multiple of %d", (long long)len,
             SL_TXN_INDEX_ENTRY_SIZE);
    goto out;
  }
  cnt = (size_t)len / SL_TXN_INDEX_ENTRY_SIZE;
  if (cnt > 0) {
    raw = malloc((size_t)len);
    v = malloc(cnt * sizeof(*v));
    if (raw == NULL || v == NULL) {
      rc = sl_diag_set(diag, SL_ENOMEM, -1, "reading %s", tx->path);
      goto out;
    }
    if (sl__fio_pread_all(tx->fd, raw, (size_t)len, 0, &got, tx->path, NULL) != SL_OK ||
        got != (size_t)len || sl__fio_file_size(tx->fd, &len2, tx->path, NULL) != SL_OK ||
        len2 != len) {
      snprintf(why, why_len, "it changed while it was read");
      goto out;
    }
    for (size_t i = 0; i < cnt; i++) {
      if (sl_txn_index_entry(raw, (size_t)len, i, &v[i]) != SL_OK ||
          v[i].last_offset < tx->base || v[i].first_offset > v[i].last_offset ||
          (i > 0 && v[i].last_offset <= v[i - 1].last_offset)) {
        snprintf(why, why_len, "entry %zu is not valid", i);
        goto out;
      }
    }
  }
  /* Entries of the last snapshot for data this reader still sees must stay. */
  size_t need = 0;
  while (need < tx->nseen && tx->seen[need] < view_end)
    need++;
  if (need > cnt || (need > 0 && v[need - 1].last_offset != tx->seen[need - 1])) {
    snprintf(why, why_len, "it lacks entries for visible data (being rebuilt)");
    goto out;
  }
  int64_t *seen = NULL;
  if (cnt > 0) {
    seen = malloc(cnt * sizeof(*seen));
    if (seen == NULL) {
      rc = sl_diag_set(diag, SL_ENOMEM, -1, "reading %s", tx->path);
      goto out;
    }
    for (size_t i = 0; i < cnt; i++)
      seen[i] = v[i].last_offset;
  }
  free(tx->seen);
  tx->seen = seen;
  tx->nseen = cnt;
  tx->entries = cnt;
  tx->last_offset = cnt > 0 ? v[cnt - 1].last_offset : -1;
  *out = v;
  *n = cnt;
  v = NULL;
  rc = SL_OK;
out:
  free(raw);
  free(v);
  return rc;
}

int sl__txnindex_snapshot(sl__txnindex *tx, int64_t view_end, sl_aborted_txn **out,
                          size_t *n, sl_diag *diag) {
  char why[96] = "";
  int rc = SL_OK;
  *out = NULL;
  *n = 0;
  if (tx->writable) {
    if (tx->entries == 0)
      return SL_OK;
    sl_aborted_txn *v = malloc(tx->entries * sizeof(*v));
    if (v == NULL)
      return sl_diag_set(diag, SL_ENOMEM, -1, "reading %s", tx->path);
    for (size_t i = 0; i < tx->entries && rc == SL_OK; i++)
      rc = sl__txnindex_entry(tx, i, &v[i], diag);
    if (rc) {
      free(v);
      return rc;
    }
    *out = v;
    *n = tx->entries;
    return SL_OK;
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    rc = snapshot_once(tx, view_end, out, n, why, sizeof(why), diag);
    if (rc <= 0)
      return rc;
    sl__txnindex_refresh(tx); /* recount, then read once more */
  }
  rc = sl_diag_set(diag, SL_EINTERRUPTED, -1, "txn index is changing: %s", why);
  sl_diag_set_path(diag, tx->path);
  return rc;
}
