/*
 * seglogfs.c - the FUSE mount: a Kafka log directory (the offline back end,
 * through libseglog, read-only) shown as a tree of topics, partitions and
 * record views.  The tree, the views, sizes, inode numbers, time stamps,
 * caching and errors are documented in docs/FUSE.md.
 *
 *   seglogfs [-f] [-o ro,...] DIR MOUNTPOINT
 *
 * Paths are parsed into a fs_node (what the path names); partitions are opened
 * lazily (read-only, no lock) on first use and kept (fs_part.c).  The mount
 * is always read-only: the kernel refuses writes with EROFS and every
 * modifying operation here answers EROFS as well.
 */
/* 3.12: fuse_loop_cfg_* (an explicit thread limit). */
#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <fuse_lowlevel.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs_broker.h"
#include "fs_part.h"
#include "fs_tree.h"

/* ---- the mount's state ---- */

typedef struct fs_ctx {
  char *dir; /* the log directory (absolute) */
  pthread_mutex_t mu;
  fs_part **parts;
  size_t n_parts, cap_parts;
  pthread_mutex_t lmu; /* the cached listing of dir (scan_partitions) */
  char **names;
  size_t n_names;
  bool names_valid, names_age_ok;
  struct timespec names_mtime;
  /* the background counter: views whose first stat stopped counting early */
  int64_t size_wait_ns;
  pthread_mutex_t cmu;
  pthread_cond_t ccv;
  struct count_job *jobs;
  size_t n_jobs, cap_jobs;
  bool counter_stop, counter_on;
  pthread_t counter;
  fs_hlist open_fhs; /* freed by op_destroy if the kernel never released them */
} fs_ctx;

typedef struct count_job {
  fs_part *p;
  fs_view v;
} count_job;

#define FS_COUNT_STEP_NS 5000000LL /* the counter holds a partition this long */

/* Queues view v of p for the background counter (once). */
static void count_enqueue(fs_ctx *c, fs_part *p, fs_view v) {
  pthread_mutex_lock(&c->cmu);
  bool queued = false;
  for (size_t i = 0; i < c->n_jobs && !queued; i++)
    queued = c->jobs[i].p == p && c->jobs[i].v == v;
  if (!queued && c->counter_on) {
    if (c->n_jobs == c->cap_jobs) {
      size_t cap = c->cap_jobs ? c->cap_jobs * 2 : 16;
      count_job *nj = realloc(c->jobs, cap * sizeof(*nj));
      if (nj) {
        c->jobs = nj;
        c->cap_jobs = cap;
      }
    }
    if (c->n_jobs < c->cap_jobs) {
      c->jobs[c->n_jobs++] = (count_job){p, v};
      pthread_cond_signal(&c->ccv);
    }
  }
  pthread_mutex_unlock(&c->cmu);
}

/* Counts queued views to their end, FS_COUNT_STEP_NS at a time (readers of
 * the partition get the lock between steps).  A job stays queued (first in
 * line) until its view is counted, so enqueueing it again is a no-op. */
static void *counter_main(void *arg) {
  fs_ctx *c = arg;
  pthread_mutex_lock(&c->cmu);
  for (;;) {
    while (!c->counter_stop && c->n_jobs == 0)
      pthread_cond_wait(&c->ccv, &c->cmu);
    if (c->counter_stop)
      break;
    count_job j = c->jobs[0];
    pthread_mutex_unlock(&c->cmu);
    int rc;
    do
      rc = fs_part_count(j.p, j.v, FS_COUNT_STEP_NS);
    while (rc == 0 && !__atomic_load_n(&c->counter_stop, __ATOMIC_RELAXED));
    pthread_mutex_lock(&c->cmu);
    for (size_t i = 0; i < c->n_jobs; i++) {
      if (c->jobs[i].p == j.p && c->jobs[i].v == j.v) {
        memmove(&c->jobs[i], &c->jobs[i + 1], (c->n_jobs - i - 1) * sizeof(count_job));
        c->n_jobs--;
        break;
      }
    }
  }
  pthread_mutex_unlock(&c->cmu);
  return NULL;
}

static fs_ctx *ctx_get(void) {
  return fuse_get_context()->private_data;
}

/* Joins dir and name; -ENAMETOOLONG when it does not fit. */
static int join(char *out, size_t cap, const char *dir, const char *name) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* "<topic>-<partition>": splits a partition dir name. */
static bool split_partition_dir(const char *name, size_t *topic_len, int32_t *part) {
  const char *dash = strrchr(name, '-');
  int64_t n;
  if (dash == NULL || !fs_parse_uint(dash + 1, INT32_MAX, &n))
    return false;
  *topic_len = (size_t)(dash - name);
  *part = (int32_t)n;
  return fs_topic_name_ok(name, *topic_len);
}

