/*
 * fs_tree.c - the tree both seglogfs back ends show: path parsing (topics,
 * partitions, views, offsets/N, at/TIME, segments, broker mode's /.groups),
 * ISO 8601 and epoch-millisecond times, inode numbers and stat filling.
 * docs/FUSE.md ("The tree", "Sizes, inodes, times").
 */
#include "fs_tree.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool fs_topic_name_ok(const char *t, size_t n) {
  if (n == 0 || n > 249 || (n == 1 && t[0] == '.') ||
      (n == 2 && t[0] == '.' && t[1] == '.'))
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = t[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      return false;
  }
  return true;
}

/* A non-negative decimal without sign or leading zeros (except "0"). */
bool fs_parse_uint(const char *s, int64_t max, int64_t *out) {
  int64_t v = 0;
  if (*s == 0 || (s[0] == '0' && s[1] != 0))
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    if (v > (max - (*s - '0')) / 10)
      return false;
    v = v * 10 + (*s - '0');
  }
  *out = v;
  return true;
}

const char *const fs_view_names[FS_NVIEWS] = {"data", "data.lp", "records.jsonl"};

static bool view_by_name(const char *s, fs_view *v) {
  for (int i = 0; i < FS_NVIEWS; i++) {
    if (strcmp(s, fs_view_names[i]) == 0) {
      *v = (fs_view)i;
      return true;
    }
  }
  return false;
}

static bool digits(const char **s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char ch = (*s)[i];
    if (ch < '0' || ch > '9')
      return false;
    v = v * 10 + (ch - '0');
  }
  *s += n;
  *out = v;
  return true;
}

/* Epoch milliseconds, or ISO 8601: YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM|-HH:MM]
 * (no zone = UTC). */
static bool parse_time(const char *s, int64_t *ms) {
  int y, mo, d, h = 0, mi = 0, sec = 0, frac_ms = 0;
  if (fs_parse_uint(s, INT64_MAX, ms))
    return true;
  if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
      !digits(&s, 2, &d))
    return false;
  if (*s == 'T' || *s == 't' || *s == ' ') {
    s++;
    if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi))
      return false;
    if (*s == ':') {
      s++;
      if (!digits(&s, 2, &sec))
        return false;
      if (*s == '.' || *s == ',') {
        int scale = 100;
        s++;
        if (*s < '0' || *s > '9')
          return false;
        for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
          frac_ms += (*s - '0') * scale;
      }
    }
  }
  int64_t zone_s = 0;
  if (*s == 'Z' || *s == 'z') {
    s++;
  } else if (*s == '+' || *s == '-') {
    int sign = *s++ == '-' ? -1 : 1, zh, zm = 0;
    if (!digits(&s, 2, &zh))
      return false;
    if (*s == ':')
      s++;
    if (*s && !digits(&s, 2, &zm))
      return false;
    zone_s = sign * (zh * 3600 + zm * 60);
  }
  if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return false;
  struct tm tm = {0};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  int64_t v = ((int64_t)t - zone_s) * 1000 + frac_ms;
  if (v < 0)
    return false;
  *ms = v;
  return true;
}

