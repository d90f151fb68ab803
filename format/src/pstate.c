/*
 * pstate.c - producer state of one partition: the ProducerSnapshot v1 file
 * codec (`<offset>.snapshot`) and the state machine of Kafka's
 * ProducerStateManager, ProducerStateEntry and ProducerAppendInfo: epochs and
 * the last 5 batches per producer for duplicate detection, sequence checks,
 * open transactions, completed transactions with their last stable offset
 * (the .txnindex entries), expiry, and the snapshot/truncate hooks of the log.
 * Format and rules: seglog/pstate.h and docs/FORMAT.md ("Producer state
 * snapshots", "Producer state").
 *
 * Data structures: producers live in an open-addressing hash table keyed by
 * producer id (linear probing, backward-shift deletion).  Open transactions
 * and completed-but-unreplicated ones are arrays sorted by first offset (new
 * transactions almost always start at the end).  One append at a time is
 * staged: a copy of each touched producer is checked and modified, and commit
 * folds the copies in, so a rejected batch changes nothing.
 */
#include "seglog/pstate.h"

#include "segment_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio_int.h"
#include "seglog/crc.h"

#define SNAPSHOT_MAX_FILE (64u << 20)

/* ---- the .snapshot codec ---- */

int sl_pstate_snapshot_decode(const void *p, size_t len, size_t max_entries,
                              sl_pstate_snapshot_entry **entries, size_t *count,
                              sl_diag *diag) {
  sl_rbuf r;
  sl_pstate_snapshot_entry *e = NULL;
  *entries = NULL;
  *count = 0;
  if (p == NULL && len > 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "bad arguments");
  if (len < SL_PSTATE_SNAPSHOT_HEADER)
    return sl_diag_set(diag, SL_ETRUNCATED, (int64_t)len,
                       "snapshot is %zu bytes, shorter than its 10-byte header", len);
  sl_rbuf_init(&r, p, len);
  int16_t version = sl_rbuf_i16(&r);
  uint32_t stored = sl_rbuf_u32(&r);
  int32_t n = sl_rbuf_i32(&r);
  if (version != SL_PSTATE_SNAPSHOT_VERSION)
    return sl_diag_set(diag, SL_EUNSUPPORTED, 0,
                       "snapshot contained an unknown file version %d", (int)version);
  if (n < 0)
    return sl_diag_set(diag, SL_ECORRUPT, 6, "negative producer entry count %" PRId32, n);
  if (max_entries > 0 && (size_t)n > max_entries)
    return sl_diag_set(diag, SL_ETOO_LARGE, 6,
                       "snapshot has %" PRId32 " producers, the limit is %zu", n,
                       max_entries);
  size_t body = len - SL_PSTATE_SNAPSHOT_HEADER;
  if ((uint64_t)n * SL_PSTATE_SNAPSHOT_ENTRY > body)
    return sl_diag_set(diag, SL_ETRUNCATED, (int64_t)len,
                       "snapshot announces %" PRId32 " entries (%" PRIu64
                       " bytes) but only %zu bytes follow the header",
                       n, (uint64_t)n * SL_PSTATE_SNAPSHOT_ENTRY, body);
  if ((uint64_t)n * SL_PSTATE_SNAPSHOT_ENTRY < body)
    return sl_diag_set(
        diag, SL_ECORRUPT,
        (int64_t)(SL_PSTATE_SNAPSHOT_HEADER + (size_t)n * SL_PSTATE_SNAPSHOT_ENTRY),
        "%zu trailing bytes after %" PRId32 " entries",
        body - (size_t)n * SL_PSTATE_SNAPSHOT_ENTRY, n);
  uint32_t computed = sl_crc32c(0, (const uint8_t *)p + 6, len - 6);
  if (computed != stored)
    return sl_diag_set(diag, SL_ECRC, 2,
                       "snapshot is corrupt: stored crc 0x%08" PRIx32
                       ", computed crc 0x%08" PRIx32,
                       stored, computed);
  if (n > 0) {
    e = calloc((size_t)n, sizeof(*e));
    if (e == NULL)
      return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
  }
  for (int32_t i = 0; i < n; i++) {
    e[i].producer_id = sl_rbuf_i64(&r);
    e[i].epoch = sl_rbuf_i16(&r);
    e[i].last_sequence = sl_rbuf_i32(&r);
    e[i].last_offset = sl_rbuf_i64(&r);
    e[i].offset_delta = sl_rbuf_i32(&r);
    e[i].timestamp = sl_rbuf_i64(&r);
    e[i].coordinator_epoch = sl_rbuf_i32(&r);
    e[i].current_txn_first_offset = sl_rbuf_i64(&r);
  }
  if (sl_rbuf_err(&r)) { /* cannot happen after the size checks */
    free(e);
    return sl_diag_set(diag, SL_ETRUNCATED, (int64_t)r.pos, "snapshot is truncated");
  }
  *entries = e;
  *count = (size_t)n;
  return SL_OK;
}

int sl_pstate_snapshot_encode(const sl_pstate_snapshot_entry *e, size_t n, sl_buf *out) {
  if (n > INT32_MAX)
    return SL_EINVAL;
  size_t start = out->len;
  sl_buf_i16(out, SL_PSTATE_SNAPSHOT_VERSION);
  sl_buf_i32(out, 0); /* crc, patched below */
  sl_buf_i32(out, (int32_t)n);
  for (size_t i = 0; i < n; i++) {
    sl_buf_i64(out, e[i].producer_id);
    sl_buf_i16(out, e[i].epoch);
    sl_buf_i32(out, e[i].last_sequence);
    sl_buf_i64(out, e[i].last_offset);
    sl_buf_i32(out, e[i].offset_delta);
    sl_buf_i64(out, e[i].timestamp);
    sl_buf_i32(out, e[i].coordinator_epoch);
    sl_buf_i64(out, e[i].current_txn_first_offset);
  }
  if (out->err) {
    out->len = start;
    return SL_ENOMEM;
  }
  uint32_t crc = sl_crc32c(0, out->data + start + 6, out->len - start - 6);
  sl_buf_patch_be32(out, start + 2, crc);
  return SL_OK;
}