/* The partition, opened on first use; -ENOENT when its dir is gone. */
static int part_get(fs_ctx *c, const char *topic, int32_t partition, fs_part **out) {
  char path[PATH_MAX], name[300];
  struct stat st;
  int rc;
  int n = snprintf(name, sizeof(name), "%s-%d", topic, (int)partition);
  if (n < 0 || (size_t)n >= sizeof(name))
    return -ENOENT;
  if ((rc = join(path, sizeof(path), c->dir, name)) < 0)
    return rc;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return -ENOENT;
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->n_parts; i++) {
    fs_part *p = c->parts[i];
    if (p->partition == partition && strcmp(p->topic, topic) == 0) {
      *out = p;
      pthread_mutex_unlock(&c->mu);
      return 0;
    }
  }
  if (c->n_parts == c->cap_parts) {
    size_t cap = c->cap_parts ? c->cap_parts * 2 : 16;
    fs_part **np = realloc(c->parts, cap * sizeof(*np));
    if (np == NULL) {
      pthread_mutex_unlock(&c->mu);
      return -ENOMEM;
    }
    c->parts = np;
    c->cap_parts = cap;
  }
  rc = fs_part_open(path, topic, partition, out);
  if (rc == 0)
    c->parts[c->n_parts++] = *out;
  pthread_mutex_unlock(&c->mu);
  return rc;
}

/*
 * The log directory's partition dir names, sorted, cached while the
 * directory's mtime stays what it was when they were read (an entry added or
 * removed changes it).  File times are coarse (a clock tick), so a listing
 * read less than FS_LIST_SETTLE_NS after the last change is not trusted: a
 * change in the same tick would leave the mtime as it was.  `ls -R` of many
 * topics then reads the directory once instead of once per topic.
 */
#define FS_LIST_SETTLE_NS 50000000LL

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_free(fs_ctx *c) {
  for (size_t i = 0; i < c->n_names; i++)
    free(c->names[i]);
  free(c->names);
  c->names = NULL;
  c->n_names = 0;
  c->names_valid = false;
}

/* c->lmu held. */
static int list_refresh(fs_ctx *c) {
  struct stat st;
  struct timespec now;
  if (stat(c->dir, &st) != 0) {
    fs_log("reading the log directory %s: %s", c->dir, strerror(errno));
    return -EIO;
  }
  clock_gettime(CLOCK_REALTIME, &now);
  long long age = (long long)(now.tv_sec - st.st_mtim.tv_sec) * 1000000000LL +
                  (now.tv_nsec - st.st_mtim.tv_nsec);
  if (c->names_valid && st.st_mtim.tv_sec == c->names_mtime.tv_sec &&
      st.st_mtim.tv_nsec == c->names_mtime.tv_nsec && c->names_age_ok)
    return 0;
  DIR *d = opendir(c->dir);
  if (d == NULL) {
    fs_log("reading the log directory %s: %s", c->dir, strerror(errno));
    return -EIO;
  }
  list_free(c);
  size_t cap = 0;
  struct dirent *de;
  int rc = 0;
  while ((de = readdir(d)) != NULL) {
    size_t tl;
    int32_t part;
    if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
      continue;
    if (!split_partition_dir(de->d_name, &tl, &part))
      continue;
    if (c->n_names == cap) {
      cap = cap ? cap * 2 : 256;
      char **nn = realloc(c->names, cap * sizeof(*nn));
      if (nn == NULL) {
        rc = -ENOMEM;
        break;
      }
      c->names = nn;
    }
    size_t len = strlen(de->d_name) + 1;
    if ((c->names[c->n_names] = malloc(len)) == NULL) {
      rc = -ENOMEM;
      break;
    }
    memcpy(c->names[c->n_names++], de->d_name, len);
  }
  closedir(d);
  if (rc < 0) {
    list_free(c);
    return rc;
  }
  if (c->n_names)
    qsort(c->names, c->n_names, sizeof(char *), name_cmp);
  c->names_valid = true;
  c->names_mtime = st.st_mtim;
  c->names_age_ok = age >= FS_LIST_SETTLE_NS;
  return 0;
}

