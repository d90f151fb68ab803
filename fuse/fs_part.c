/*
 * fs_part.c - a partition of the mounted log directory: its read-only sl_log,
 * the three record views and the sparse position index that lets a read at
 * any byte position start near its record instead of at the log start.
 * Design and trade-offs: docs/FUSE.md ("Views and the position index").
 *
 * The index holds one entry about every FS_INDEX_EVERY bytes of log walked:
 * (batch base offset, bytes every view has rendered before it).  It is built
 * lazily, the first time a size is asked for, and only extended afterwards
 * (from end_offset, the first offset not yet counted).  A view starting at
 * offset S has size end_cum - cum(S); position P of it is absolute position
 * cum(S) + P, found by a binary search for the last entry at or below it and
 * a walk of at most one index interval.  A reader's cursor (where its last
 * read stopped) makes sequential reads skip even that walk.  When the log
 * start passes entries the index still uses (retention) or the log end goes
 * back (truncation), the index is rebuilt and its generation bumped.
 *
 * The batches are read as sl_log_read slices (FS_READ_CHUNK bytes of whole
 * batches) mapped read-only, so a read copies each value once, from the
 * page cache into the FUSE reply.  A segment that another process truncates
 * under the mapping (a writer's recovery of a torn tail, `verify --repair`)
 * raises SIGBUS when the walk touches the lost pages: every public function
 * that walks records runs under slclient's per-thread guard
 * (slclient/mapguard.h, through guarded()) armed on the partition's current
 * mapping, the fault ends the walk, and the request fails with EIO and a log
 * line; the partition drops its mapping and index and the mount serves on.  A slice
 * that cannot be mapped is copied with pread instead.  A sequential reader's
 * next slice is mapped and CRC-checked ahead by one thread of the mount
 * (read-ahead below), and its walk resumes inside the batch where the
 * previous read stopped (fs_part.resume).
 */
#include "fs_part.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fs_render.h"
#include "slclient/mapguard.h"

#define FS_INDEX_EVERY (64 * 1024)      /* log bytes between index entries */
#define FS_READ_CHUNK (8 * 1024 * 1024) /* bytes of batches mapped at a time */

/* ---- logging ---- */

static bool g_use_syslog; /* set once before the FUSE loop starts */

void fs_log_use_syslog(bool on) {
  g_use_syslog = on;
  if (on)
    openlog("seglogfs", LOG_PID, LOG_DAEMON);
}

void fs_log(const char *fmt, ...) {
  char msg[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ seglogfs: %s\n",
          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
          ts.tv_nsec / 1000000, msg);
  if (g_use_syslog)
    syslog(LOG_ERR, "%s", msg);
}

static int log_diag(fs_part *p, const char *what, const sl_diag *d) {
  char buf[900];
  fs_log("%s-%d: %s: %s", p->topic, (int)p->partition, what,
         sl_diag_format(d, buf, sizeof(buf)));
  return -EIO;
}

/* ---- the SIGBUS guard for mapped slices ---- */

/* A guarded walk (guarded() below) arms the partition's current mapping; the
 * walk maps other slices as it goes, so every change of p->map moves the
 * armed range with it (a no-op outside a guarded walk).  A SIGBUS outside a
 * guarded walk, or at an address outside the walked partition's mapping, is
 * a bug and kills the process as before. */
static void map_changed(fs_part *p) {
  (void)sc_mapguard_rearm(p->map, p->map_len);
}

static void drop_batches(fs_part *p) {
  if (p->map)
    munmap(p->map, p->map_len);
  p->map = NULL;
  p->map_len = 0;
  p->bdata = NULL;
  p->blen = 0;
  p->cache_valid = false;
  p->crc_lo = p->crc_hi = 0;
  p->resume_valid = false;
  sl_buf_reset(&p->batches);
  map_changed(p);
}

static void index_reset(fs_part *p);

/* A walk run under the guard: fn, its partition and argument, its result. */
typedef struct guarded_call {
  fs_part *p;
  ssize_t (*fn)(fs_part *, void *);
  void *arg;
  ssize_t rc;
} guarded_call;

static int call_guarded(void *arg) {
  guarded_call *g = arg;
  g->rc = g->fn(g->p, g->arg);
  return 0;
}

/* Runs fn(p, arg) (p->mu held) with the SIGBUS guard armed on p's mapping; a
 * fault in it ends fn with EIO (logged), a dropped mapping and a fresh
 * index: whatever fn was counting when it stopped is not trusted. */
static ssize_t guarded(fs_part *p, ssize_t (*fn)(fs_part *, void *), void *arg) {
  guarded_call g = {p, fn, arg, -EIO};
  const void *fault = NULL;
  int rc = sc_mapguard_run(p->map, p->map_len, call_guarded, &g, NULL, &fault);
  if (rc == SL_ETRUNCATED) {
    const char *a = fault;
    int64_t at = p->map_pos + (int64_t)(a - (const char *)p->bdata);
    fs_log("%s-%d: segment %020lld.log was truncated under the mapped read (byte %lld "
           "is past its new end): EIO",
           p->topic, (int)p->partition, (long long)p->map_seg, (long long)at);
    drop_batches(p);
    index_reset(p);
    return -EIO;
  }
  if (rc) {
    fs_log("%s-%d: cannot guard the mapped read: %s: EIO", p->topic, (int)p->partition,
           sl_strerror(rc));
    return -EIO;
  }
  return g.rc;
}

