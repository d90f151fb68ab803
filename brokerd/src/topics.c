/*
 * topics.c - discovering the partitions in the log directories (see topics.h;
 * docs/BROKER.md, "Topics").  Directory names follow Kafka's rule: the
 * partition number follows the last '-'; names ending in -delete, -future or
 * -stray belong to pending operations and are skipped.
 */
#include "topics.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sdlog.h"

static int fail(char *err, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail(char *err, size_t cap, const char *fmt, ...) {
  if (cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
  }
  return -1;
}

bool sd_topic_name_valid(const char *name, size_t len) {
  if (len == 0 || len > 249)
    return false;
  if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
    return false;
  for (size_t i = 0; i < len; i++) {
    char ch = name[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
      return false;
  }
  return true;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* "topic-3" -> topic length and 3; false if not a partition directory name. */
static bool parse_dir_name(const char *name, size_t *topic_len, int32_t *part) {
  if (ends_with(name, "-delete") || ends_with(name, "-future") ||
      ends_with(name, "-stray"))
    return false;
  const char *dash = strrchr(name, '-');
  if (dash == NULL || dash == name || dash[1] == '\0')
    return false;
  int64_t v = 0;
  for (const char *p = dash + 1; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    v = v * 10 + (*p - '0');
    if (v > INT32_MAX)
      return false;
  }
  if (!sd_topic_name_valid(name, (size_t)(dash - name)))
    return false;
  *topic_len = (size_t)(dash - name);
  *part = (int32_t)v;
  return true;
}

static size_t read_small(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return 0;
  size_t n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  return n;
}

/* partition.metadata: "version: 0\ntopic_id: <base64>\n". */
static bool read_topic_id(const char *dir, uint8_t id[16]) {
  char path[4200], text[512];
  if ((size_t)snprintf(path, sizeof(path), "%s/partition.metadata", dir) >= sizeof(path))
    return false;
  if (read_small(path, text, sizeof(text)) == 0)
    return false;
  const char *p = strstr(text, "topic_id:");
  if (p == NULL)
    return false;
  p += strlen("topic_id:");
  while (*p == ' ')
    p++;
  char b64[32];
  size_t n = 0;
  while (p[n] && p[n] != '\n' && p[n] != '\r' && p[n] != ' ' && n + 1 < sizeof(b64)) {
    b64[n] = p[n];
    n++;
  }
  b64[n] = '\0';
  return sd_uuid_from_base64(b64, id) == 1;
}

/* leader-epoch-checkpoint: "0\n<count>\n<epoch> <offset>\n..."; last epoch. */
static int32_t read_leader_epoch(const char *dir) {
  char path[4200], text[65536];
  snprintf(path, sizeof(path), "%s/leader-epoch-checkpoint", dir);
  if (read_small(path, text, sizeof(text)) == 0)
    return 0;
  int32_t epoch = 0;
  int line = 0;
  for (char *l = text; *l != '\0';) {
    char *nl = strchr(l, '\n');
    if (nl != NULL)
      *nl = '\0';
    if (++line > 2) {
      char *end = NULL;
      errno = 0;
      long v = strtol(l, &end, 10);
      if (errno == 0 && end != l && v >= 0 && v <= INT32_MAX)
        epoch = (int32_t)v;
    }
    if (nl == NULL)
      break;
    l = nl + 1;
  }
  return epoch;
}

static int cmp_topic(const void *a, const void *b) {
  return strcmp(((const sd_topic *)a)->name, ((const sd_topic *)b)->name);
}
static int cmp_part(const void *a, const void *b) {
  int32_t x = ((const sd_partition *)a)->index, y = ((const sd_partition *)b)->index;
  return x < y ? -1 : x > y;
}

static sd_topic *topic_get(sd_topics *t, const char *name, size_t len) {
  for (int i = 0; i < t->n; i++)
    if (strlen(t->topics[i].name) == len && memcmp(t->topics[i].name, name, len) == 0)
      return &t->topics[i];
  sd_topic *nt = realloc(t->topics, sizeof(*nt) * (size_t)(t->n + 1));
  if (nt == NULL)
    return NULL;
  t->topics = nt;
  sd_topic *tp = &nt[t->n];
  memset(tp, 0, sizeof(*tp));
  tp->name = strndup(name, len);
  if (tp->name == NULL)
    return NULL;
  tp->internal = strcmp(tp->name, "__consumer_offsets") == 0 ||
                 strcmp(tp->name, "__transaction_state") == 0;
  t->n++;
  return tp;
}

int sd_topics_scan(sd_topics *t, const sd_datadirs *dirs, char *err, size_t errcap) {
  memset(t, 0, sizeof(*t));
  for (int d = 0; d < dirs->n; d++) {
    DIR *dh = opendir(dirs->paths[d]);
    if (dh == NULL)
      return fail(err, errcap, "log.dirs: cannot list %s: %s", dirs->paths[d],
                  strerror(errno));
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(dh)) != NULL) {
      size_t tl;
      int32_t part;
      if (de->d_name[0] == '.' || !parse_dir_name(de->d_name, &tl, &part))
        continue;
      char path[4200];
      snprintf(path, sizeof(path), "%s/%s", dirs->paths[d], de->d_name);
      struct stat st;
      if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        continue;
      sd_topic *tp = topic_get(t, de->d_name, tl);
      if (tp == NULL) {
        rc = fail(err, errcap, "out of memory");
        break;
      }
      for (int i = 0; i < tp->n_parts; i++) {
        if (tp->parts[i].index == part) {
          rc = fail(err, errcap, "log.dirs: duplicate log directories for %s: %s and %s",
                    de->d_name, tp->parts[i].dir, path);
          break;
        }
      }
      if (rc != 0)
        break;
      sd_partition *np = realloc(tp->parts, sizeof(*np) * (size_t)(tp->n_parts + 1));
      if (np == NULL) {
        rc = fail(err, errcap, "out of memory");
        break;
      }
      tp->parts = np;
      sd_partition *p = &np[tp->n_parts];
      p->index = part;
      p->dir = strdup(path);
      if (p->dir == NULL) {
        rc = fail(err, errcap, "out of memory");
        break;
      }
      tp->n_parts++;
      p->leader_epoch = read_leader_epoch(path);
      uint8_t id[16];
      if (read_topic_id(path, id))
        memcpy(tp->id, id, 16);
    }
    closedir(dh);
    if (rc != 0) {
      sd_topics_release(t);
      return rc;
    }
  }
  if (t->n > 1)
    qsort(t->topics, (size_t)t->n, sizeof(*t->topics), cmp_topic);
  int parts = 0;
  for (int i = 0; i < t->n; i++) {
    if (t->topics[i].n_parts > 1)
      qsort(t->topics[i].parts, (size_t)t->topics[i].n_parts, sizeof(sd_partition),
            cmp_part);
    parts += t->topics[i].n_parts;
  }
  SD_INFO("found %d topics, %d partitions in %d log directories", t->n, parts, dirs->n);
  return 0;
}

void sd_topics_release(sd_topics *t) {
  if (t == NULL)
    return;
  for (int i = 0; i < t->n; i++) {
    for (int j = 0; j < t->topics[i].n_parts; j++)
      free(t->topics[i].parts[j].dir);
    free(t->topics[i].parts);
    free(t->topics[i].name);
  }
  free(t->topics);
  t->topics = NULL;
  t->n = 0;
}

const sd_topic *sd_topics_find(const sd_topics *t, const char *name, size_t len) {
  int lo = 0, hi = t->n - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    const char *mn = t->topics[mid].name;
    size_t ml = strlen(mn);
    int c = memcmp(mn, name, ml < len ? ml : len);
    if (c == 0)
      c = ml < len ? -1 : ml > len;
    if (c == 0)
      return &t->topics[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}

const sd_topic *sd_topics_find_id(const sd_topics *t, const uint8_t id[16]) {
  static const uint8_t zero[16];
  if (memcmp(id, zero, 16) == 0)
    return NULL;
  for (int i = 0; i < t->n; i++)
    if (memcmp(t->topics[i].id, id, 16) == 0)
      return &t->topics[i];
  return NULL;
}

int64_t sd_partition_size(const sd_partition *p) {
  DIR *dh = opendir(p->dir);
  if (dh == NULL)
    return 0;
  int64_t total = 0;
  struct dirent *de;
  while ((de = readdir(dh)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char path[4400];
    snprintf(path, sizeof(path), "%s/%s", p->dir, de->d_name);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
      total += (int64_t)st.st_size;
  }
  closedir(dh);
  return total;
}