int sl_pstate_snapshot_path(const char *dir, int64_t offset, char *out, size_t cap) {
  if (dir == NULL || offset < 0)
    return SL_EINVAL;
  return sl__segment_file_name(out, cap, dir, offset, SL_PSTATE_SNAPSHOT_SUFFIX);
}

int sl_pstate_snapshot_write(const char *dir, int64_t offset,
                             const sl_pstate_snapshot_entry *e, size_t n, bool do_fsync,
                             sl_diag *diag) {
  char path[PATH_MAX];
  sl_buf b = SL_BUF_INIT;
  int fd = -1;
  int rc = sl_pstate_snapshot_path(dir, offset, path, sizeof(path));
  if (rc) {
    rc = sl_diag_set(diag, rc, -1, "bad snapshot path or offset %" PRId64, offset);
    goto out;
  }
  if ((rc = sl_pstate_snapshot_encode(e, n, &b)) != SL_OK) {
    rc = sl_diag_set(diag, rc, -1, "encoding snapshot");
    goto out;
  }
  rc = sl__fio_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644, &fd, diag);
  if (rc)
    goto out;
  rc = sl__fio_write_all(fd, b.data, b.len, path, diag);
  if (rc == SL_OK && do_fsync)
    rc = sl__fio_fsync(fd, path, diag);
  if (rc)
    (void)sl__fio_unlink(path, NULL); /* no partial snapshot left behind */
out:
  sl__fio_close(fd);
  sl_buf_release(&b);
  return rc;
}

int sl_pstate_snapshot_read(const char *path, sl_pstate_snapshot_entry **entries,
                            size_t *count, sl_diag *diag) {
  sl_buf b = SL_BUF_INIT;
  *entries = NULL;
  *count = 0;
  int rc = sl__fio_read_file(path, SNAPSHOT_MAX_FILE, &b, diag);
  if (rc == SL_OK) {
    rc = sl_pstate_snapshot_decode(b.data, b.len, 0, entries, count, diag);
    if (rc && diag)
      sl_diag_set_path(diag, path);
  }
  sl_buf_release(&b);
  return rc;
}

/* Offset from "<20 digits>.snapshot"; false for any other name. */
static bool snapshot_name_offset(const char *name, int64_t *off) {
  const char *suffix;
  /* Kafka always writes 20 digits; stricter than segment names on purpose. */
  return sl__parse_segment_name(name, off, &suffix) && suffix - name == 20 &&
         strcmp(suffix, SL_PSTATE_SNAPSHOT_SUFFIX) == 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : (x > y ? 1 : 0);
}

int sl_pstate_snapshot_list(const char *dir, int64_t **offsets, size_t *count,
                            sl_diag *diag) {
  int64_t *v = NULL;
  size_t n = 0, cap = 0;
  *offsets = NULL;
  *count = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return sl__fio_error(errno, "opendir", dir, diag);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int64_t off;
    if (!snapshot_name_offset(de->d_name, &off))
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      int64_t *nv = realloc(v, ncap * sizeof(*nv));
      if (nv == NULL) {
        free(v);
        closedir(d);
        return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
      }
      v = nv;
      cap = ncap;
    }
    v[n++] = off;
  }
  closedir(d);
  if (n > 1)
    qsort(v, n, sizeof(*v), cmp_i64);
  *offsets = v;
  *count = n;
  return SL_OK;
}

int sl_pstate_snapshot_delete(const char *dir, int64_t offset, sl_diag *diag) {
  char path[PATH_MAX];
  if (sl_pstate_snapshot_path(dir, offset, path, sizeof(path)))
    return sl_diag_set(diag, SL_EINVAL, -1, "bad snapshot path or offset %" PRId64,
                       offset);
  return sl__fio_unlink(path, diag);
}

/* ---- the state machine ---- */

typedef struct batch_meta {
  int32_t last_seq;
  int64_t last_offset;
  int32_t offset_delta;
  int64_t timestamp;
} batch_meta;

/* ProducerStateEntry */
typedef struct pentry {
  int64_t pid; /* -1: empty slot */
  int16_t epoch;
  int32_t coordinator_epoch;
  int64_t last_timestamp;
  int64_t txn_first; /* -1: none */
  int nb;
  batch_meta b[SL_PSTATE_BATCHES_TO_RETAIN]; /* oldest first */
} pentry;

typedef struct txn {
  int64_t pid;
  int64_t first;
  int64_t last; /* -1 while open */
} txn;

typedef struct txn_list {
  txn *v;
  size_t n, cap;
} txn_list;

/* One producer touched by the staged append (ProducerAppendInfo). */
typedef struct staged {
  pentry cur; /* committed entry (epoch -1, no batches if unknown) */
  bool known; /* cur exists in the table */
  pentry upd; /* updated entry: starts with the committed fields, no batches */
} staged;

struct sl_pstate {
  char *dir;
  int64_t expiration_ms;
  size_t max_producers;
  int64_t map_end;
  /* producers */
  pentry *slots;
  size_t nslots; /* power of two or 0 */
  size_t nprod;
  txn_list ongoing;      /* sorted by first */
  txn_list unreplicated; /* sorted by first */
  /* staging */
  sl_append_origin origin;
  staged *st;
  size_t nst, capst;
  txn_list started;    /* transactions begun by the staged append */
  sl_pstate_txn *done; /* completed by the staged append, in order */
  size_t ndone, capdone;
  int64_t st_last_offset; /* largest last offset staged, for apply() */
};

static inline size_t hash_pid(int64_t pid, size_t mask) {
  uint64_t x = (uint64_t)pid;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (size_t)x & mask;
}

static pentry *table_find(const sl_pstate *ps, int64_t pid) {
  if (ps->nslots == 0)
    return NULL;
  size_t mask = ps->nslots - 1;
  for (size_t i = hash_pid(pid, mask);; i = (i + 1) & mask) {
    if (ps->slots[i].pid == pid)
      return &ps->slots[i];
    if (ps->slots[i].pid < 0)
      return NULL;
  }
}