/* ---- read-ahead ---- */

/* One thread for the process, started by the first sequential read: it maps
 * the slice after a reader's current one, populates its page tables and
 * checks its CRCs outside the partition's lock, so that on a second core
 * that work overlaps the kernel's copy of the reply.  A queue of partitions
 * that asked; a partition asks again only after its slot was taken. */
#define FS_AHEAD_QUEUE 64
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t th;
  bool started, stop;
  fs_part *q[FS_AHEAD_QUEUE];
  size_t n;
} g_ahead = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void ahead_discard(fs_part *p) {
  if (p->ahead.ready)
    munmap(p->ahead.map, p->ahead.map_len);
  p->ahead.ready = false;
  p->ahead.map = NULL;
}

/* The bytes of whole batches at the start of b[0..len) whose CRCs hold. */
static size_t crc_prefix(const uint8_t *b, size_t len) {
  size_t ok = 0;
  for (;;) {
    int64_t base;
    int32_t size;
    int8_t magic;
    sl_diag d;
    sl_diag_clear(&d);
    if (sl_batch_peek(b + ok, len - ok, &base, &size, &magic) != 0 ||
        (size_t)size > len - ok || sl_batch_validate(b + ok, (size_t)size, &d) != 0)
      return ok;
    ok += (size_t)size;
  }
}

/* A mapped slice to populate and CRC-check (ahead_check). */
typedef struct ahead_call {
  void *map;
  size_t map_len;
  const uint8_t *b;
  size_t len, ok;
} ahead_call;

static int call_ahead_check(void *arg) {
  ahead_call *a = arg;
  (void)madvise(a->map, a->map_len, MADV_POPULATE_READ);
  a->ok = crc_prefix(a->b, a->len);
  return 0;
}

/* Populates a mapped slice and checks its CRCs, SIGBUS-guarded by the
 * mapping's range: the bytes checked, 0 after a fault. */
static size_t ahead_check(void *map, size_t map_len, const uint8_t *b, size_t len) {
  ahead_call a = {map, map_len, b, len, 0};
  if (sc_mapguard_run(map, map_len, call_ahead_check, &a, NULL, NULL) != 0)
    return 0;
  return a.ok;
}

/* Reads p->ahead.want into p->ahead (the thread's job). */
static void ahead_fill(fs_part *p) {
  sl_diag d;
  sl_log_slice s;
  struct stat st;
  fs_ahead_slot a;
  pthread_mutex_lock(&p->mu);
  a = p->ahead;
  if (a.ready || a.busy || a.want < 0) {
    pthread_mutex_unlock(&p->mu);
    return;
  }
  sl_diag_clear(&d);
  a.map = MAP_FAILED;
  if (sl_log_read(p->log, a.want, FS_READ_CHUNK, -1, &s, &d) == 0 && s.length > 0 &&
      fstat(s.fd, &st) == 0 && st.st_size >= s.position + s.length) {
    long page = sysconf(_SC_PAGESIZE);
    off_t map_off = (off_t)(s.position - s.position % (page > 0 ? page : 4096));
    a.map_len = (size_t)(s.position - map_off + s.length);
    a.map = mmap(NULL, a.map_len, PROT_READ, MAP_SHARED, s.fd, map_off);
    a.bdata =
        a.map == MAP_FAILED ? NULL : (const uint8_t *)a.map + (s.position - map_off);
    a.blen = (size_t)s.length;
    a.from = a.want;
    a.next = s.next_offset;
    a.seg = s.segment_base;
    a.pos = s.position;
    a.gen = p->gen;
  }
  sl_log_slice_release(&s);
  if (a.map == MAP_FAILED) {
    p->ahead.want = -1;
    pthread_mutex_unlock(&p->mu);
    return;
  }
  p->ahead.busy = true;
  pthread_mutex_unlock(&p->mu);
  a.crc_ok = ahead_check(a.map, a.map_len, a.bdata, a.blen);
  pthread_mutex_lock(&p->mu);
  p->ahead.busy = false;
  if (a.crc_ok > 0 && p->ahead.want == a.from && p->gen == a.gen && !p->ahead.ready) {
    a.ready = true;
    a.busy = false;
    a.want = -1;
    p->ahead = a;
  } else {
    munmap(a.map, a.map_len);
    p->ahead.want = -1;
  }
  pthread_mutex_unlock(&p->mu);
}

static void *ahead_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_ahead.mu);
  for (;;) {
    while (!g_ahead.stop && g_ahead.n == 0)
      pthread_cond_wait(&g_ahead.cv, &g_ahead.mu);
    if (g_ahead.stop)
      break;
    fs_part *p = g_ahead.q[0];
    memmove(&g_ahead.q[0], &g_ahead.q[1], (g_ahead.n - 1) * sizeof(g_ahead.q[0]));
    g_ahead.n--;
    pthread_mutex_unlock(&g_ahead.mu);
    ahead_fill(p);
    pthread_mutex_lock(&g_ahead.mu);
  }
  pthread_mutex_unlock(&g_ahead.mu);
  return NULL;
}