/* Calls cb for every partition dir of the log dir (topic == NULL: all). */
typedef int (*part_dir_cb)(void *arg, const char *topic, size_t topic_len, int32_t part);
static int scan_partitions(fs_ctx *c, const char *topic, part_dir_cb cb, void *arg) {
  pthread_mutex_lock(&c->lmu);
  int rc = list_refresh(c);
  size_t i = 0, tlen = topic ? strlen(topic) : 0;
  if (rc == 0 && topic) {
    /* the first name >= "<topic>-": the topic's dirs follow it */
    char key[300];
    snprintf(key, sizeof(key), "%s-", topic);
    size_t lo = 0, hi = c->n_names;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (strcmp(c->names[mid], key) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    i = lo;
  }
  for (; rc == 0 && i < c->n_names; i++) {
    const char *name = c->names[i];
    size_t tl;
    int32_t part;
    if (topic && (strncmp(name, topic, tlen) != 0 || name[tlen] != '-'))
      break;
    if (!split_partition_dir(name, &tl, &part) || (topic && tl != tlen))
      continue;
    rc = cb(arg, name, tl, part);
  }
  pthread_mutex_unlock(&c->lmu);
  return rc;
}

/* ---- paths ---- */

/* ---- small text files ---- */

typedef struct count_arg {
  int count;
} count_arg;

static int count_cb(void *arg, const char *topic, size_t tl, int32_t part) {
  ((count_arg *)arg)->count++;
  return 0;
}

static int topic_exists(fs_ctx *c, const char *topic) {
  /* Fast path (ls -l of many topics): most topics have a partition 0. */
  char path[PATH_MAX], name[300];
  struct stat st;
  int k = snprintf(name, sizeof(name), "%s-0", topic);
  if (k > 0 && (size_t)k < sizeof(name) && join(path, sizeof(path), c->dir, name) == 0 &&
      stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return 0;
  count_arg a = {0};
  int rc = scan_partitions(c, topic, count_cb, &a);
  if (rc < 0)
    return rc;
  return a.count > 0 ? 0 : -ENOENT;
}

/* config: what the log directory knows about the topic. */
static int render_config(fs_ctx *c, const char *topic, char *buf, size_t cap,
                         size_t *len) {
  count_arg a = {0};
  int rc = scan_partitions(c, topic, count_cb, &a);
  if (rc < 0)
    return rc;
  if (a.count == 0)
    return -ENOENT;
  int n = snprintf(buf, cap, "topic=%s\npartitions=%d\n", topic, a.count);
  if (n < 0 || (size_t)n >= cap)
    return -EIO;
  size_t used = (size_t)n;
  /* topic.id from partition.metadata ("topic_id: <base64 uuid>") of any partition */
  char path[PATH_MAX], name[300];
  for (int32_t p = 0; p < 64; p++) {
    int k = snprintf(name, sizeof(name), "%s-%d/partition.metadata", topic, (int)p);
    if (k < 0 || (size_t)k >= sizeof(name) || join(path, sizeof(path), c->dir, name) < 0)
      break;
    FILE *f = fopen(path, "r");
    if (f == NULL)
      continue;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
      if (strncmp(line, "topic_id: ", 10) == 0) {
        size_t l = strcspn(line + 10, "\r\n");
        k = snprintf(buf + used, cap - used, "topic.id=%.*s\n", (int)l, line + 10);
        if (k > 0 && (size_t)k < cap - used)
          used += (size_t)k;
      }
    }
    fclose(f);
    break;
  }
  *len = used;
  return 0;
}

static int render_text(fs_ctx *c, const fs_node *n, char *buf, size_t cap, size_t *len) {
  if (n->kind == N_CONFIG)
    return render_config(c, n->topic, buf, cap, len);
  fs_part *p;
  int rc = part_get(c, n->topic, n->part, &p);
  if (rc < 0)
    return rc;
  if ((rc = fs_part_refresh(p)) < 0)
    return rc;
  int64_t start, end;
  fs_part_offsets(p, &start, &end);
  int k = snprintf(buf, cap, "%lld\n", (long long)(n->kind == N_EARLIEST ? start : end));
  if (k < 0 || (size_t)k >= cap)
    return -EIO;
  *len = (size_t)k;
  return 0;
}

/* ---- FUSE operations ---- */

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  cfg->use_ino = 1;
  cfg->readdir_ino = 1;
  cfg->attr_timeout = 0;     /* sizes grow: ask every time */
  cfg->entry_timeout = 1.0;  /* names are stable */
  cfg->negative_timeout = 0; /* a new topic shows up at once */
  cfg->direct_io = 1;        /* reads go to us: see docs/FUSE.md ("Caching") */
  fs_ctx *c = ctx_get();
  /* started here: fuse_daemonize has forked by now */
  if (pthread_create(&c->counter, NULL, counter_main, c) == 0)
    c->counter_on = true;
  return c;
}

static void fh_free_all(fs_ctx *c);

