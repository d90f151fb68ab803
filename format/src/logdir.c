/*
 * logdir.c - one Kafka log directory as LogManager handles it: lock,
 * meta.properties, the clean-shutdown marker, the root checkpoints, discovery
 * of partition dirs (sl_log each), partition creation and deletion (rename to
 * `-delete`, then removal), checkpointing and clean close.  Contract in
 * seglog/logdir.h; layout in docs/FORMAT.md ("Log directory layout",
 * "Checkpoint files", "Clean shutdown marker").
 */
#include "seglog/logdir.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio_int.h"

#define METADATA_TOPIC "__cluster_metadata"

typedef struct part {
  char topic[SL_TOPIC_NAME_MAX + 1];
  int32_t partition;
  sl_log *log;
} part;

struct sl_logdir {
  char *path;
  bool readonly;
  sl_dir_lock *lock;
  sl_log_config defcfg;
  sl_logdir_config_fn topic_config;
  void *topic_config_ctx;
  int64_t now_ms;
  bool has_meta;
  sl_meta_properties meta;
  sl_offset_checkpoint cleaner;
  bool cleaner_dirty;
  uint64_t cleaner_gen; /* bumped by every change of `cleaner` */
  /* Root checkpoint sets: numbered when taken (owner thread); cp_mu
   * serialises the file writes and guards cp_written, the newest set on disk,
   * so that an older set never replaces a newer one. */
  uint64_t cp_taken;
  uint64_t cp_written;
  pthread_mutex_t cp_mu;
  part *parts;
  size_t n, cap;
  sl_logdir_report report;
};

void sl_logdir_opts_init(sl_logdir_opts *o) {
  memset(o, 0, sizeof(*o));
}

static void diag_path(sl_diag *diag, const char *path) {
  if (diag != NULL && path != NULL && diag->path[0] == '\0')
    sl_diag_set_path(diag, path);
}

static int join(char *out, size_t cap, const char *dir, const char *name, sl_diag *diag) {
  if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
    return sl_diag_set(diag, SL_EINVAL, -1, "path too long: %s/%s", dir, name);
  return SL_OK;
}

static part *find_part(const sl_logdir *d, const char *topic, int32_t partition) {
  for (size_t i = 0; i < d->n; i++)
    if (d->parts[i].partition == partition && strcmp(d->parts[i].topic, topic) == 0)
      return &d->parts[i];
  return NULL;
}

static int add_part(sl_logdir *d, const char *topic, int32_t partition, sl_log *log) {
  if (d->n == d->cap) {
    size_t nc = d->cap ? d->cap * 2 : 16;
    part *np = realloc(d->parts, nc * sizeof(*np));
    if (np == NULL)
      return SL_ENOMEM;
    d->parts = np;
    d->cap = nc;
  }
  part *p = &d->parts[d->n++];
  snprintf(p->topic, sizeof(p->topic), "%s", topic);
  p->partition = partition;
  p->log = log;
  return SL_OK;
}