bool fs_segment_name_ok(const char *s) {
  static const char *const ext[] = {".log", ".index", ".timeindex", ".txnindex"};
  for (int i = 0; i < 20; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
    if (strcmp(s + 20, ext[i]) == 0)
      return true;
  return false;
}

/* Syntax only: existence is checked by the callers. */
int fs_parse_path(const char *path, bool groups, fs_node *n) {
  char comp[8][256];
  int nc = 0;
  memset(n, 0, sizeof(*n));
  const char *s = path;
  while (*s) {
    while (*s == '/')
      s++;
    if (!*s)
      break;
    const char *e = strchr(s, '/');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    if (nc == 8 || len >= sizeof(comp[0]))
      return -ENOENT;
    memcpy(comp[nc], s, len);
    comp[nc++][len] = 0;
    s += len;
  }
  if (nc == 0) {
    n->kind = N_ROOT;
    return 0;
  }
  if (groups && strcmp(comp[0], ".groups") == 0) {
    /* broker mode: a topic named .groups is hidden (docs/FUSE.md) */
    if (nc == 1) {
      n->kind = N_GROUPS_DIR;
      return 0;
    }
    memcpy(n->group, comp[1], strlen(comp[1]) + 1);
    if (nc == 2) {
      n->kind = N_GROUP;
      return 0;
    }
    if (nc == 3 && strcmp(comp[2], "lag") == 0) {
      n->kind = N_GROUP_LAG;
      return 0;
    }
    return -ENOENT;
  }
  if (!fs_topic_name_ok(comp[0], strlen(comp[0])))
    return -ENOENT;
  memcpy(n->topic, comp[0], strlen(comp[0]) + 1);
  if (nc == 1) {
    n->kind = N_TOPIC;
    return 0;
  }
  if (nc == 2 && strcmp(comp[1], "config") == 0) {
    n->kind = N_CONFIG;
    return 0;
  }
  int64_t v;
  if (!fs_parse_uint(comp[1], INT32_MAX, &v))
    return -ENOENT;
  n->part = (int32_t)v;
  if (nc == 2) {
    n->kind = N_PART;
    return 0;
  }
  const char *c2 = comp[2];
  if (nc == 3) {
    if (view_by_name(c2, &n->view))
      n->kind = N_VIEW;
    else if (strcmp(c2, "earliest") == 0)
      n->kind = N_EARLIEST;
    else if (strcmp(c2, "latest") == 0)
      n->kind = N_LATEST;
    else if (strcmp(c2, "offsets") == 0)
      n->kind = N_OFFSETS_DIR;
    else if (strcmp(c2, "at") == 0)
      n->kind = N_AT_DIR;
    else if (strcmp(c2, "segments") == 0)
      n->kind = N_SEGMENTS_DIR;
    else
      return -ENOENT;
    return 0;
  }
  if (nc == 4 && strcmp(c2, "offsets") == 0 &&
      fs_parse_uint(comp[3], INT64_MAX, &n->offset)) {
    n->kind = N_OFFSET;
    return 0;
  }
  if (nc == 4 && strcmp(c2, "segments") == 0 && strlen(comp[3]) < sizeof(n->seg) &&
      fs_segment_name_ok(comp[3])) {
    memcpy(n->seg, comp[3], strlen(comp[3]) + 1);
    n->kind = N_SEGMENT;
    return 0;
  }
  if (strcmp(c2, "at") == 0 && (nc == 4 || nc == 5) && parse_time(comp[3], &n->time_ms)) {
    n->has_time = true;
    if (nc == 4) {
      n->kind = N_AT_TIME;
      return 0;
    }
    if (view_by_name(comp[4], &n->view)) {
      n->kind = N_VIEW;
      return 0;
    }
  }
  return -ENOENT;
}

/* Stable inode numbers: FNV-1a of the path (1 is the root). */
ino_t fs_path_ino(const char *path) {
  uint64_t h = 1469598103934665603ULL;
  if (strcmp(path, "/") == 0)
    return 1;
  for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
    h ^= *s;
    h *= 1099511628211ULL;
  }
  return (ino_t)(h < 2 ? h + 2 : h);
}

void fs_fill_dir(struct stat *st, const char *path, mode_t perm,
                 const struct timespec *t) {
  memset(st, 0, sizeof(*st));
  st->st_ino = fs_path_ino(path);
  st->st_mode = S_IFDIR | perm;
  st->st_nlink = 2;
  st->st_uid = getuid();
  st->st_gid = getgid();
  st->st_atim = st->st_mtim = st->st_ctim = *t;
}

void fs_fill_file(struct stat *st, const char *path, mode_t perm, int64_t size,
                  const struct timespec *t) {
  memset(st, 0, sizeof(*st));
  st->st_ino = fs_path_ino(path);
  st->st_mode = S_IFREG | perm;
  st->st_nlink = 1;
  st->st_size = size;
  st->st_blksize = 1 << 20; /* tools read 1 MiB at a time: fewer requests */
  st->st_blocks = (size + 511) / 512;
  st->st_uid = getuid();
  st->st_gid = getgid();
  st->st_atim = st->st_mtim = st->st_ctim = *t;
}

void fs_hlist_init(fs_hlist *l) {
  pthread_mutex_init(&l->mu, NULL);
  l->head = NULL;
}

void fs_hlist_add(fs_hlist *l, fs_hnode *n) {
  pthread_mutex_lock(&l->mu);
  n->prev = NULL;
  n->next = l->head;
  if (l->head)
    l->head->prev = n;
  l->head = n;
  pthread_mutex_unlock(&l->mu);
}

static void unlink_locked(fs_hlist *l, fs_hnode *n) {
  if (n->prev)
    n->prev->next = n->next;
  else
    l->head = n->next;
  if (n->next)
    n->next->prev = n->prev;
  n->prev = n->next = NULL;
}

void fs_hlist_remove(fs_hlist *l, fs_hnode *n) {
  pthread_mutex_lock(&l->mu);
  unlink_locked(l, n);
  pthread_mutex_unlock(&l->mu);
}

fs_hnode *fs_hlist_pop(fs_hlist *l) {
  pthread_mutex_lock(&l->mu);
  fs_hnode *n = l->head;
  if (n)
    unlink_locked(l, n);
  pthread_mutex_unlock(&l->mu);
  return n;
}