static void op_destroy(void *private_data) {
  fs_ctx *c = private_data;
  if (c->counter_on) {
    pthread_mutex_lock(&c->cmu);
    __atomic_store_n(&c->counter_stop, true, __ATOMIC_RELAXED);
    pthread_cond_signal(&c->ccv);
    pthread_mutex_unlock(&c->cmu);
    pthread_join(c->counter, NULL);
    c->counter_on = false;
  }
  free(c->jobs);
  c->jobs = NULL;
  c->n_jobs = 0;
  fs_part_ahead_stop(); /* before the partitions it may be reading go */
  fh_free_all(c);
  for (size_t i = 0; i < c->n_parts; i++)
    fs_part_free(c->parts[i]);
  free(c->parts);
  c->parts = NULL;
  c->n_parts = 0;
  list_free(c);
}

/* The view's start offset: the partition start, or the first at/after TIME. */
static int view_start(fs_part *p, const fs_node *n, int64_t *start) {
  if (!n->has_time) {
    *start = 0; /* clamped to the log start */
    return 0;
  }
  return fs_part_offset_for_time(p, n->time_ms, start);
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  fs_ctx *c = ctx_get();
  fs_node n;
  int rc = fs_parse_path(path, false, &n);
  struct stat ds;
  struct timespec t;
  fs_part *p = NULL;
  if (rc < 0)
    return rc;
  if (stat(c->dir, &ds) != 0)
    return -EIO;
  t = ds.st_mtim;
  switch (n.kind) {
  case N_ROOT:
    fs_fill_dir(st, path, 0555, &t);
    return 0;
  case N_TOPIC:
    if ((rc = topic_exists(c, n.topic)) < 0)
      return rc;
    fs_fill_dir(st, path, 0555, &t);
    return 0;
  case N_CONFIG: {
    char buf[1024];
    size_t len;
    if ((rc = render_config(c, n.topic, buf, sizeof(buf), &len)) < 0)
      return rc;
    fs_fill_file(st, path, 0444, (int64_t)len, &t);
    return 0;
  }
  default:
    break;
  }
  if ((rc = part_get(c, n.topic, n.part, &p)) < 0)
    return rc;
  if ((rc = fs_part_mtime(p, &t)) < 0)
    return rc;
  switch (n.kind) {
  case N_PART:
  case N_OFFSETS_DIR:
  case N_AT_DIR:
  case N_AT_TIME:
  case N_SEGMENTS_DIR:
    fs_fill_dir(st, path, 0555, &t);
    return 0;
  case N_VIEW: {
    int64_t start, size;
    bool exact = true;
    if ((rc = view_start(p, &n, &start)) < 0 ||
        (rc = fs_part_view_size(p, n.view, start, c->size_wait_ns, &size, &exact)) < 0)
      return rc;
    if (!exact)
      count_enqueue(c, p, n.view);
    fs_fill_file(st, path, 0444, size, &t);
    return 0;
  }
  case N_EARLIEST:
  case N_LATEST: {
    char buf[64];
    size_t len;
    if ((rc = render_text(c, &n, buf, sizeof(buf), &len)) < 0)
      return rc;
    fs_fill_file(st, path, 0444, (int64_t)len, &t);
    return 0;
  }
  case N_OFFSET: {
    int64_t size;
    ssize_t r = fs_part_record_value(p, n.offset, 0, NULL, 0, &size);
    if (r < 0)
      return (int)r;
    fs_fill_file(st, path, 0444, size, &t);
    return 0;
  }
  case N_SEGMENT: {
    char real[PATH_MAX];
    struct stat rs;
    if ((rc = join(real, sizeof(real), p->dir, n.seg)) < 0)
      return rc;
    if (lstat(real, &rs) != 0 || !S_ISREG(rs.st_mode))
      return -ENOENT;
    fs_fill_file(st, path, 0444, rs.st_size, &rs.st_mtim);
    return 0;
  }
  default:
    return -ENOENT;
  }
}

typedef struct fs_fh {
  fs_hnode node; /* first: fs_ctx.open_fhs */
  fs_node n;
  fs_part *p;
  int64_t start;
  fs_cursor cur;
  int fd;
} fs_fh;

static void fh_free(fs_fh *fh) {
  if (fh->fd >= 0)
    close(fh->fd);
  free(fh);
}

/* At unmount: the handles the kernel never sent a RELEASE for. */
static void fh_free_all(fs_ctx *c) {
  fs_hnode *h;
  while ((h = fs_hlist_pop(&c->open_fhs)) != NULL)
    fh_free((fs_fh *)h);
}