/* Grows so that `more` new producers fit at load <= 1/2. */
static int table_reserve(sl_pstate *ps, size_t more) {
  size_t need = (ps->nprod + more) * 2;
  if (need <= ps->nslots)
    return SL_OK;
  size_t ns = ps->nslots ? ps->nslots : 16;
  while (ns < need)
    ns *= 2;
  pentry *nslots = malloc(ns * sizeof(*nslots));
  if (nslots == NULL)
    return SL_ENOMEM;
  for (size_t i = 0; i < ns; i++)
    nslots[i].pid = -1;
  size_t mask = ns - 1;
  for (size_t i = 0; i < ps->nslots; i++) {
    if (ps->slots[i].pid < 0)
      continue;
    size_t j = hash_pid(ps->slots[i].pid, mask);
    while (nslots[j].pid >= 0)
      j = (j + 1) & mask;
    nslots[j] = ps->slots[i];
  }
  free(ps->slots);
  ps->slots = nslots;
  ps->nslots = ns;
  return SL_OK;
}

/* Inserts (capacity reserved beforehand); returns the slot. */
static pentry *table_insert(sl_pstate *ps, const pentry *e) {
  size_t mask = ps->nslots - 1;
  size_t i = hash_pid(e->pid, mask);
  while (ps->slots[i].pid >= 0 && ps->slots[i].pid != e->pid)
    i = (i + 1) & mask;
  if (ps->slots[i].pid < 0)
    ps->nprod++;
  ps->slots[i] = *e;
  return &ps->slots[i];
}

static void table_remove(sl_pstate *ps, pentry *slot) {
  size_t mask = ps->nslots - 1;
  size_t i = (size_t)(slot - ps->slots);
  ps->slots[i].pid = -1;
  ps->nprod--;
  /* backward-shift deletion keeps probe chains intact */
  for (size_t j = (i + 1) & mask; ps->slots[j].pid >= 0; j = (j + 1) & mask) {
    size_t h = hash_pid(ps->slots[j].pid, mask);
    /* move j to i if its home h is not cyclically in (i, j] */
    bool in_range = (i <= j) ? (h > i && h <= j) : (h > i || h <= j);
    if (!in_range) {
      ps->slots[i] = ps->slots[j];
      ps->slots[j].pid = -1;
      i = j;
    }
  }
}

static void table_clear(sl_pstate *ps) {
  for (size_t i = 0; i < ps->nslots; i++)
    ps->slots[i].pid = -1;
  ps->nprod = 0;
}

static int txn_reserve(txn_list *l, size_t more) {
  if (l->n + more <= l->cap)
    return SL_OK;
  size_t nc = l->cap ? l->cap : 8;
  while (nc < l->n + more)
    nc *= 2;
  txn *nv = realloc(l->v, nc * sizeof(*nv));
  if (nv == NULL)
    return SL_ENOMEM;
  l->v = nv;
  l->cap = nc;
  return SL_OK;
}