/* Removes a directory tree (partition dirs are flat; depth is bounded). */
static int remove_tree(const char *path, int depth, sl_diag *diag) {
  char child[PATH_MAX];
  int rc = SL_OK;
  DIR *dir = opendir(path);
  if (dir == NULL)
    return errno == ENOENT ? SL_OK : sl__fio_error(errno, "opendir", path, diag);
  struct dirent *de;
  while (rc == SL_OK && (de = readdir(dir)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    rc = join(child, sizeof(child), path, de->d_name, diag);
    if (rc)
      break;
    struct stat st;
    if (lstat(child, &st) != 0) {
      if (errno != ENOENT)
        rc = sl__fio_error(errno, "stat", child, diag);
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (depth <= 0)
        rc = sl_diag_set(diag, SL_EINVAL, -1, "directory tree too deep at %s", child);
      else
        rc = remove_tree(child, depth - 1, diag);
    } else {
      rc = sl__fio_unlink(child, diag);
    }
  }
  closedir(dir);
  if (rc == SL_OK && rmdir(path) != 0 && errno != ENOENT)
    rc = sl__fio_error(errno, "rmdir", path, diag);
  return rc;
}

static int resolve_config(sl_logdir *d, const char *topic, const sl_log_config *given,
                          sl_log_config *cfg, sl_diag *diag) {
  if (given != NULL) {
    *cfg = *given;
    return SL_OK;
  }
  *cfg = d->defcfg;
  if (d->topic_config != NULL) {
    int rc = d->topic_config(d->topic_config_ctx, topic, cfg);
    if (rc)
      return sl_diag_set(diag, rc, -1, "configuration of topic %s refused", topic);
  }
  return SL_OK;
}

/* Reads one root checkpoint; an unreadable one counts as empty (LogManager). */
static int read_root_checkpoint(sl_logdir *d, const char *name, sl_offset_checkpoint *c,
                                sl_diag *diag) {
  char path[PATH_MAX];
  sl_diag cd;
  sl_diag_clear(&cd);
  int rc = join(path, sizeof(path), d->path, name, diag);
  if (rc)
    return rc;
  rc = sl_offset_checkpoint_read(path, c, &cd);
  if (rc == SL_ENOMEM)
    return sl_diag_set(diag, rc, -1, "reading %s", path);
  if (rc) {
    if (d->report.checkpoint_errors++ == 0)
      sl_diag_format(&cd, d->report.first_checkpoint_error,
                     sizeof(d->report.first_checkpoint_error));
    sl_offset_checkpoint_reset(c);
  }
  return SL_OK;
}

static int cmp_entry(const void *a, const void *b) {
  const sl_offset_entry *x = a, *y = b;
  int c = strcmp(x->topic, y->topic);
  if (c)
    return c;
  return x->partition < y->partition ? -1 : (x->partition > y->partition ? 1 : 0);
}

/* Sorts a checkpoint list (entries are unique after parsing) for lookups. */
static void sort_entries(sl_offset_checkpoint *c) {
  if (c->count > 1)
    qsort(c->entries, c->count, sizeof(*c->entries), cmp_entry);
}

/* The offset for (topic, partition) in a sorted list, or dflt. */
static int64_t lookup(const sl_offset_checkpoint *c, const char *topic, int32_t partition,
                      int64_t dflt) {
  sl_offset_entry key;
  snprintf(key.topic, sizeof(key.topic), "%s", topic);
  key.partition = partition;
  const sl_offset_entry *e =
      c->count ? bsearch(&key, c->entries, c->count, sizeof(*c->entries), cmp_entry)
               : NULL;
  return e ? e->offset : dflt;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the entries of dir that are directories, sorted. */
static int list_subdirs(const char *dir, char ***out, size_t *count, sl_diag *diag) {
  char **v = NULL;
  size_t n = 0, cap = 0;
  char p[PATH_MAX];
  int rc = SL_OK;
  *out = NULL;
  *count = 0;
  DIR *dh = opendir(dir);
  if (dh == NULL)
    return sl__fio_error(errno, "opendir", dir, diag);
  struct dirent *de;
  while ((de = readdir(dh)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue; /* topics may start with '.', so only these two are skipped */
    if (join(p, sizeof(p), dir, de->d_name, NULL) != SL_OK)
      continue;
    struct stat st;
    if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
      continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 32;
      char **nv = realloc(v, nc * sizeof(*nv));
      if (nv == NULL) {
        rc = SL_ENOMEM;
        break;
      }
      v = nv;
      cap = nc;
    }
    v[n] = strdup(de->d_name);
    if (v[n] == NULL) {
      rc = SL_ENOMEM;
      break;
    }
    n++;
  }
  closedir(dh);
  if (rc) {
    for (size_t i = 0; i < n; i++)
      free(v[i]);
    free(v);
    return sl_diag_set(diag, rc, -1, "listing %s", dir);
  }
  if (n > 1)
    qsort(v, n, sizeof(*v), cmp_names);
  *out = v;
  *count = n;
  return SL_OK;
}

static void free_names(char **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static void close_all_logs(sl_logdir *d) {
  for (size_t i = 0; i < d->n; i++)
    sl_log_close(d->parts[i].log, NULL);
  d->n = 0;
}

static void logdir_free(sl_logdir *d) {
  if (d == NULL)
    return;
  close_all_logs(d);
  sl_dir_lock_release(d->lock);
  sl_offset_checkpoint_release(&d->cleaner);
  pthread_mutex_destroy(&d->cp_mu);
  free(d->parts);
  free(d->path);
  free(d);
}

int sl_logdir_open(const char *path, const sl_logdir_opts *opts, sl_logdir **out,
                   sl_diag *diag) {
  sl_logdir_opts defaults;
  sl_offset_checkpoint rp, ls, hw;
  char **names = NULL;
  size_t nnames = 0;
  char p[PATH_MAX];
  int rc;
  *out = NULL;
  if (opts == NULL) {
    sl_logdir_opts_init(&defaults);
    opts = &defaults;
  }
  sl_offset_checkpoint_init(&rp);
  sl_offset_checkpoint_init(&ls);
  sl_offset_checkpoint_init(&hw);
  sl_logdir *d = calloc(1, sizeof(*d));
  if (d == NULL || (d->path = strdup(path)) == NULL) {
    free(d);
    return sl_diag_set(diag, SL_ENOMEM, -1, "opening log dir %s", path);
  }
  sl_offset_checkpoint_init(&d->cleaner);
  pthread_mutex_init(&d->cp_mu, NULL);
  d->readonly = opts->readonly;
  if (opts->default_config)
    d->defcfg = *opts->default_config;
  else
    sl_log_config_init(&d->defcfg);
  d->topic_config = opts->topic_config;
  d->topic_config_ctx = opts->topic_config_ctx;
  d->now_ms = opts->now_ms;
  d->report.broker_epoch = -1;

  if (opts->create && !opts->readonly && mkdir(path, 0755) != 0 && errno != EEXIST) {
    rc = sl__fio_error(errno, "mkdir", path, diag);
    goto fail;
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    rc = sl__fio_error(errno ? errno : ENOTDIR, "open log dir", path, diag);
    goto fail;
  }
  if (!d->readonly) {
    rc = sl_dir_lock_acquire(path, &d->lock, diag);
    if (rc)
      goto fail;
  }
  /* meta.properties */
  rc = sl_meta_properties_read(path, &d->meta, diag);
  if (rc == SL_OK) {
    d->has_meta = true;
  } else if (rc == SL_ENOT_FOUND && !opts->require_meta_properties) {
    sl_diag_clear(diag);
  } else {
    if (rc == SL_ENOT_FOUND)
      sl_diag_set(diag, rc, -1, "no meta.properties found in %s", path);
    goto fail;
  }
  d->report.has_meta_properties = d->has_meta;
  /* KRaft: a missing directory.id is generated and the file rewritten */
  if (d->has_meta && opts->require_meta_properties && !d->readonly &&
      d->meta.version == 1 && !d->meta.has_directory_id) {
    sl_meta_properties m = d->meta;
    if ((rc = sl_uuid_random(&m.directory_id, diag)) != SL_OK)
      goto fail;
    m.has_directory_id = true;
    if ((rc = sl_meta_properties_write(path, &m, diag)) != SL_OK)
      goto fail;
    d->meta = m;
  }
  /* the clean-shutdown marker: note it, then delete it before loading */
  rc = sl_clean_shutdown_read(path, &d->report.clean_shutdown, &d->report.broker_epoch,
                              diag);
  if (rc)
    goto fail;
  if (d->report.clean_shutdown && !d->readonly) {
    rc = sl_clean_shutdown_delete(path, diag);
    if (rc)
      goto fail;
  }
  /* root checkpoints */
  if ((rc = read_root_checkpoint(d, SL_RECOVERY_POINT_CHECKPOINT, &rp, diag)) ||
      (rc = read_root_checkpoint(d, SL_LOG_START_OFFSET_CHECKPOINT, &ls, diag)) ||
      (rc = read_root_checkpoint(d, SL_REPLICATION_OFFSET_CHECKPOINT, &hw, diag)) ||
      (rc = read_root_checkpoint(d, SL_CLEANER_OFFSET_CHECKPOINT, &d->cleaner, diag)))
    goto fail;
  sort_entries(&rp);
  sort_entries(&ls);
  sort_entries(&hw);
  /* partition dirs */
  rc = list_subdirs(path, &names, &nnames, diag);
  if (rc)
    goto fail;
  for (size_t i = 0; i < nnames; i++) {
    sl_pdir_name pn;
    if (sl_pdir_name_parse(names[i], &pn, NULL) != SL_OK) {
      d->report.dirs_ignored++;
      continue;
    }
    if (pn.kind == SL_PDIR_DELETE) {
      if (!d->readonly && join(p, sizeof(p), path, names[i], NULL) == SL_OK &&
          remove_tree(p, 4, NULL) == SL_OK)
        d->report.delete_dirs_removed++;
      continue;
    }
    if (pn.kind != SL_PDIR_NORMAL || strcmp(pn.topic, METADATA_TOPIC) == 0) {
      d->report.dirs_ignored++;
      continue;
    }
    sl_log_config cfg;
    sl_log_open_opts lo;
    sl_log *log = NULL;
    rc = join(p, sizeof(p), path, names[i], diag);
    if (rc == SL_OK)
      rc = resolve_config(d, pn.topic, NULL, &cfg, diag);
    if (rc)
      goto fail;
    sl_log_open_opts_init(&lo);
    lo.recovery_point = lookup(&rp, pn.topic, pn.partition, 0);
    lo.log_start_offset = lookup(&ls, pn.topic, pn.partition, -1);
    lo.high_watermark = lookup(&hw, pn.topic, pn.partition, -1);
    lo.clean_shutdown = d->report.clean_shutdown;
    lo.now_ms = d->now_ms;
    lo.lock = d->lock;
    rc = sl_log_open(p, &cfg, d->readonly ? SL_LOG_READONLY : 0, &lo, &log, diag);
    if (rc) {
      diag_path(diag, p);
      goto fail;
    }
    if (add_part(d, pn.topic, pn.partition, log) != SL_OK) {
      sl_log_close(log, NULL);
      rc = sl_diag_set(diag, SL_ENOMEM, -1, "opening %s", p);
      goto fail;
    }
    d->report.partitions++;
  }
  free_names(names, nnames);
  sl_offset_checkpoint_release(&rp);
  sl_offset_checkpoint_release(&ls);
  sl_offset_checkpoint_release(&hw);
  *out = d;
  return SL_OK;
fail:
  free_names(names, nnames);
  sl_offset_checkpoint_release(&rp);
  sl_offset_checkpoint_release(&ls);
  sl_offset_checkpoint_release(&hw);
  logdir_free(d);
  return rc;
}

const char *sl_logdir_path(const sl_logdir *d) {
  return d->path;
}

void sl_logdir_report_get(const sl_logdir *d, sl_logdir_report *r) {
  *r = d->report;
}

sl_dir_lock *sl_logdir_lock(sl_logdir *d) {
  return d->lock;
}

const sl_meta_properties *sl_logdir_meta(const sl_logdir *d) {
  return d->has_meta ? &d->meta : NULL;
}

int sl_logdir_set_meta(sl_logdir *d, const sl_meta_properties *m, sl_diag *diag) {
  if (d->readonly)
    return sl_diag_set(diag, SL_EREADONLY, -1, "log dir %s is open read-only", d->path);
  int rc = sl_meta_properties_write(d->path, m, diag);
  if (rc == SL_OK) {
    d->meta = *m;
    d->has_meta = true;
  }
  return rc;
}

size_t sl_logdir_count(const sl_logdir *d) {
  return d->n;
}

bool sl_logdir_at(sl_logdir *d, size_t i, const char **topic, int32_t *partition,
                  sl_log **log) {
  if (i >= d->n)
    return false;
  if (topic)
    *topic = d->parts[i].topic;
  if (partition)
    *partition = d->parts[i].partition;
  if (log)
    *log = d->parts[i].log;
  return true;
}

sl_log *sl_logdir_get(sl_logdir *d, const char *topic, int32_t partition) {
  part *p = topic ? find_part(d, topic, partition) : NULL;
  return p ? p->log : NULL;
}

int sl_logdir_create_partition(sl_logdir *d, const char *topic, int32_t partition,
                               const sl_log_config *cfg, const sl_uuid *topic_id,
                               sl_log **out, sl_diag *diag) {
  char name[SL_TOPIC_NAME_MAX + 16];
  char p[PATH_MAX];
  sl_log_config c;
  sl_log *log = NULL;
  int rc;
  if (out)
    *out = NULL;
  if (d->readonly)
    return sl_diag_set(diag, SL_EREADONLY, -1, "log dir %s is open read-only", d->path);
  if (sl_pdir_name_format(topic, partition, name, sizeof(name)) != SL_OK)
    return sl_diag_set(diag, SL_EINVAL, -1, "invalid topic partition %s-%d",
                       topic ? topic : "(null)", (int)partition);
  if (strcmp(topic, METADATA_TOPIC) == 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "%s is reserved for the KRaft metadata log",
                       METADATA_TOPIC);
  if (find_part(d, topic, partition) != NULL)
    return sl_diag_set(diag, SL_EEXISTS, -1, "%s is already hosted", name);
  if (topic_id != NULL && sl_uuid_is_zero(topic_id))
    return sl_diag_set(diag, SL_EINVAL, -1, "zero topic id");
  if ((rc = join(p, sizeof(p), d->path, name, diag)) != SL_OK ||
      (rc = resolve_config(d, topic, cfg, &c, diag)) != SL_OK)
    return rc;
  if (mkdir(p, 0755) != 0)
    return errno == EEXIST
               ? sl_diag_set(diag, SL_EEXISTS, -1, "%s exists but is not hosted here", p)
               : sl__fio_error(errno, "mkdir", p, diag);
  sl_log_open_opts lo;
  sl_log_open_opts_init(&lo);
  lo.now_ms = d->now_ms;
  lo.lock = d->lock;
  rc = sl_log_open(p, &c, SL_LOG_CREATE, &lo, &log, diag);
  if (rc == SL_OK && topic_id != NULL)
    rc = sl_partition_metadata_write(p, topic_id, diag);
  if (rc == SL_OK)
    rc = sl__fio_fsync_dir(d->path, diag);
  if (rc == SL_OK && add_part(d, topic, partition, log) != SL_OK)
    rc = sl_diag_set(diag, SL_ENOMEM, -1, "creating %s", p);
  if (rc) {
    sl_log_close(log, NULL);
    (void)remove_tree(p, 4, NULL);
    diag_path(diag, p);
    return rc;
  }
  if (out)
    *out = log;
  return SL_OK;
}

/* One log's values for the root checkpoints. */
typedef struct cp_vals {
  int64_t recovery_point, log_start, first_base, hw;
} cp_vals;

static void log_vals(sl_log *log, cp_vals *v) {
  sl_log_segment_info first;
  v->recovery_point = sl_log_recovery_point(log);
  v->log_start = sl_log_start_offset(log);
  v->hw = sl_log_high_watermark(log);
  v->first_base = sl_log_segments(log, &first, 1) > 0 ? first.base_offset : -1;
}

/* The contents of one set of root checkpoints, taken on the owner thread. */
struct sl_logdir_cp {
  sl_logdir *d;
  uint64_t gen;
  sl_offset_checkpoint rp, ls, hw, cleaner;
  bool with_cleaner;    /* cleaner offsets changed: written too */
  uint64_t cleaner_gen; /* d->cleaner_gen when copied */
  bool written;
};

static void cp_release(sl_logdir_cp *cp) {
  sl_offset_checkpoint_release(&cp->rp);
  sl_offset_checkpoint_release(&cp->ls);
  sl_offset_checkpoint_release(&cp->hw);
  sl_offset_checkpoint_release(&cp->cleaner);
}

/* Fills cp from vals[i] for parts[i] and the cleaner offsets if they changed. */
static int cp_build(sl_logdir *d, const cp_vals *vals, sl_logdir_cp *cp, sl_diag *diag) {
  int rc = SL_OK;
  memset(cp, 0, sizeof(*cp));
  cp->d = d;
  sl_offset_checkpoint_init(&cp->rp);
  sl_offset_checkpoint_init(&cp->ls);
  sl_offset_checkpoint_init(&cp->hw);
  sl_offset_checkpoint_init(&cp->cleaner);
  for (size_t i = 0; rc == SL_OK && i < d->n; i++) {
    const part *pt = &d->parts[i];
    rc = sl_offset_checkpoint_set(&cp->rp, pt->topic, pt->partition,
                                  vals[i].recovery_point);
    if (rc == SL_OK)
      rc = sl_offset_checkpoint_set(&cp->hw, pt->topic, pt->partition, vals[i].hw);
    /* Kafka writes the log start only when it is above the first segment */
    if (rc == SL_OK && vals[i].first_base >= 0 && vals[i].log_start > vals[i].first_base)
      rc = sl_offset_checkpoint_set(&cp->ls, pt->topic, pt->partition, vals[i].log_start);
  }
  if (rc == SL_OK && d->cleaner_dirty) {
    cp->with_cleaner = true;
    cp->cleaner_gen = d->cleaner_gen;
    for (size_t i = 0; rc == SL_OK && i < d->cleaner.count; i++)
      rc = sl_offset_checkpoint_set(&cp->cleaner, d->cleaner.entries[i].topic,
                                    d->cleaner.entries[i].partition,
                                    d->cleaner.entries[i].offset);
  }
  if (rc) {
    cp_release(cp);
    return sl_diag_set(diag, rc, -1, "building checkpoints");
  }
  cp->gen = ++d->cp_taken;
  return SL_OK;
}

/* Writes cp's files unless a newer set is on disk already: any thread. */
static int cp_write(sl_logdir_cp *cp, sl_diag *diag) {
  sl_logdir *d = cp->d;
  char p[PATH_MAX];
  int rc = SL_OK;
  pthread_mutex_lock(&d->cp_mu);
  if (cp->gen <= d->cp_written)
    goto out; /* superseded */
  if ((rc = join(p, sizeof(p), d->path, SL_RECOVERY_POINT_CHECKPOINT, diag)) == SL_OK)
    rc = sl_offset_checkpoint_write(p, &cp->rp, diag);
  if (rc == SL_OK &&
      (rc = join(p, sizeof(p), d->path, SL_LOG_START_OFFSET_CHECKPOINT, diag)) == SL_OK)
    rc = sl_offset_checkpoint_write(p, &cp->ls, diag);
  if (rc == SL_OK &&
      (rc = join(p, sizeof(p), d->path, SL_REPLICATION_OFFSET_CHECKPOINT, diag)) == SL_OK)
    rc = sl_offset_checkpoint_write(p, &cp->hw, diag);
  if (rc == SL_OK && cp->with_cleaner &&
      (rc = join(p, sizeof(p), d->path, SL_CLEANER_OFFSET_CHECKPOINT, diag)) == SL_OK)
    rc = sl_offset_checkpoint_write(p, &cp->cleaner, diag);
  if (rc == SL_OK) {
    d->cp_written = cp->gen;
    cp->written = true;
  }
out:
  pthread_mutex_unlock(&d->cp_mu);
  return rc;
}

/* Owner thread, after cp_write: the cleaner offsets are clean if these were
 * written and have not changed since. */
static void cp_settle(sl_logdir *d, const sl_logdir_cp *cp) {
  if (cp->written && cp->with_cleaner && d->cleaner_gen == cp->cleaner_gen)
    d->cleaner_dirty = false;
}

/* Writes the root checkpoints from vals[i] for parts[i] (n of them) now. */
static int write_checkpoints(sl_logdir *d, const cp_vals *vals, sl_diag *diag) {
  sl_logdir_cp cp;
  int rc = cp_build(d, vals, &cp, diag);
  if (rc)
    return rc;
  rc = cp_write(&cp, diag);
  cp_settle(d, &cp);
  cp_release(&cp);
  return rc;
}

/* The recovery point, log start and HW of every log, in parts order. */
static int take_vals(sl_logdir *d, cp_vals **out, sl_diag *diag) {
  cp_vals *vals = d->n ? calloc(d->n, sizeof(*vals)) : NULL;
  if (d->n && vals == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "checkpointing %s", d->path);
  for (size_t i = 0; i < d->n; i++)
    log_vals(d->parts[i].log, &vals[i]);
  *out = vals;
  return SL_OK;
}

int sl_logdir_checkpoint_begin(sl_logdir *d, sl_logdir_cp **out, sl_diag *diag) {
  *out = NULL;
  if (d->readonly)
    return sl_diag_set(diag, SL_EREADONLY, -1, "log dir %s is open read-only", d->path);
  cp_vals *vals = NULL;
  sl_logdir_cp *cp = NULL;
  int rc = take_vals(d, &vals, diag);
  if (rc == SL_OK && (cp = malloc(sizeof(*cp))) == NULL)
    rc = sl_diag_set(diag, SL_ENOMEM, -1, "checkpointing %s", d->path);
  if (rc == SL_OK)
    rc = cp_build(d, vals, cp, diag);
  free(vals);
  if (rc) {
    free(cp);
    return rc;
  }
  *out = cp;
  return SL_OK;
}

int sl_logdir_checkpoint_write(sl_logdir_cp *cp, sl_diag *diag) {
  return cp_write(cp, diag);
}

void sl_logdir_checkpoint_end(sl_logdir *d, sl_logdir_cp *cp) {
  if (cp == NULL)
    return;
  cp_settle(d, cp);
  cp_release(cp);
  free(cp);
}

int sl_logdir_checkpoint(sl_logdir *d, sl_diag *diag) {
  sl_logdir_cp *cp = NULL;
  int rc = sl_logdir_checkpoint_begin(d, &cp, diag);
  if (rc == SL_OK)
    rc = sl_logdir_checkpoint_write(cp, diag);
  sl_logdir_checkpoint_end(d, cp);
  return rc;
}

int sl_logdir_delete_partition(sl_logdir *d, const char *topic, int32_t partition,
                               sl_diag *diag) {
  char name[SL_TOPIC_NAME_MAX + 16], delname[512];
  char from[PATH_MAX], to[PATH_MAX];
  char hex[33];
  sl_uuid u;
  int rc;
  if (d->readonly)
    return sl_diag_set(diag, SL_EREADONLY, -1, "log dir %s is open read-only", d->path);
  part *pt = topic ? find_part(d, topic, partition) : NULL;
  if (pt == NULL)
    return sl_diag_set(diag, SL_ENOT_FOUND, -1, "%s-%d is not hosted here",
                       topic ? topic : "(null)", (int)partition);
  if ((rc = sl_uuid_random(&u, diag)) != SL_OK)
    return rc;
  sl_uuid_hex32(&u, hex);
  if (sl_pdir_name_format(topic, partition, name, sizeof(name)) != SL_OK ||
      sl_pdir_name_format_suffixed(topic, partition, SL_PDIR_DELETE, hex, delname,
                                   sizeof(delname)) != SL_OK ||
      (rc = join(from, sizeof(from), d->path, name, diag)) != SL_OK ||
      (rc = join(to, sizeof(to), d->path, delname, diag)) != SL_OK)
    return rc ? rc : sl_diag_set(diag, SL_EINVAL, -1, "bad partition name");
  /* close the log (its errors do not stop the deletion) and forget it */
  (void)sl_log_close(pt->log, NULL);
  *pt = d->parts[--d->n];
  if (sl_offset_checkpoint_remove(&d->cleaner, topic, partition)) {
    d->cleaner_dirty = true;
    d->cleaner_gen++;
  }
  rc = sl__fio_rename(from, to, diag);
  if (rc == SL_OK)
    rc = sl__fio_fsync_dir(d->path, diag);
  if (rc == SL_OK)
    rc = sl_logdir_checkpoint(d, diag);
  if (rc == SL_OK)
    rc = remove_tree(to, 4, diag);
  if (rc == SL_OK)
    rc = sl__fio_fsync_dir(d->path, diag);
  return rc;
}

bool sl_logdir_cleaner_offset(const sl_logdir *d, const char *topic, int32_t partition,
                              int64_t *offset) {
  const sl_offset_entry *e = sl_offset_checkpoint_find(&d->cleaner, topic, partition);
  if (e == NULL)
    return false;
  if (offset)
    *offset = e->offset;
  return true;
}

int sl_logdir_set_cleaner_offset(sl_logdir *d, const char *topic, int32_t partition,
                                 int64_t offset) {
  int rc = sl_offset_checkpoint_set(&d->cleaner, topic, partition, offset);
  if (rc == SL_OK) {
    d->cleaner_dirty = true;
    d->cleaner_gen++;
  }
  return rc;
}

int sl_logdir_close(sl_logdir *d, sl_diag *diag) {
  int rc = SL_OK;
  if (d == NULL)
    return SL_OK;
  if (d->readonly) {
    logdir_free(d);
    return SL_OK;
  }
  cp_vals *vals = d->n ? calloc(d->n, sizeof(*vals)) : NULL;
  if (d->n && vals == NULL) {
    rc = sl_diag_set(diag, SL_ENOMEM, -1, "closing %s", d->path);
    logdir_free(d);
    return rc;
  }
  /* close every log; a clean close flushes it, so its recovery point is its
   * log end offset */
  for (size_t i = 0; i < d->n; i++) {
    sl_log *log = d->parts[i].log;
    log_vals(log, &vals[i]);
    int64_t leo = sl_log_end_offset(log);
    int r = sl_log_close(log, rc ? NULL : diag);
    d->parts[i].log = NULL;
    if (r == SL_OK)
      vals[i].recovery_point = leo;
    else if (rc == SL_OK)
      rc = r;
  }
  /* The checkpoints are written even if a log failed to close: its recovery
   * point from before the close is still safe.  The marker is not. */
  int cr = write_checkpoints(d, vals, rc ? NULL : diag);
  if (rc == SL_OK)
    rc = cr;
  if (rc == SL_OK)
    rc = sl_clean_shutdown_write(d->path, d->report.broker_epoch, diag);
  free(vals);
  d->n = 0; /* the logs are closed */
  logdir_free(d);
  return rc;
}

void sl_logdir_abandon(sl_logdir *d) {
  logdir_free(d);
}