static int op_open(const char *path, struct fuse_file_info *fi) {
  fs_ctx *c = ctx_get();
  fs_node n;
  int rc;
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
    return -EROFS;
  if ((rc = fs_parse_path(path, false, &n)) < 0)
    return rc;
  if (n.kind == N_ROOT || n.kind == N_TOPIC || n.kind == N_PART ||
      n.kind == N_OFFSETS_DIR || n.kind == N_AT_DIR || n.kind == N_AT_TIME ||
      n.kind == N_SEGMENTS_DIR)
    return -EISDIR;
  fs_fh *fh = calloc(1, sizeof(*fh));
  if (fh == NULL)
    return -ENOMEM;
  fh->n = n;
  fh->fd = -1;
  if (n.kind != N_CONFIG && (rc = part_get(c, n.topic, n.part, &fh->p)) < 0)
    goto fail;
  if (n.kind == N_VIEW && (rc = view_start(fh->p, &n, &fh->start)) < 0)
    goto fail;
  if (n.kind == N_SEGMENT) {
    char real[PATH_MAX];
    if ((rc = join(real, sizeof(real), fh->p->dir, n.seg)) < 0)
      goto fail;
    fh->fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fh->fd < 0) {
      rc = errno == ENOENT ? -ENOENT : -EIO;
      if (rc == -EIO)
        fs_log("opening %s: %s", real, strerror(errno));
      goto fail;
    }
  }
  fs_hlist_add(&c->open_fhs, &fh->node);
  fi->fh = (uint64_t)(uintptr_t)fh;
  fi->direct_io = 1;
  fi->keep_cache = 0;
  return 0;
fail:
  free(fh);
  return rc;
}

static int op_read(const char *path, char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi) {
  fs_fh *fh = (fs_fh *)(uintptr_t)fi->fh;
  fs_ctx *c = ctx_get();
  int rc;
  if (off < 0)
    return -EINVAL;
  switch (fh->n.kind) {
  case N_VIEW: {
    ssize_t r = fs_part_view_read(fh->p, fh->n.view, fh->start, off, buf, size, &fh->cur);
    return (int)r;
  }
  case N_OFFSET: {
    int64_t vs;
    ssize_t r = fs_part_record_value(fh->p, fh->n.offset, off, buf, size, &vs);
    return (int)r;
  }
  case N_SEGMENT: {
    size_t done = 0;
    while (done < size) {
      ssize_t r = pread(fh->fd, buf + done, size - done, off + (off_t)done);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0) {
        fs_log("reading %s/%s: %s", fh->p->dir, fh->n.seg, strerror(errno));
        return -EIO;
      }
      if (r == 0)
        break;
      done += (size_t)r;
    }
    return (int)done;
  }
  default: {
    char text[1024];
    size_t len;
    if ((rc = render_text(c, &fh->n, text, sizeof(text), &len)) < 0)
      return rc;
    if ((size_t)off >= len)
      return 0;
    size_t k = len - (size_t)off < size ? len - (size_t)off : size;
    memcpy(buf, text + off, k);
    return (int)k;
  }
  }
}

static int op_release(const char *path, struct fuse_file_info *fi) {
  fs_fh *fh = (fs_fh *)(uintptr_t)fi->fh;
  if (fh) {
    fs_hlist_remove(&ctx_get()->open_fhs, &fh->node);
    fh_free(fh);
  }
  return 0;
}

typedef struct dir_fill {
  void *buf;
  fuse_fill_dir_t filler;
  const char *path;
  /* topic names already listed (root): sorted insertion is overkill; a
   * small open-addressing set keeps `ls` of many topics linear */
  char **seen;
  size_t cap;
  size_t n;
} dir_fill;

static int add_entry(dir_fill *f, const char *name, mode_t type) {
  char child[PATH_MAX];
  struct stat st;
  int k =
      snprintf(child, sizeof(child), "%s/%s", strcmp(f->path, "/") ? f->path : "", name);
  if (k < 0 || (size_t)k >= sizeof(child))
    return 0;
  memset(&st, 0, sizeof(st));
  st.st_ino = fs_path_ino(child);
  st.st_mode = type;
  return f->filler(f->buf, name, &st, 0, 0) ? 1 : 0;
}