/* After a sequential read (p->mu held): ask for the slice after this one. */
static void ahead_request(fs_part *p) {
  if (p->ahead.ready || p->ahead.busy || p->ahead.want >= 0 || !p->cache_valid ||
      p->cache_next >= sl_log_end_offset(p->log))
    return;
  pthread_mutex_lock(&g_ahead.mu);
  if (!g_ahead.started && !g_ahead.stop)
    g_ahead.started = pthread_create(&g_ahead.th, NULL, ahead_main, NULL) == 0;
  if (g_ahead.started && !g_ahead.stop && g_ahead.n < FS_AHEAD_QUEUE) {
    p->ahead.want = p->cache_next;
    g_ahead.q[g_ahead.n++] = p;
    pthread_cond_signal(&g_ahead.cv);
  }
  pthread_mutex_unlock(&g_ahead.mu);
}

/* The walk needs the slice at `offset`: takes the read-ahead one if it is
 * that slice (true), else drops a stale one. */
static bool ahead_take(fs_part *p, int64_t offset, int64_t *next) {
  if (!p->ahead.ready)
    return false;
  if (p->ahead.from != offset || p->ahead.gen != p->gen) {
    ahead_discard(p);
    return false;
  }
  drop_batches(p);
  p->map = p->ahead.map;
  p->map_len = p->ahead.map_len;
  p->bdata = p->ahead.bdata;
  p->blen = p->ahead.blen;
  p->map_seg = p->ahead.seg;
  p->map_pos = p->ahead.pos;
  p->cache_valid = true;
  p->cache_from = offset;
  p->cache_next = *next = p->ahead.next;
  p->crc_lo = 0;
  p->crc_hi = p->ahead.crc_ok;
  p->ahead.ready = false;
  p->ahead.map = NULL;
  map_changed(p);
  return true;
}

void fs_part_ahead_stop(void) {
  pthread_mutex_lock(&g_ahead.mu);
  g_ahead.stop = true;
  g_ahead.n = 0;
  pthread_cond_signal(&g_ahead.cv);
  bool started = g_ahead.started;
  g_ahead.started = false;
  pthread_mutex_unlock(&g_ahead.mu);
  if (started)
    pthread_join(g_ahead.th, NULL);
}

/* ---- open / free ---- */

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *c = malloc(n);
  if (c)
    memcpy(c, s, n);
  return c;
}

static void index_reset(fs_part *p) {
  int64_t start = sl_log_start_offset(p->log);
  for (int v = 0; v < FS_NVIEWS; v++) {
    fs_vindex *x = &p->vx[v];
    x->n_idx = 1;
    x->idx[0].offset = start;
    x->idx[0].cum = 0;
    x->end_offset = start;
    x->end_cum = 0;
    x->since_entry = 0;
    x->records = 0;
    x->complete = false;
  }
  p->gen++;
  p->cache_valid = false;
  p->resume_valid = false;
  ahead_discard(p);
}

int fs_part_open(const char *dir, const char *topic, int32_t partition, fs_part **out) {
  sl_diag d;
  char buf[900];
  int rc = -ENOMEM;
  fs_part *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return -ENOMEM;
  pthread_mutex_init(&p->mu, NULL);
  sl_buf_init(&p->batches);
  sl_buf_init(&p->scratch);
  p->partition = partition;
  p->ahead.want = -1;
  p->topic = dup_str(topic);
  p->dir = dup_str(dir);
  for (int v = 0; v < FS_NVIEWS; v++) {
    p->vx[v].cap_idx = 64;
    p->vx[v].idx = malloc(p->vx[v].cap_idx * sizeof(fs_idx_entry));
    if (p->vx[v].idx == NULL)
      goto fail;
  }
  if (!p->topic || !p->dir || sl_batch_reader_new(0, &p->rd) != 0)
    goto fail;
  sl_diag_clear(&d);
  int e = sl_log_open(dir, NULL, SL_LOG_READONLY, NULL, &p->log, &d);
  if (e < 0) {
    fs_log("opening %s: %s", dir, sl_diag_format(&d, buf, sizeof(buf)));
    rc = e == SL_ENOT_FOUND ? -ENOENT : -EIO;
    goto fail;
  }
  index_reset(p);
  *out = p;
  return 0;
fail:
  fs_part_free(p);
  return rc;
}