/* Index of the first element with first >= key. */
static size_t txn_lower(const txn_list *l, int64_t key) {
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (l->v[mid].first < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Inserts or replaces by first offset (a TreeMap put); capacity reserved. */
static void txn_put(txn_list *l, txn t) {
  size_t i = txn_lower(l, t.first);
  if (i < l->n && l->v[i].first == t.first) {
    l->v[i] = t;
    return;
  }
  memmove(l->v + i + 1, l->v + i, (l->n - i) * sizeof(*l->v));
  l->v[i] = t;
  l->n++;
}

static bool txn_remove(txn_list *l, int64_t first, txn *out) {
  size_t i = txn_lower(l, first);
  if (i >= l->n || l->v[i].first != first)
    return false;
  if (out)
    *out = l->v[i];
  memmove(l->v + i, l->v + i + 1, (l->n - i - 1) * sizeof(*l->v));
  l->n--;
  return true;
}

static void pentry_empty(pentry *e, int64_t pid) {
  memset(e, 0, sizeof(*e));
  e->pid = pid;
  e->epoch = SL_NO_PRODUCER_EPOCH;
  e->coordinator_epoch = -1;
  e->last_timestamp = SL_NO_TIMESTAMP;
  e->txn_first = -1;
  e->nb = 0;
}

static void add_batch_meta(pentry *e, const batch_meta *m) {
  if (e->nb == SL_PSTATE_BATCHES_TO_RETAIN) {
    memmove(e->b, e->b + 1, (SL_PSTATE_BATCHES_TO_RETAIN - 1) * sizeof(e->b[0]));
    e->nb--;
  }
  e->b[e->nb++] = *m;
}

/* maybeUpdateProducerEpoch: a new epoch forgets the batches. */
static void maybe_update_epoch(pentry *e, int16_t epoch) {
  if (e->epoch != epoch) {
    e->nb = 0;
    e->epoch = epoch;
  }
}

static int32_t last_seq_of(const pentry *e) {
  return e->nb ? e->b[e->nb - 1].last_seq : SL_NO_SEQUENCE;
}

/* DefaultRecordBatch.incrementSequence / decrementSequence */
static int32_t seq_inc(int32_t seq, int32_t inc) {
  if (seq > INT32_MAX - inc)
    return inc - (INT32_MAX - seq) - 1;
  return seq + inc;
}

static int32_t seq_dec(int32_t seq, int32_t dec) {
  if (seq < dec)
    return INT32_MAX - (dec - seq) + 1;
  return seq - dec;
}

static bool in_sequence(int32_t last, int32_t next) {
  return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

static int pstate_config(sl_pstate *ps, const sl_pstate_config *config) {
  ps->expiration_ms = SL_PSTATE_DEFAULT_EXPIRATION_MS;
  if (config && config->producer_id_expiration_ms > 0)
    ps->expiration_ms = config->producer_id_expiration_ms;
  ps->max_producers = config ? config->max_producers : 0;
  return SL_OK;
}

int sl_pstate_new(const char *partition_dir, const sl_pstate_config *config,
                  sl_pstate **out) {
  sl_pstate *ps = calloc(1, sizeof(*ps));
  *out = NULL;
  if (ps == NULL)
    return SL_ENOMEM;
  if (partition_dir) {
    ps->dir = strdup(partition_dir);
    if (ps->dir == NULL) {
      free(ps);
      return SL_ENOMEM;
    }
  }
  pstate_config(ps, config);
  *out = ps;
  return SL_OK;
}

void sl_pstate_free(sl_pstate *ps) {
  if (ps == NULL)
    return;
  free(ps->dir);
  free(ps->slots);
  free(ps->ongoing.v);
  free(ps->unreplicated.v);
  free(ps->st);
  free(ps->started.v);
  free(ps->done);
  free(ps);
}

void sl_pstate_begin(sl_pstate *ps, sl_append_origin origin) {
  ps->origin = origin;
  ps->nst = 0;
  ps->started.n = 0;
  ps->ndone = 0;
  ps->st_last_offset = -1;
}

void sl_pstate_rollback(sl_pstate *ps) {
  sl_pstate_begin(ps, ps->origin);
}

static staged *stage_get(sl_pstate *ps, int64_t pid) {
  for (size_t i = 0; i < ps->nst; i++)
    if (ps->st[i].cur.pid == pid)
      return &ps->st[i];
  if (ps->nst == ps->capst) {
    size_t nc = ps->capst ? ps->capst * 2 : 8;
    staged *ns = realloc(ps->st, nc * sizeof(*ns));
    if (ns == NULL)
      return NULL;
    ps->st = ns;
    ps->capst = nc;
  }
  staged *s = &ps->st[ps->nst];
  const pentry *cur = table_find(ps, pid);
  if (cur) {
    s->cur = *cur;
    s->known = true;
  } else {
    pentry_empty(&s->cur, pid);
    s->known = false;
  }
  /* the updated entry starts from the committed fields without batches */
  s->upd = s->cur;
  s->upd.nb = 0;
  ps->nst++;
  return s;
}

/*
 * Makes room, before anything is staged, for everything staging this batch
 * and committing the append may need, so that sl_pstate_commit never has to
 * allocate (it runs after the batches are written) and the producer limit is
 * enforced before the write.
 */
static int stage_reserve(sl_pstate *ps, int64_t pid, sl_diag *diag) {
  size_t unknown = 0;
  bool staged_already = false;
  for (size_t i = 0; i < ps->nst; i++) {
    if (!ps->st[i].known)
      unknown++;
    if (ps->st[i].cur.pid == pid)
      staged_already = true;
  }
  bool is_new = !staged_already && table_find(ps, pid) == NULL;
  if (is_new && ps->max_producers > 0 && ps->nprod + unknown + 1 > ps->max_producers)
    return sl_diag_set(diag, SL_ETOO_LARGE, -1,
                       "producer %" PRId64 " would exceed the limit of %zu producers",
                       pid, ps->max_producers);
  if (table_reserve(ps, unknown + (is_new ? 1 : 0)) ||
      txn_reserve(&ps->ongoing, ps->started.n + 1) ||
      txn_reserve(&ps->unreplicated, ps->ndone + 1) || txn_reserve(&ps->started, 1))
    return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
  if (ps->ndone == ps->capdone) {
    size_t nc = ps->capdone ? ps->capdone * 2 : 8;
    sl_pstate_txn *nd = realloc(ps->done, nc * sizeof(*nd));
    if (nd == NULL)
      return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
    ps->done = nd;
    ps->capdone = nc;
  }
  if (ps->nst == ps->capst) {
    size_t nc = ps->capst ? ps->capst * 2 : 8;
    staged *ns = realloc(ps->st, nc * sizeof(*ns));
    if (ns == NULL)
      return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
    ps->st = ns;
    ps->capst = nc;
  }
  return SL_OK;
}

/* checkProducerEpoch */
static int check_epoch(const sl_pstate *ps, const pentry *upd, int16_t epoch,
                       int64_t offset, sl_diag *diag) {
  if (epoch < upd->epoch && ps->origin != SL_ORIGIN_REPLICATION)
    return sl_diag_set(diag, SL_EINVALID_PRODUCER_EPOCH, -1,
                       "epoch of producer %" PRId64 " at offset %" PRId64
                       " is %d, which is smaller than the last seen epoch %d",
                       upd->pid, offset, (int)epoch, (int)upd->epoch);
  return SL_OK;
}

/* checkSequence (client appends only) */
static int check_sequence(const staged *s, int16_t epoch, int32_t first_seq,
                          int64_t offset, sl_diag *diag) {
  if (epoch != s->upd.epoch) {
    if (first_seq != 0 && s->upd.epoch != SL_NO_PRODUCER_EPOCH)
      return sl_diag_set(diag, SL_EOUT_OF_ORDER_SEQUENCE, -1,
                         "invalid sequence number for new epoch of producer %" PRId64
                         " at offset %" PRId64 ": %d (request epoch), %" PRId32
                         " (seq. number), %d (current producer epoch)",
                         s->cur.pid, offset, (int)epoch, first_seq, (int)s->upd.epoch);
    return SL_OK;
  }
  int32_t cur_last;
  if (s->upd.nb > 0)
    cur_last = last_seq_of(&s->upd);
  else if (epoch == s->cur.epoch)
    cur_last = last_seq_of(&s->cur);
  else
    cur_last = SL_NO_SEQUENCE;
  /* no current epoch (e.g. all of the producer's data is gone): any sequence */
  if (s->cur.epoch != SL_NO_PRODUCER_EPOCH && !in_sequence(cur_last, first_seq))
    return sl_diag_set(
        diag, SL_EOUT_OF_ORDER_SEQUENCE, -1,
        "out of order sequence number for producer %" PRId64 " at offset %" PRId64
        ": %" PRId32 " (incoming seq. number), %" PRId32 " (current end sequence number)",
        s->cur.pid, offset, first_seq, cur_last);
  return SL_OK;
}

static int find_duplicate(const sl_pstate *ps, const sl_batch_header *h,
                          int32_t first_seq, int32_t last_seq, sl_pstate_dup *dup,
                          sl_diag *diag) {
  const pentry *e = table_find(ps, h->producer_id);
  if (e == NULL || e->epoch != h->producer_epoch)
    return SL_OK;
  for (int i = 0; i < e->nb; i++) {
    const batch_meta *m = &e->b[i];
    if (seq_dec(m->last_seq, m->offset_delta) == first_seq && m->last_seq == last_seq) {
      if (dup) {
        dup->first_offset = m->last_offset - m->offset_delta;
        dup->last_offset = m->last_offset;
        dup->timestamp = m->timestamp;
      }
      return sl_diag_set(diag, SL_EDUPLICATE_SEQUENCE, -1,
                         "duplicate batch of producer %" PRId64 " (sequences %" PRId32
                         "..%" PRId32 ") already at offsets %" PRId64 "..%" PRId64,
                         h->producer_id, first_seq, last_seq,
                         m->last_offset - m->offset_delta, m->last_offset);
    }
  }
  return SL_OK;
}

int sl_pstate_stage(sl_pstate *ps, const sl_batch_header *h, const sl_control *marker,
                    sl_pstate_dup *dup, sl_diag *diag) {
  int rc;
  if (h->producer_id < 0)
    return SL_OK; /* no producer id: no producer state */
  int64_t first_offset = h->base_offset;
  int64_t last_offset = h->base_offset + h->last_offset_delta;
  bool control = (h->attributes & SL_ATTR_CONTROL) != 0;
  if (control && marker == NULL)
    return SL_OK; /* an empty control batch: its transaction was cleaned away */
  if (control && marker->type != SL_CONTROL_ABORT && marker->type != SL_CONTROL_COMMIT)
    return sl_diag_set(diag, SL_ECORRUPT, -1,
                       "control batch of producer %" PRId64 " at offset %" PRId64
                       " has record type %d, not an end-transaction marker",
                       h->producer_id, first_offset, (int)marker->type);
  int32_t first_seq = h->base_sequence;
  int32_t last_seq = first_seq == SL_NO_SEQUENCE
                         ? SL_NO_SEQUENCE
                         : seq_inc(first_seq, h->last_offset_delta);
  if (!control && ps->origin == SL_ORIGIN_CLIENT) {
    rc = find_duplicate(ps, h, first_seq, last_seq, dup, diag);
    if (rc)
      return rc;
  }
  rc = stage_reserve(ps, h->producer_id, diag);
  if (rc)
    return rc;
  size_t nst_before = ps->nst;
  staged *s = stage_get(ps, h->producer_id);
  if (s == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
  pentry upd = s->upd; /* work on a copy: a failure changes nothing */
  if (control) {
    /* appendEndTxnMarker */
    rc = check_epoch(ps, &upd, h->producer_epoch, first_offset, diag);
    if (rc)
      goto fail;
    if (upd.coordinator_epoch > marker->coordinator_epoch &&
        ps->origin != SL_ORIGIN_REPLICATION) {
      rc = sl_diag_set(
          diag, SL_ETRANSACTION_COORDINATOR_FENCED, -1,
          "invalid coordinator epoch for producer %" PRId64 " at offset %" PRId64
          ": %" PRId32 " (zombie), %" PRId32 " (current)",
          h->producer_id, first_offset, marker->coordinator_epoch, upd.coordinator_epoch);
      goto fail;
    }
    if (upd.txn_first >= 0) {
      if (ps->ndone == ps->capdone) {
        size_t nc = ps->capdone ? ps->capdone * 2 : 8;
        sl_pstate_txn *nd = realloc(ps->done, nc * sizeof(*nd));
        if (nd == NULL) {
          rc = sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
          goto fail;
        }
        ps->done = nd;
        ps->capdone = nc;
      }
      sl_pstate_txn *t = &ps->done[ps->ndone++];
      t->producer_id = h->producer_id;
      t->first_offset = upd.txn_first;
      t->last_offset = first_offset;
      t->aborted = marker->type == SL_CONTROL_ABORT;
      t->last_stable_offset = -1; /* computed at commit */
    }
    maybe_update_epoch(&upd, h->producer_epoch);
    upd.txn_first = -1;
    upd.coordinator_epoch = marker->coordinator_epoch;
    upd.last_timestamp = h->max_timestamp;
  } else {
    /* appendDataBatch */
    rc = check_epoch(ps, &upd, h->producer_epoch, first_offset, diag);
    if (rc)
      goto fail;
    if (ps->origin == SL_ORIGIN_CLIENT) {
      rc = check_sequence(s, h->producer_epoch, first_seq, first_offset, diag);
      if (rc)
        goto fail;
    }
    bool transactional = (h->attributes & SL_ATTR_TRANSACTIONAL) != 0;
    if (upd.txn_first >= 0 && !transactional) {
      rc = sl_diag_set(diag, SL_EINVALID_TXN_STATE, -1,
                       "expected transactional write from producer %" PRId64
                       " at offset %" PRId64,
                       h->producer_id, first_offset);
      goto fail;
    }
    batch_meta m = {last_seq, last_offset, (int32_t)(last_offset - first_offset),
                    h->max_timestamp};
    maybe_update_epoch(&upd, h->producer_epoch);
    add_batch_meta(&upd, &m);
    upd.last_timestamp = h->max_timestamp;
    if (upd.txn_first < 0 && transactional) {
      if (txn_reserve(&ps->started, 1)) {
        rc = sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
        goto fail;
      }
      upd.txn_first = first_offset;
      ps->started.v[ps->started.n++] = (txn){h->producer_id, first_offset, -1};
    }
  }
  s->upd = upd;
  if (last_offset > ps->st_last_offset)
    ps->st_last_offset = last_offset;
  return SL_OK;
fail:
  ps->nst = nst_before; /* drop the staged copy if this call created it */
  return rc;
}

int sl_pstate_commit(sl_pstate *ps, int64_t next_offset, const sl_pstate_txn **txns,
                     size_t *ntxns) {
  size_t new_prod = 0;
  if (txns)
    *txns = NULL;
  if (ntxns)
    *ntxns = 0;
  for (size_t i = 0; i < ps->nst; i++)
    if (!ps->st[i].known)
      new_prod++;
  if (ps->max_producers > 0 && ps->nprod + new_prod > ps->max_producers)
    return SL_ETOO_LARGE;
  /* every allocation first, so the update below cannot fail half-way */
  if (table_reserve(ps, new_prod) || txn_reserve(&ps->ongoing, ps->started.n) ||
      txn_reserve(&ps->unreplicated, ps->ndone))
    return SL_ENOMEM;
  /* ProducerStateManager.update for each producer */
  for (size_t i = 0; i < ps->nst; i++) {
    staged *s = &ps->st[i];
    pentry *cur = table_find(ps, s->cur.pid);
    if (cur == NULL) {
      table_insert(ps, &s->upd);
      continue;
    }
    maybe_update_epoch(cur, s->upd.epoch);
    cur->coordinator_epoch = s->upd.coordinator_epoch;
    cur->last_timestamp = s->upd.last_timestamp;
    for (int k = 0; k < s->upd.nb; k++)
      add_batch_meta(cur, &s->upd.b[k]);
    cur->txn_first = s->upd.txn_first;
  }
  for (size_t i = 0; i < ps->started.n; i++)
    txn_put(&ps->ongoing, ps->started.v[i]);
  /* completed transactions: the LSO for the .txnindex, then completeTxn */
  for (size_t i = 0; i < ps->ndone; i++) {
    sl_pstate_txn *t = &ps->done[i];
    t->last_stable_offset = t->last_offset + 1;
    for (size_t k = 0; k < ps->ongoing.n; k++)
      if (ps->ongoing.v[k].pid != t->producer_id) {
        t->last_stable_offset = ps->ongoing.v[k].first;
        break;
      }
    txn_remove(&ps->ongoing, t->first_offset, NULL);
    txn_put(&ps->unreplicated, (txn){t->producer_id, t->first_offset, t->last_offset});
  }
  ps->map_end = next_offset;
  if (txns)
    *txns = ps->done;
  if (ntxns)
    *ntxns = ps->ndone;
  ps->nst = 0;
  ps->started.n = 0;
  return SL_OK;
}

int sl_pstate_read_marker(sl_batch_reader *reader, const uint8_t *batch, size_t size,
                          sl_control *out, sl_diag *diag) {
  sl_batch_reader *own = NULL;
  sl_batch_header h;
  sl_record rec;
  int rc;
  if (reader == NULL) {
    if (sl_batch_reader_new(0, &own) != SL_OK)
      return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
    reader = own;
  }
  rc = sl_batch_reader_open(reader, batch, size, &h, diag);
  if (rc == SL_OK && !(h.attributes & SL_ATTR_CONTROL))
    rc = sl_diag_set(diag, SL_EINVAL, -1,
                     "batch at offset %" PRId64 " is not a control batch", h.base_offset);
  if (rc == SL_OK) {
    rc = sl_batch_reader_next(reader, &rec, diag);
    if (rc == 1)
      rc = sl_control_parse(&rec, out, diag) == SL_OK ? 1 : SL_ECORRUPT;
  }
  sl_batch_reader_free(own);
  return rc;
}

int sl_pstate_stage_batch(sl_pstate *ps, sl_batch_reader *reader, const uint8_t *batch,
                          size_t size, sl_pstate_dup *dup, sl_diag *diag) {
  sl_batch_header h;
  sl_control marker;
  const sl_control *m = NULL;
  int rc = sl_batch_header_decode(batch, size, &h, diag);
  if (rc)
    return rc;
  if (h.producer_id < 0)
    return SL_OK;
  if (h.attributes & SL_ATTR_CONTROL) {
    rc = sl_pstate_read_marker(reader, batch, size, &marker, diag);
    if (rc < 0)
      return rc;
    m = rc == 1 ? &marker : NULL;
  }
  return sl_pstate_stage(ps, &h, m, dup, diag);
}

int sl_pstate_apply(sl_pstate *ps, sl_append_origin origin, const sl_batch_header *h,
                    const sl_control *marker, const sl_pstate_txn **txns, size_t *ntxns,
                    sl_diag *diag) {
  sl_pstate_begin(ps, origin);
  int rc = sl_pstate_stage(ps, h, marker, NULL, diag);
  if (rc) {
    sl_pstate_rollback(ps);
    return rc;
  }
  rc = sl_pstate_commit(ps, h->base_offset + h->last_offset_delta + 1, txns, ntxns);
  if (rc) {
    sl_pstate_rollback(ps);
    return sl_diag_set(diag, rc, -1, "cannot update producer state");
  }
  return SL_OK;
}

/* ---- queries ---- */

int64_t sl_pstate_map_end_offset(const sl_pstate *ps) {
  return ps->map_end;
}

void sl_pstate_set_map_end_offset(sl_pstate *ps, int64_t offset) {
  ps->map_end = offset;
}

size_t sl_pstate_producer_count(const sl_pstate *ps) {
  return ps->nprod;
}

bool sl_pstate_producer_get(const sl_pstate *ps, int64_t producer_id,
                            sl_pstate_producer *out) {
  const pentry *e = producer_id >= 0 ? table_find(ps, producer_id) : NULL;
  if (e == NULL)
    return false;
  memset(out, 0, sizeof(*out));
  out->producer_id = e->pid;
  out->epoch = e->epoch;
  out->coordinator_epoch = e->coordinator_epoch;
  out->last_timestamp = e->last_timestamp;
  out->current_txn_first_offset = e->txn_first;
  out->nbatches = e->nb;
  for (int i = 0; i < e->nb; i++) {
    const batch_meta *m = &e->b[i];
    out->batches[i].last_seq = m->last_seq;
    out->batches[i].first_seq = seq_dec(m->last_seq, m->offset_delta);
    out->batches[i].last_offset = m->last_offset;
    out->batches[i].first_offset = m->last_offset - m->offset_delta;
    out->batches[i].offset_delta = m->offset_delta;
    out->batches[i].timestamp = m->timestamp;
  }
  return true;
}

bool sl_pstate_first_unstable_offset(const sl_pstate *ps, int64_t *offset) {
  bool found = false;
  int64_t v = INT64_MAX;
  if (ps->unreplicated.n > 0) {
    v = ps->unreplicated.v[0].first;
    found = true;
  }
  if (ps->ongoing.n > 0 && ps->ongoing.v[0].first < v) {
    v = ps->ongoing.v[0].first;
    found = true;
  }
  if (found && offset)
    *offset = v;
  return found;
}

bool sl_pstate_first_undecided_offset(const sl_pstate *ps, int64_t *offset) {
  if (ps->ongoing.n == 0)
    return false;
  if (offset)
    *offset = ps->ongoing.v[0].first;
  return true;
}

/* removeUnreplicatedTransactions: drop completed txns whose marker < offset. */
static void remove_unreplicated(sl_pstate *ps, int64_t offset) {
  size_t o = 0;
  for (size_t i = 0; i < ps->unreplicated.n; i++)
    if (!(ps->unreplicated.v[i].last >= 0 && ps->unreplicated.v[i].last < offset))
      ps->unreplicated.v[o++] = ps->unreplicated.v[i];
  ps->unreplicated.n = o;
}

void sl_pstate_on_high_watermark(sl_pstate *ps, int64_t hw) {
  remove_unreplicated(ps, hw);
}

static bool is_expired(const sl_pstate *ps, int64_t txn_first, int64_t last_ts,
                       int64_t now_ms) {
  /* written as a comparison that cannot overflow for any timestamps */
  return txn_first < 0 && last_ts <= now_ms &&
         (uint64_t)now_ms - (uint64_t)last_ts >= (uint64_t)ps->expiration_ms;
}

void sl_pstate_remove_expired(sl_pstate *ps, int64_t now_ms) {
  for (size_t i = 0; i < ps->nslots;) {
    pentry *e = &ps->slots[i];
    if (e->pid >= 0 && is_expired(ps, e->txn_first, e->last_timestamp, now_ms)) {
      /* the backward shift may move another entry into slot i: look again */
      table_remove(ps, e);
      continue;
    }
    i++;
  }
}

/* ---- snapshots and hooks ---- */

static int cmp_entry_pid(const void *a, const void *b) {
  const sl_pstate_snapshot_entry *x = a, *y = b;
  return x->producer_id < y->producer_id ? -1 : (x->producer_id > y->producer_id ? 1 : 0);
}

int sl_pstate_to_entries(const sl_pstate *ps, sl_pstate_snapshot_entry **entries,
                         size_t *count) {
  sl_pstate_snapshot_entry *v = NULL;
  size_t n = 0;
  *entries = NULL;
  *count = 0;
  if (ps->nprod > 0) {
    v = calloc(ps->nprod, sizeof(*v));
    if (v == NULL)
      return SL_ENOMEM;
  }
  for (size_t i = 0; i < ps->nslots; i++) {
    const pentry *e = &ps->slots[i];
    if (e->pid < 0)
      continue;
    sl_pstate_snapshot_entry *o = &v[n++];
    o->producer_id = e->pid;
    o->epoch = e->epoch;
    o->last_sequence = last_seq_of(e);
    o->last_offset = e->nb ? e->b[e->nb - 1].last_offset : -1;
    o->offset_delta = e->nb ? e->b[e->nb - 1].offset_delta : 0;
    o->timestamp = e->last_timestamp;
    o->coordinator_epoch = e->coordinator_epoch;
    o->current_txn_first_offset = e->txn_first;
  }
  if (n > 1)
    qsort(v, n, sizeof(*v), cmp_entry_pid);
  *entries = v;
  *count = n;
  return SL_OK;
}

static void clear_state(sl_pstate *ps) {
  table_clear(ps);
  ps->ongoing.n = 0;
  ps->unreplicated.n = 0;
  sl_pstate_begin(ps, ps->origin);
}

int sl_pstate_load_entries(sl_pstate *ps, const sl_pstate_snapshot_entry *e, size_t n,
                           int64_t map_end_offset, int64_t now_ms) {
  clear_state(ps);
  if (table_reserve(ps, n) || txn_reserve(&ps->ongoing, n))
    return SL_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (e[i].producer_id < 0)
      continue;
    if (now_ms >= 0 &&
        is_expired(ps, e[i].current_txn_first_offset, e[i].timestamp, now_ms))
      continue;
    pentry p;
    pentry_empty(&p, e[i].producer_id);
    p.epoch = e[i].epoch;
    p.coordinator_epoch = e[i].coordinator_epoch;
    p.last_timestamp = e[i].timestamp;
    p.txn_first = e[i].current_txn_first_offset >= 0 ? e[i].current_txn_first_offset : -1;
    if (e[i].last_offset >= 0) {
      p.nb = 1;
      p.b[0] = (batch_meta){e[i].last_sequence, e[i].last_offset, e[i].offset_delta,
                            e[i].timestamp};
    }
    /* a repeated producer id replaces the earlier one, open txn included */
    const pentry *old = table_find(ps, p.pid);
    if (old != NULL && old->txn_first >= 0)
      txn_remove(&ps->ongoing, old->txn_first, NULL);
    table_insert(ps, &p);
    if (p.txn_first >= 0)
      txn_put(&ps->ongoing, (txn){p.pid, p.txn_first, -1});
  }
  ps->map_end = map_end_offset;
  return SL_OK;
}

int sl_pstate_take_snapshot(sl_pstate *ps, bool do_fsync, sl_diag *diag) {
  char path[PATH_MAX];
  sl_pstate_snapshot_entry *e = NULL;
  size_t n = 0;
  if (ps->dir == NULL)
    return sl_diag_set(diag, SL_EINVAL, -1, "producer state has no directory");
  if (sl_pstate_snapshot_path(ps->dir, ps->map_end, path, sizeof(path)))
    return sl_diag_set(diag, SL_EINVAL, -1, "bad snapshot path");
  if (access(path, F_OK) == 0)
    return SL_OK; /* a snapshot at this offset exists already */
  if (sl_pstate_to_entries(ps, &e, &n))
    return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
  int rc = sl_pstate_snapshot_write(ps->dir, ps->map_end, e, n, do_fsync, diag);
  free(e);
  return rc;
}

static bool snapshot_unreadable(int rc) {
  return rc == SL_ECORRUPT || rc == SL_ECRC || rc == SL_ETRUNCATED ||
         rc == SL_EUNSUPPORTED || rc == SL_ETOO_LARGE;
}

int sl_pstate_truncate_and_reload(sl_pstate *ps, int64_t log_start_offset,
                                  int64_t log_end_offset, int64_t now_ms, sl_diag *diag) {
  int64_t *offs = NULL;
  size_t n = 0;
  int rc;
  if (ps->dir == NULL)
    return sl_diag_set(diag, SL_EINVAL, -1, "producer state has no directory");
  rc = sl_pstate_snapshot_list(ps->dir, &offs, &n, diag);
  if (rc)
    return rc;
  /* remove all out of range snapshots */
  size_t keep = 0;
  for (size_t i = 0; i < n; i++) {
    if (offs[i] > log_end_offset || offs[i] <= log_start_offset) {
      rc = sl_pstate_snapshot_delete(ps->dir, offs[i], diag);
      if (rc)
        goto out;
    } else {
      offs[keep++] = offs[i];
    }
  }
  if (log_end_offset == ps->map_end) {
    remove_unreplicated(ps, log_start_offset);
    if (ps->map_end < log_start_offset)
      ps->map_end = log_start_offset;
    goto out;
  }
  clear_state(ps);
  /* loadFromSnapshot: newest first; unreadable ones are deleted */
  while (keep > 0) {
    int64_t off = offs[--keep];
    char path[PATH_MAX];
    sl_pstate_snapshot_entry *e = NULL;
    size_t ne = 0;
    sl_diag d2;
    sl_diag_clear(&d2);
    if (sl_pstate_snapshot_path(ps->dir, off, path, sizeof(path))) {
      rc = sl_diag_set(diag, SL_EINVAL, -1, "bad snapshot path");
      goto out;
    }
    rc = sl_pstate_snapshot_read(path, &e, &ne, &d2);
    if (snapshot_unreadable(rc)) {
      rc = sl_pstate_snapshot_delete(ps->dir, off, diag);
      if (rc)
        goto out;
      continue;
    }
    if (rc) {
      if (diag)
        *diag = d2;
      goto out;
    }
    rc = sl_pstate_load_entries(ps, e, ne, off, now_ms);
    free(e);
    if (rc)
      rc = sl_diag_set(diag, rc, -1, "out of memory");
    goto out;
  }
  ps->map_end = log_start_offset;
out:
  free(offs);
  return rc;
}

int sl_pstate_truncate_fully(sl_pstate *ps, int64_t offset, sl_diag *diag) {
  clear_state(ps);
  ps->map_end = offset;
  if (ps->dir == NULL)
    return SL_OK;
  return sl_pstate_delete_snapshots_before(ps, INT64_MAX, diag);
}

int sl_pstate_on_log_start(sl_pstate *ps, int64_t log_start_offset, sl_diag *diag) {
  (void)diag;
  remove_unreplicated(ps, log_start_offset);
  if (ps->map_end < log_start_offset)
    ps->map_end = log_start_offset;
  return SL_OK;
}

int sl_pstate_delete_snapshots_before(sl_pstate *ps, int64_t offset, sl_diag *diag) {
  int64_t *offs = NULL;
  size_t n = 0;
  if (ps->dir == NULL)
    return sl_diag_set(diag, SL_EINVAL, -1, "producer state has no directory");
  int rc = sl_pstate_snapshot_list(ps->dir, &offs, &n, diag);
  for (size_t i = 0; rc == SL_OK && i < n; i++)
    if (offs[i] < offset)
      rc = sl_pstate_snapshot_delete(ps->dir, offs[i], diag);
  free(offs);
  return rc;
}

int sl_pstate_remove_stray_snapshots(sl_pstate *ps, const int64_t *bases, size_t n,
                                     sl_diag *diag) {
  int64_t *offs = NULL;
  size_t no = 0;
  int64_t max_base = INT64_MIN;
  if (ps->dir == NULL)
    return sl_diag_set(diag, SL_EINVAL, -1, "producer state has no directory");
  for (size_t i = 0; i < n; i++)
    if (bases[i] > max_base)
      max_base = bases[i];
  int64_t *sorted = n ? malloc(n * sizeof(*sorted)) : NULL;
  if (n && sorted == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
  if (n) {
    memcpy(sorted, bases, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_i64);
  }
  int rc = sl_pstate_snapshot_list(ps->dir, &offs, &no, diag);
  int64_t stray = -1; /* the newest stray so far */
  for (size_t i = 0; rc == SL_OK && i < no; i++) {
    if (n && bsearch(&offs[i], sorted, n, sizeof(*sorted), cmp_i64) != NULL)
      continue;
    if (stray >= 0)
      rc = sl_pstate_snapshot_delete(ps->dir, stray, diag);
    stray = offs[i];
  }
  /* keep the newest stray only if it is above every segment base */
  if (rc == SL_OK && stray >= 0 && n > 0 && stray < max_base)
    rc = sl_pstate_snapshot_delete(ps->dir, stray, diag);
  free(sorted);
  free(offs);
  return rc;
}