static uint64_t hash_str(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static int topic_cb(void *arg, const char *name, size_t tl, int32_t part) {
  dir_fill *f = arg;
  if (f->n * 2 >= f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 256;
    char **ns = calloc(cap, sizeof(*ns));
    if (ns == NULL)
      return -ENOMEM;
    for (size_t i = 0; i < f->cap; i++) {
      if (f->seen[i] == NULL)
        continue;
      size_t j = hash_str(f->seen[i], strlen(f->seen[i])) & (cap - 1);
      while (ns[j])
        j = (j + 1) & (cap - 1);
      ns[j] = f->seen[i];
    }
    free(f->seen);
    f->seen = ns;
    f->cap = cap;
  }
  size_t j = hash_str(name, tl) & (f->cap - 1);
  for (; f->seen[j]; j = (j + 1) & (f->cap - 1))
    if (strlen(f->seen[j]) == tl && memcmp(f->seen[j], name, tl) == 0)
      return 0;
  char *t = malloc(tl + 1);
  if (t == NULL)
    return -ENOMEM;
  memcpy(t, name, tl);
  t[tl] = 0;
  f->seen[j] = t;
  f->n++;
  add_entry(f, t, S_IFDIR);
  return 0;
}

static int partition_cb(void *arg, const char *name, size_t tl, int32_t part) {
  char num[16];
  snprintf(num, sizeof(num), "%d", (int)part);
  add_entry(arg, num, S_IFDIR);
  return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  fs_ctx *c = ctx_get();
  fs_node n;
  int rc = fs_parse_path(path, false, &n);
  dir_fill f = {buf, filler, path, NULL, 0, 0};
  fs_part *p;
  if (rc < 0)
    return rc;
  filler(buf, ".", NULL, 0, 0);
  filler(buf, "..", NULL, 0, 0);
  switch (n.kind) {
  case N_ROOT:
    rc = scan_partitions(c, NULL, topic_cb, &f);
    for (size_t i = 0; i < f.cap; i++)
      free(f.seen[i]);
    free(f.seen);
    return rc;
  case N_TOPIC:
    if ((rc = topic_exists(c, n.topic)) < 0)
      return rc;
    add_entry(&f, "config", S_IFREG);
    return scan_partitions(c, n.topic, partition_cb, &f);
  case N_PART:
  case N_AT_TIME:
    if ((rc = part_get(c, n.topic, n.part, &p)) < 0)
      return rc;
    for (int i = 0; i < FS_NVIEWS; i++)
      add_entry(&f, fs_view_names[i], S_IFREG);
    if (n.kind == N_PART) {
      add_entry(&f, "earliest", S_IFREG);
      add_entry(&f, "latest", S_IFREG);
      add_entry(&f, "offsets", S_IFDIR);
      add_entry(&f, "at", S_IFDIR);
      add_entry(&f, "segments", S_IFDIR);
    }
    return 0;
  case N_OFFSETS_DIR:
  case N_AT_DIR:
    /* Looked up by name only (an offset, a time): see docs/FUSE.md. */
    return part_get(c, n.topic, n.part, &p);
  case N_SEGMENTS_DIR: {
    if ((rc = part_get(c, n.topic, n.part, &p)) < 0)
      return rc;
    DIR *d = opendir(p->dir);
    struct dirent *de;
    if (d == NULL)
      return -ENOENT;
    while ((de = readdir(d)) != NULL)
      if (strlen(de->d_name) < 64 && fs_segment_name_ok(de->d_name))
        add_entry(&f, de->d_name, S_IFREG);
    closedir(d);
    return 0;
  }
  default:
    return -ENOTDIR;
  }
}

static int op_opendir(const char *path, struct fuse_file_info *fi) {
  return 0;
}

/* Everything that would modify the tree: the mount is read-only. */
static int op_mknod(const char *path, mode_t mode, dev_t dev) {
  return -EROFS;
}
static int op_mkdir(const char *path, mode_t mode) {
  return -EROFS;
}
static int op_unlink(const char *path) {
  return -EROFS;
}
static int op_rmdir(const char *path) {
  return -EROFS;
}
static int op_symlink(const char *from, const char *to) {
  return -EROFS;
}
static int op_rename(const char *from, const char *to, unsigned int flags) {
  return -EROFS;
}
static int op_link(const char *from, const char *to) {
  return -EROFS;
}
static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  return -EROFS;
}
static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  return -EROFS;
}
static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  return -EROFS;
}
static int op_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi) {
  return -EROFS;
}
static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  return -EROFS;
}
static int op_utimens(const char *path, const struct timespec tv[2],
                      struct fuse_file_info *fi) {
  return -EROFS;
}

static const struct fuse_operations fs_ops = {
    .init = op_init,
    .destroy = op_destroy,
    .getattr = op_getattr,
    .open = op_open,
    .read = op_read,
    .release = op_release,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .chmod = op_chmod,
    .chown = op_chown,
    .truncate = op_truncate,
    .write = op_write,
    .create = op_create,
    .utimens = op_utimens,
};

/* ---- command line ---- */

typedef struct fs_opts {
  char *dir;
  char *broker;
  int nonopts;
  bool foreground;
  bool help;
  fb_opts b;             /* broker mode's -o options */
  unsigned size_wait_ms; /* offline: -o size_wait=MS (FS_SIZE_WAIT_MS) */
} fs_opts;

/* How long a stat of a view counts before answering with the bytes counted
 * so far (docs/FUSE.md, "Sizes of large partitions"). */