void fs_part_free(fs_part *p) {
  if (p == NULL)
    return;
  sl_log_close(p->log, NULL);
  sl_batch_reader_free(p->rd);
  drop_batches(p);
  ahead_discard(p);
  sl_buf_release(&p->batches);
  sl_buf_release(&p->scratch);
  for (int v = 0; v < FS_NVIEWS; v++)
    free(p->vx[v].idx);
  free(p->topic);
  free(p->dir);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

/* ---- walking records ---- */

/* Iterates the data records (control batches skipped) with offset >= from. */
typedef struct walker {
  fs_part *p;
  int64_t from;
  bool batch_open;
  bool new_batch;  /* a batch was opened since the caller last cleared it */
  fs_walk_state r; /* what a resumed walk takes over (fs_part.resume) */
} walker;

#define FS_ESTALE_INDEX 1000 /* internal: the log start passed the walk */

/* Maps the slice s (or, when it cannot be mapped, copies it with pread)
 * into p->bdata.  A file already shorter than the slice is not mapped: the
 * copy then comes up short and that is reported as a truncation. */
static int load_slice(fs_part *p, const sl_log_slice *s, sl_diag *d) {
  struct stat st;
  long page = sysconf(_SC_PAGESIZE);
  off_t map_off = (off_t)(s->position - s->position % (page > 0 ? page : 4096));
  p->map_seg = s->segment_base;
  p->map_pos = s->position;
  if (fstat(s->fd, &st) == 0 && st.st_size >= s->position + s->length) {
    size_t len = (size_t)(s->position - map_off + s->length);
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, s->fd, map_off);
    if (m != MAP_FAILED) {
      p->map = m;
      p->map_len = len;
      p->bdata = (const uint8_t *)m + (s->position - map_off);
      p->blen = (size_t)s->length;
      map_changed(p);
      return 0;
    }
  }
  uint8_t *buf = sl_buf_reserve(&p->batches, (size_t)s->length);
  if (buf == NULL)
    return sl_diag_set(d, SL_ENOMEM, -1, "reading %lld bytes", (long long)s->length);
  size_t got = 0;
  while (got < (size_t)s->length) {
    ssize_t n =
        pread(s->fd, buf + got, (size_t)s->length - got, s->position + (off_t)got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return sl_diag_set(d, SL_EIO, s->position + (int64_t)got, "segment %020lld.log: %s",
                         (long long)s->segment_base, strerror(errno));
    if (n == 0)
      return sl_diag_set(d, SL_ETRUNCATED, s->position + (int64_t)got,
                         "segment %020lld.log was truncated during the read",
                         (long long)s->segment_base);
    got += (size_t)n;
  }
  p->batches.len = got;
  p->bdata = p->batches.data;
  p->blen = got;
  return 0;
}

/*
 * The slice at `offset` (sl_log_read, up to FS_READ_CHUNK bytes of whole
 * batches), mapped or copied, retried when it fails: a writer in another
 * process may be rewriting or trimming an index file the read-only log had
 * counted (its open, roll or close), which surfaces as a transient
 * SL_ETRUNCATED or SL_EIO from the index.  Refresh and retry; after a few
 * tries reopen the log.  Only a failure that persists (about 0.25 s) is
 * reported.
 */
static int read_batches(fs_part *p, int64_t offset, int64_t *next, sl_diag *d) {
  int rc = 0;
  sl_diag first;
  sl_diag_clear(&first);
  if (ahead_take(p, offset, next))
    return 0;
  for (int attempt = 0; attempt < 8; attempt++) {
    sl_log_slice s;
    drop_batches(p);
    sl_diag_clear(d);
    rc = sl_log_read(p->log, offset, FS_READ_CHUNK, -1, &s, d);
    if (rc == 0 && s.length > 0)
      rc = load_slice(p, &s, d);
    if (rc == 0)
      *next = s.next_offset;
    sl_log_slice_release(&s);
    if (rc == 0 && attempt > 0) {
      char buf[900];
      fs_log("%s-%d: reading at offset %lld succeeded after %d retries (first error: %s)",
             p->topic, (int)p->partition, (long long)offset, attempt,
             sl_diag_format(&first, buf, sizeof(buf)));
    }
    if (rc == 0 && p->blen > 0) {
      p->cache_valid = true;
      p->crc_lo = p->crc_hi = 0;
      p->cache_from = offset;
      p->cache_next = *next;
    }
    if (rc == 0 || rc == SL_EOFFSET_OUT_OF_RANGE || rc == SL_ENOMEM)
      return rc;
    drop_batches(p);
    if (attempt == 0)
      first = *d;
    struct timespec ts = {0, 1000000L << attempt}; /* 1 ms .. 128 ms */
    nanosleep(&ts, NULL);
    sl_diag tmp;
    sl_diag_clear(&tmp);
    if (attempt == 3) {
      /* Still failing: reopen, in case the reader's view of an index file
       * (entries the writer has since rewritten) is what is stale. */
      sl_log *fresh = NULL;
      if (sl_log_open(p->dir, NULL, SL_LOG_READONLY, NULL, &fresh, &tmp) == 0) {
        sl_log_close(p->log, NULL);
        p->log = fresh;
      }
    } else {
      (void)sl_log_refresh(p->log, &tmp);
    }
  }
  return rc;
}

static void walker_init(walker *w, fs_part *p, int64_t from) {
  memset(w, 0, sizeof(*w));
  w->p = p;
  w->from = from;
  w->r.next_read = from;
  if (p->resume_valid && p->cache_valid && from == p->resume_offset) {
    /* the previous read's walk, continued */
    p->resume_valid = false;
    w->batch_open = true;
    w->r = p->resume;
    return;
  }
  p->resume_valid = false;
  if (p->cache_valid && from >= p->cache_from && from < p->cache_next) {
    /* Start at the cached batch that holds `from` (its last offset >= from). */
    size_t pos = 0;
    while (pos < p->blen) {
      const uint8_t *b = p->bdata + pos;
      size_t left = p->blen - pos;
      int64_t base, last;
      int32_t size;
      int8_t magic;
      if (sl_batch_peek(b, left, &base, &size, &magic) != 0 || (size_t)size > left)
        break;
      last = base;
      if (magic == 2 && left >= SL_BATCH_OFF_LAST_OFFSET_DELTA + 4)
        last = base + (int32_t)sl_load_be32(b + SL_BATCH_OFF_LAST_OFFSET_DELTA);
      if (last >= from) {
        w->r.pos = pos;
        w->r.next_read = p->cache_next;
        return;
      }
      pos += (size_t)size;
    }
  }
  drop_batches(p);
}

/* Keeps w's state for the next walk that starts at `offset` (with rec, the
 * record at that offset, not yet consumed; NULL: w is just before it). */
static void walker_save(const walker *w, const sl_record *rec, int64_t offset) {
  fs_part *p = w->p;
  p->resume_valid = w->batch_open && p->cache_valid;
  p->resume_offset = offset;
  p->resume = w->r;
  p->resume.pending = rec != NULL;
  if (rec)
    p->resume.rec = *rec;
}

/* 1 = a record in *rec, 0 = log end, negative errno (or -FS_ESTALE_INDEX). */
static int walker_next(walker *w, sl_record *rec) {
  fs_part *p = w->p;
  sl_diag d;
  sl_diag_clear(&d);
  if (w->r.pending) {
    w->r.pending = false;
    *rec = w->r.rec;
    return 1;
  }
  for (;;) {
    if (w->batch_open) {
      int rc = sl_batch_reader_next(p->rd, rec, &d);
      if (rc == 1) {
        if (w->r.control || rec->offset < w->from)
          continue;
        return 1;
      }
      w->batch_open = false;
      if (rc < 0)
        return log_diag(p, "corrupt record", &d);
      continue;
    }
    if (w->r.pos >= p->blen) {
      int64_t next = w->r.next_read;
      w->r.pos = 0;
      int rc = read_batches(p, w->r.next_read, &next, &d);
      if (rc == SL_EOFFSET_OUT_OF_RANGE && w->r.next_read < sl_log_start_offset(p->log))
        return -FS_ESTALE_INDEX;
      if (rc == SL_EOFFSET_OUT_OF_RANGE)
        return 0; /* past the end (the log was truncated meanwhile) */
      if (rc < 0)
        return log_diag(p, "reading the log", &d);
      if (p->blen == 0)
        return 0;
      if (next <= w->r.next_read) {
        fs_log("%s-%d: the log did not advance at offset %lld", p->topic,
               (int)p->partition, (long long)w->r.next_read);
        return -EIO;
      }
      w->r.next_read = next;
    }
    const uint8_t *b = p->bdata + w->r.pos;
    size_t left = p->blen - w->r.pos;
    int64_t base;
    int32_t size;
    int8_t magic;
    int rc = sl_batch_peek(b, left, &base, &size, &magic);
    if (rc == 0 && (size_t)size > left)
      rc = sl_diag_set(&d, SL_ETRUNCATED, -1, "batch at offset %lld is incomplete",
                       (long long)base);
    if (rc == 0 && !(w->r.pos >= p->crc_lo && w->r.pos + (size_t)size <= p->crc_hi)) {
      /* CRC-check each cached batch once, not at every read that resumes in it */
      rc = sl_batch_validate(b, (size_t)size, &d);
      if (rc == 0 && w->r.pos == p->crc_hi) {
        p->crc_hi += (size_t)size;
      } else if (rc == 0) {
        p->crc_lo = w->r.pos;
        p->crc_hi = w->r.pos + (size_t)size;
      }
    }
    if (rc == 0)
      rc = sl_batch_reader_open(p->rd, b, (size_t)size, &w->r.h, &d);
    if (rc < 0) {
      char what[64];
      snprintf(what, sizeof(what), "corrupt batch before offset %lld",
               (long long)w->r.next_read);
      return log_diag(p, what, &d);
    }
    w->r.pos += (size_t)size;
    w->batch_open = true;
    w->r.control = sl_batch_is_control(&w->r.h);
    w->new_batch = true;
    w->r.batch_size = size;
  }
}

static int64_t rec_len(fs_part *p, fs_view v, const sl_batch_header *h,
                       const sl_record *rec, int *err) {
  switch (v) {
  case FS_VIEW_DATA:
    return fs_render_data_len(rec);
  case FS_VIEW_LP:
    return fs_render_lp_len(rec);
  default:
    sl_buf_reset(&p->scratch);
    if (fs_render_jsonl(&p->scratch, p->topic, p->partition, h, rec) != 0)
      *err = -ENOMEM;
    return (int64_t)p->scratch.len;
  }
}

static int render(fs_part *p, fs_view v, const sl_batch_header *h, const sl_record *rec) {
  sl_buf_reset(&p->scratch);
  switch (v) {
  case FS_VIEW_DATA:
    return fs_render_data(&p->scratch, rec) ? -ENOMEM : 0;
  case FS_VIEW_LP:
    return fs_render_lp(&p->scratch, rec) ? -ENOMEM : 0;
  default:
    return fs_render_jsonl(&p->scratch, p->topic, p->partition, h, rec) ? -ENOMEM : 0;
  }
}

/* ---- the index ---- */

static int index_add(fs_vindex *x, int64_t offset) {
  if (x->n_idx == x->cap_idx) {
    size_t cap = x->cap_idx * 2;
    fs_idx_entry *n = realloc(x->idx, cap * sizeof(*n));
    if (n == NULL)
      return -ENOMEM;
    x->idx = n;
    x->cap_idx = cap;
  }
  fs_idx_entry *e = &x->idx[x->n_idx++];
  e->offset = offset;
  e->cum = x->end_cum;
  x->since_entry = 0;
  return 0;
}

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Counts view v's records from its end_offset to the log end, or until
 * CLOCK_MONOTONIC passes deadline_ns (0: no deadline) or, with upto >= 0,
 * until more than `upto` bytes are counted.  An early stop leaves
 * x->complete false; the next call continues where this one stopped. */
static int index_extend_until(fs_part *p, fs_view v, int64_t deadline_ns, int64_t upto) {
  fs_vindex *x = &p->vx[v];
  int64_t leo = sl_log_end_offset(p->log);
  if (leo < x->end_offset || sl_log_start_offset(p->log) > x->end_offset) {
    /* truncated, or retention passed everything counted */
    fs_log("%s-%d: log is now [%lld, %lld), index counted up to %lld: rebuilding it",
           p->topic, (int)p->partition, (long long)sl_log_start_offset(p->log),
           (long long)leo, (long long)x->end_offset);
    index_reset(p);
  }
  x->complete = false;
  if (x->end_offset >= leo) {
    x->complete = true;
    return 0;
  }
  walker w;
  sl_record rec;
  int rc;
  int64_t batches = 0;
  walker_init(&w, p, x->end_offset);
  while ((rc = walker_next(&w, &rec)) == 1) {
    if (w.new_batch) {
      w.new_batch = false;
      /* stop between batches (the index entries are batch bases), after at
       * least one batch: every call makes progress */
      if (batches++ > 0 &&
          ((deadline_ns && mono_ns() > deadline_ns) || (upto >= 0 && x->end_cum > upto)))
        return 0;
      /* An entry only where no record of the batch was skipped. */
      if (x->since_entry >= FS_INDEX_EVERY && w.r.h.base_offset >= w.from &&
          w.r.h.base_offset >= x->idx[x->n_idx - 1].offset &&
          index_add(x, w.r.h.base_offset))
        return -ENOMEM;
      x->since_entry += w.r.batch_size;
    }
    int err = 0;
    int64_t len = rec_len(p, v, &w.r.h, &rec, &err);
    if (err)
      return err;
    x->end_cum += len;
    x->records++;
    x->end_offset = rec.offset + 1;
  }
  if (rc == 0 && w.r.next_read > x->end_offset)
    x->end_offset = w.r.next_read; /* control batches at the end */
  if (rc == 0)
    x->complete = true;
  if (rc == -FS_ESTALE_INDEX) {
    index_reset(p);
    return -EAGAIN;
  }
  return rc < 0 ? rc : 0;
}

/* Picks up what the writer appended; with v >= 0 also counts it in view v
 * (until deadline_ns, 0 = to the end, or past `upto` bytes, -1 = no limit). */
static int refresh_until(fs_part *p, int v, int64_t deadline_ns, int64_t upto);
static int refresh_locked(fs_part *p, int v) {
  return refresh_until(p, v, 0, -1);
}

static int refresh_until(fs_part *p, int v, int64_t deadline_ns, int64_t upto) {
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_log_refresh(p->log, &d);
  if (rc < 0)
    return log_diag(p, "refreshing the log", &d);
  if (v < 0)
    return 0;
  for (int tries = 0; tries < 3; tries++) {
    rc = index_extend_until(p, (fs_view)v, deadline_ns, upto);
    if (rc != -EAGAIN)
      return rc;
  }
  return -EIO;
}

int fs_part_refresh(fs_part *p) {
  pthread_mutex_lock(&p->mu);
  int rc = refresh_locked(p, -1);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* The last entry with offset <= off (entry 0 if none). */
static size_t entry_for_offset(const fs_vindex *x, int64_t off) {
  size_t lo = 0, hi = x->n_idx; /* answer in [lo, hi) */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (x->idx[mid].offset <= off)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

/* The last entry with cum <= pos. */
static size_t entry_for_pos(const fs_vindex *x, int64_t pos) {
  size_t lo = 0, hi = x->n_idx;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (x->idx[mid].cum <= pos)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

/* Absolute position of the first record with offset >= s in view v (counted
 * up to the view's end_offset). */
static int cum_at(fs_part *p, fs_view v, int64_t s, int64_t *out) {
  const fs_vindex *x = &p->vx[v];
  if (s >= x->end_offset) {
    *out = x->end_cum;
    return 0;
  }
  const fs_idx_entry *e = &x->idx[entry_for_offset(x, s)];
  int64_t at = e->cum;
  if (s <= e->offset) {
    *out = at;
    return 0;
  }
  walker w;
  sl_record rec;
  int rc;
  walker_init(&w, p, e->offset);
  while ((rc = walker_next(&w, &rec)) == 1 && rec.offset < s) {
    int err = 0;
    at += rec_len(p, v, &w.r.h, &rec, &err);
    if (err)
      return err;
  }
  if (rc == -FS_ESTALE_INDEX) {
    index_reset(p);
    return -EAGAIN;
  }
  if (rc < 0)
    return rc;
  *out = at;
  return 0;
}

void fs_part_offsets(fs_part *p, int64_t *start, int64_t *end) {
  pthread_mutex_lock(&p->mu);
  *start = sl_log_start_offset(p->log);
  *end = sl_log_end_offset(p->log);
  pthread_mutex_unlock(&p->mu);
}

int fs_part_mtime(fs_part *p, struct timespec *ts) {
  int rc = 0;
  pthread_mutex_lock(&p->mu);
  size_t n = sl_log_segments(p->log, NULL, 0);
  sl_log_segment_info *segs = n ? calloc(n, sizeof(*segs)) : NULL;
  char path[4096];
  struct stat st;
  if (n && segs == NULL) {
    rc = -ENOMEM;
  } else {
    int len;
    if (n) {
      n = sl_log_segments(p->log, segs, n);
      len = snprintf(path, sizeof(path), "%s/%020lld.log", p->dir,
                     (long long)segs[n - 1].base_offset);
    } else {
      len = snprintf(path, sizeof(path), "%s", p->dir);
    }
    if (len < 0 || (size_t)len >= sizeof(path))
      rc = -ENAMETOOLONG;
    else if (stat(path, &st) != 0 && stat(p->dir, &st) != 0)
      rc = -errno;
    else
      *ts = st.st_mtim;
  }
  free(segs);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int fs_part_offset_for_time(fs_part *p, int64_t ts_ms, int64_t *offset) {
  sl_diag d;
  int64_t ts;
  int rc;
  sl_diag_clear(&d);
  pthread_mutex_lock(&p->mu);
  rc = refresh_locked(p, -1);
  if (rc == 0) {
    rc = sl_log_find_offset_by_time(p->log, ts_ms, offset, &ts, &d);
    if (rc == SL_ENOT_FOUND) {
      *offset = sl_log_end_offset(p->log);
      rc = 0;
    } else if (rc < 0) {
      rc = log_diag(p, "finding an offset by time", &d);
    }
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

static int view_size_locked(fs_part *p, fs_view v, int64_t start, int64_t deadline_ns,
                            int64_t *size) {
  for (int tries = 0; tries < 3; tries++) {
    int64_t base = 0;
    int rc = refresh_until(p, v, deadline_ns, -1);
    if (rc == 0) {
      int64_t s = start;
      int64_t ls = sl_log_start_offset(p->log);
      if (s < ls)
        s = ls;
      rc = cum_at(p, v, s, &base);
    }
    if (rc == -EAGAIN)
      continue;
    if (rc < 0)
      return rc;
    *size = p->vx[v].end_cum - base;
    return 0;
  }
  return -EIO;
}

/* The arguments of a guarded public call (one struct for all of them). */
typedef struct part_call {
  fs_view v;
  int64_t start, pos, deadline_ns, offset;
  char *out;
  size_t len;
  fs_cursor *cur;
  int64_t *size;
} part_call;

static ssize_t call_view_size(fs_part *p, void *arg) {
  part_call *c = arg;
  return view_size_locked(p, c->v, c->start, c->deadline_ns, c->size);
}

int fs_part_view_size(fs_part *p, fs_view v, int64_t start, int64_t wait_ns,
                      int64_t *size, bool *exact) {
  part_call c = {.v = v, .start = start, .size = size};
  pthread_mutex_lock(&p->mu);
  c.deadline_ns = wait_ns > 0 ? mono_ns() + wait_ns : 0;
  int rc = (int)guarded(p, call_view_size, &c);
  if (exact)
    *exact = p->vx[v].complete;
  pthread_mutex_unlock(&p->mu);
  return rc;
}

static ssize_t call_count(fs_part *p, void *arg) {
  part_call *c = arg;
  int rc = 0;
  for (int tries = 0; tries < 3; tries++) {
    rc = index_extend_until(p, c->v, c->deadline_ns, -1);
    if (rc != -EAGAIN)
      break;
  }
  if (rc == 0)
    rc = p->vx[c->v].complete ? 1 : 0;
  return rc == -EAGAIN ? -EIO : rc;
}

int fs_part_count(fs_part *p, fs_view v, int64_t budget_ns) {
  part_call c = {.v = v};
  pthread_mutex_lock(&p->mu);
  c.deadline_ns = budget_ns > 0 ? mono_ns() + budget_ns : 0;
  int rc = (int)guarded(p, call_count, &c);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* A read that filled its buffer inside record rec (whose rendering starts at
 * view position at): the cursor and the walker remember it, so the next read
 * continues there. */
static ssize_t stop_in_record(const walker *w, const sl_record *rec, int64_t at,
                              fs_cursor *cur, size_t copied) {
  if (cur)
    *cur = (fs_cursor){w->p->gen, rec->offset, at, true};
  walker_save(w, rec, rec->offset);
  return (ssize_t)copied;
}

static ssize_t view_read_locked(fs_part *p, fs_view v, int64_t start, int64_t pos,
                                char *out, size_t len, fs_cursor *cur) {
  int64_t s = start, base, want;
  int64_t ls = sl_log_start_offset(p->log);
  int rc;
  if (s < ls)
    s = ls;
  if ((rc = cum_at(p, v, s, &base)) < 0)
    return rc;
  want = base + pos;
  if (want >= p->vx[v].end_cum) {
    /* At or past what is counted: pick up new records (tail -f), counting
     * only as far as this read needs (the rest is the background count's). */
    if ((rc = refresh_until(p, v, 0, want + (int64_t)len)) < 0)
      return rc;
    if ((rc = cum_at(p, v, s, &base)) < 0)
      return rc;
    want = base + pos;
  }
  const fs_idx_entry *e = &p->vx[v].idx[entry_for_pos(&p->vx[v], want)];
  int64_t from = e->offset, at = e->cum;
  if (cur && cur->valid && cur->gen == p->gen && cur->pos <= want && cur->pos >= at) {
    from = cur->offset;
    at = cur->pos;
  }
  walker w;
  sl_record rec;
  size_t copied = 0;
  int64_t last_end_offset = from;
  walker_init(&w, p, from);
  while (copied < len && (rc = walker_next(&w, &rec)) == 1) {
    int err = 0;
    int64_t rl;
    if (v != FS_VIEW_JSONL) {
      rl = rec_len(p, v, &w.r.h, &rec, &err);
      if (at + rl <= want + (int64_t)copied) {
        at += rl;
        last_end_offset = rec.offset + 1;
        continue;
      }
      if (v == FS_VIEW_DATA) {
        /* value + '\n' straight from the batch: no rendering copy */
        size_t in = (size_t)(want + (int64_t)copied - at), vl = (size_t)rl - 1;
        size_t n = (size_t)rl - in;
        if (n > len - copied)
          n = len - copied;
        size_t from_value = in < vl ? (vl - in < n ? vl - in : n) : 0;
        if (from_value)
          memcpy(out + copied, rec.value + in, from_value);
        if (n > from_value)
          out[copied + from_value] = '\n';
        copied += n;
        if (copied == len && in + n < (size_t)rl)
          return stop_in_record(&w, &rec, at, cur, copied);
        at += rl;
        last_end_offset = rec.offset + 1;
        continue;
      }
      err = render(p, v, &w.r.h, &rec);
    } else {
      err = render(p, v, &w.r.h, &rec);
    }
    if (err)
      return err;
    rl = (int64_t)p->scratch.len;
    int64_t need = want + (int64_t)copied;
    if (at + rl > need) {
      size_t in = (size_t)(need - at);
      size_t n = (size_t)rl - in;
      if (n > len - copied)
        n = len - copied;
      memcpy(out + copied, p->scratch.data + in, n);
      copied += n;
      if (copied == len && in + n < (size_t)rl)
        return stop_in_record(&w, &rec, at, cur, copied);
    }
    at += rl;
    last_end_offset = rec.offset + 1;
  }
  if (copied < len && rc == -FS_ESTALE_INDEX) {
    index_reset(p);
    return -EAGAIN;
  }
  if (copied < len && rc < 0)
    return rc;
  if (cur)
    *cur = (fs_cursor){p->gen, last_end_offset, at, true};
  if (copied == len && w.batch_open)
    walker_save(&w, NULL, last_end_offset); /* stopped between two records */
  return (ssize_t)copied;
}

static ssize_t call_view_read(fs_part *p, void *arg) {
  part_call *c = arg;
  ssize_t rc = -EIO;
  for (int tries = 0; tries < 3; tries++) {
    rc = view_read_locked(p, c->v, c->start, c->pos, c->out, c->len, c->cur);
    if (rc > 0 && p->resume_valid)
      ahead_request(p); /* a sequential reader: its next slice */
    if (rc != -EAGAIN)
      break;
    if (c->cur)
      c->cur->valid = false;
  }
  return rc == -EAGAIN ? -EIO : rc;
}

ssize_t fs_part_view_read(fs_part *p, fs_view v, int64_t start, int64_t pos, char *out,
                          size_t len, fs_cursor *cur) {
  part_call c = {.v = v, .start = start, .pos = pos, .out = out, .len = len, .cur = cur};
  pthread_mutex_lock(&p->mu);
  ssize_t rc = guarded(p, call_view_read, &c);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

static ssize_t call_record_value(fs_part *p, void *arg) {
  part_call *c = arg;
  sl_diag d;
  sl_diag_clear(&d);
  if (sl_log_refresh(p->log, &d) < 0)
    return log_diag(p, "refreshing the log", &d);
  if (c->offset < sl_log_start_offset(p->log) || c->offset >= sl_log_end_offset(p->log))
    return -ENOENT;
  walker w;
  sl_record rec;
  walker_init(&w, p, c->offset);
  int rc = walker_next(&w, &rec);
  if (rc == -FS_ESTALE_INDEX || rc == 0 || (rc == 1 && rec.offset != c->offset))
    return -ENOENT;
  if (rc < 0)
    return rc;
  int64_t vl = rec.value_len > 0 ? rec.value_len : 0;
  *c->size = vl;
  if (c->out == NULL || c->pos >= vl)
    return 0;
  size_t n = (size_t)(vl - c->pos);
  if (n > c->len)
    n = c->len;
  memcpy(c->out, rec.value + c->pos, n);
  return (ssize_t)n;
}

ssize_t fs_part_record_value(fs_part *p, int64_t offset, int64_t pos, char *out,
                             size_t len, int64_t *size) {
  part_call c = {.offset = offset, .pos = pos, .out = out, .len = len, .size = size};
  pthread_mutex_lock(&p->mu);
  ssize_t rc = guarded(p, call_record_value, &c);
  pthread_mutex_unlock(&p->mu);
  return rc;
}