#define FS_SIZE_WAIT_MS 100

enum { KEY_HELP, KEY_FOREGROUND, KEY_RO };

#define FS_BOPT(t, f, v)                                                                 \
  { t, offsetof(fs_opts, b) + offsetof(fb_opts, f), v }
static const struct fuse_opt fs_opt_spec[] = {
    {"-b %s", offsetof(fs_opts, broker), 0},
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-f", KEY_FOREGROUND),
    FUSE_OPT_KEY("-d", KEY_FOREGROUND),
    FUSE_OPT_KEY("ro", KEY_RO),
    FS_BOPT("allow_delete", allow_delete, 1),
    FS_BOPT("metadata_ttl=%u", metadata_ttl_ms, 0),
    FS_BOPT("delivery_timeout=%u", delivery_timeout_ms, 0),
    FS_BOPT("partitions=%d", partitions, 0),
    FS_BOPT("replication=%d", replication, 0),
    {"size_wait=%u", offsetof(fs_opts, size_wait_ms), 0},
    FUSE_OPT_END};

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs) {
  fs_opts *o = data;
  switch (key) {
  case KEY_HELP:
    o->help = true;
    return 0;
  case KEY_FOREGROUND:
    o->foreground = true;
    return 1;
  case KEY_RO:
    o->b.read_only = true;
    return 1;
  case FUSE_OPT_KEY_NONOPT:
    if (o->nonopts++ == 0 && o->broker == NULL) {
      o->dir = strdup(arg);
      return 0;
    }
    return 1;
  default:
    return 1;
  }
}

static void usage(const char *prog) {
  fprintf(
      stderr,
      "usage: %s [-f] [-d] [-o OPTION[,...]] DIR MOUNTPOINT\n"
      "       %s -b HOST:PORT[,...] [-f] [-d] [-o OPTION[,...]] MOUNTPOINT\n"
      "Shows the Kafka log directory DIR (read-only), or a cluster (broker mode:\n"
      "read, append with >>, mkdir creates topics) as files: see docs/FUSE.md.\n"
      "  -f            stay in the foreground (log lines on stderr; else syslog)\n"
      "  -d            debug (implies -f)\n"
      "  -o OPTIONS    FUSE mount options (allow_other, ro, ...); DIR is always ro\n"
      "broker mode -o options:\n"
      "  allow_delete          rmdir of a topic deletes it (else EPERM)\n"
      "  partitions=N          partitions of a topic made by mkdir (default: the\n"
      "                        broker's num.partitions)\n"
      "  replication=N         its replication factor (default: the broker's)\n"
      "  delivery_timeout=MS   a write fails (EIO) after MS without delivery (30000)\n"
      "  metadata_ttl=MS       topic list cache (1000)\n"
      "Unmount with `fusermount3 -u MOUNTPOINT` or SIGTERM.\n",
      prog, prog);
}

/* Mounts, serves until fusermount3 -u or a signal (SIGTERM, SIGINT, SIGHUP:
 * libfuse's handlers end the loop), unmounts.  0 on a clean end. */
static int run(struct fuse_args *args, const struct fuse_operations *ops, void *ctx) {
  struct fuse_cmdline_opts co;
  struct fuse *f = NULL;
  int rc = 1;
  memset(&co, 0, sizeof(co));
  if (fuse_parse_cmdline(args, &co) != 0)
    return 2;
  if (co.mountpoint == NULL) {
    fprintf(stderr, "seglogfs: no mount point\n");
    goto done;
  }
  f = fuse_new(args, ops, sizeof(*ops), ctx);
  if (f == NULL)
    goto done;
  if (fuse_mount(f, co.mountpoint) != 0)
    goto done;
  fs_log_use_syslog(!co.foreground);
  if (fuse_daemonize(co.foreground) != 0) {
    fuse_unmount(f);
    goto done;
  }
  struct fuse_session *se = fuse_get_session(f);
  if (fuse_set_signal_handlers(se) != 0) {
    fuse_unmount(f);
    goto done;
  }
  int res;
  if (co.singlethread) {
    res = fuse_loop(f);
  } else {
    struct fuse_loop_config *lc = fuse_loop_cfg_create();
    if (lc == NULL) {
      res = -ENOMEM;
    } else {
      fuse_loop_cfg_set_clone_fd(lc, (unsigned)co.clone_fd);
      fuse_loop_cfg_set_max_threads(
          lc, co.max_threads >= 1 && co.max_threads <= 1000 ? co.max_threads : 16);
      fuse_loop_cfg_set_idle_threads(lc, co.max_idle_threads >= 1 &&
                                                 co.max_idle_threads <= 1000
                                             ? co.max_idle_threads
                                             : 4);
      res = fuse_loop_mt(f, lc);
      fuse_loop_cfg_destroy(lc);
    }
  }
  fuse_remove_signal_handlers(se);
  fuse_unmount(f);
  /* A signal that ended the loop (res > 0) is a clean end as well. */
  rc = res < 0 ? 1 : 0;
  if (res < 0)
    fs_log("the FUSE loop failed: %s", strerror(-res));
done:
  if (f)
    fuse_destroy(f);
  free(co.mountpoint);
  return rc;
}

/* Broker mode: checks that the cluster answers, then mounts read-write
 * (unless -o ro). */
static int run_broker(struct fuse_args *args, fs_opts *o) {
  char err[512], fsname[600];
  fb_ctx *bc = NULL;
  int rc = 1;
  if (o->nonopts != 1) {
    usage("seglogfs");
    return 2;
  }
  if (o->b.metadata_ttl_ms == 0)
    o->b.metadata_ttl_ms = 1000;
  if (o->b.delivery_timeout_ms == 0)
    o->b.delivery_timeout_ms = 30000;
  o->b.size_wait_ms = o->size_wait_ms == UINT32_MAX ? FS_SIZE_WAIT_MS : o->size_wait_ms;
  if (o->b.partitions < 0 || o->b.replication < 0) {
    fprintf(stderr, "seglogfs: partitions and replication must be positive\n");
    return 2;
  }
  if (fb_check(o->broker, err, sizeof(err)) != 0) {
    fprintf(stderr, "seglogfs: %s\n", err);
    return 1;
  }
  int k =
      snprintf(fsname, sizeof(fsname),
               "-odefault_permissions,subtype=seglogfs,fsname=seglogfs:%s", o->broker);
  if (k < 0 || (size_t)k >= sizeof(fsname) || strchr(o->broker, ','))
    k = snprintf(fsname, sizeof(fsname), "-odefault_permissions,subtype=seglogfs");
  if (fuse_opt_add_arg(args, fsname) != 0 || fb_ctx_new(o->broker, &o->b, &bc) != 0)
    return 1;
  rc = run(args, &fb_ops, bc);
  fb_ctx_free(bc);
  return rc;
}

int main(int argc, char **argv) {
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  fs_opts o = {0};
  fs_ctx ctx;
  int rc = 2;
  memset(&ctx, 0, sizeof(ctx));
  pthread_mutex_init(&ctx.mu, NULL);
  pthread_mutex_init(&ctx.lmu, NULL);
  pthread_mutex_init(&ctx.cmu, NULL);
  fs_hlist_init(&ctx.open_fhs);
  pthread_cond_init(&ctx.ccv, NULL);
  o.size_wait_ms = UINT32_MAX;
  if (fuse_opt_parse(&args, &o, fs_opt_spec, opt_proc) != 0)
    goto done;
  if (o.help) {
    usage(argv[0]);
    rc = 0;
    goto done;
  }
  if (o.broker) {
    rc = run_broker(&args, &o);
    goto done;
  }
  if (o.dir == NULL || o.nonopts != 2) {
    usage(argv[0]);
    goto done;
  }
  /* size_wait=0: every stat counts to the end (sizes always exact) */
  ctx.size_wait_ns =
      (int64_t)(o.size_wait_ms == UINT32_MAX ? FS_SIZE_WAIT_MS : o.size_wait_ms) *
      1000000LL;
  ctx.dir = realpath(o.dir, NULL);
  struct stat st;
  if (ctx.dir == NULL || stat(ctx.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "seglogfs: %s: not a directory (%s)\n", o.dir,
            strerror(ctx.dir ? ENOTDIR : errno));
    goto done;
  }
  char fsname[PATH_MAX + 64];
  int k =
      snprintf(fsname, sizeof(fsname),
               "-oro,default_permissions,subtype=seglogfs,fsname=seglogfs:%s", ctx.dir);
  /* fsname may not contain a comma (the option separator). */
  if (k < 0 || (size_t)k >= sizeof(fsname) || strchr(ctx.dir, ','))
    k = snprintf(fsname, sizeof(fsname), "-oro,default_permissions,subtype=seglogfs");
  if (fuse_opt_add_arg(&args, fsname) != 0)
    goto done;
  rc = run(&args, &fs_ops, &ctx);
done:
  fuse_opt_free_args(&args);
  free(o.dir);
  free(o.broker);
  free(ctx.dir);
  pthread_mutex_destroy(&ctx.mu);
  pthread_mutex_destroy(&ctx.lmu);
  pthread_mutex_destroy(&ctx.cmu);
  pthread_cond_destroy(&ctx.ccv);
  return rc;
}
