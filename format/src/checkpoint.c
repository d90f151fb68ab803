/*
 * checkpoint.c - Kafka's checkpoint text files (CheckpointFile, version 0): the
 * offset checkpoints of a log dir root (`topic partition offset` lines) and a
 * partition's leader-epoch-checkpoint (`epoch startOffset` lines).  The format
 * and the reader rules are in docs/FORMAT.md ("Checkpoint files") and
 * seglog/checkpoint.h; this file also holds the Java-compatible line, token and
 * number helpers that meta.c reuses (checkpoint_int.h).
 */
#include "seglog/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_int.h"
#include "fileio_int.h"
#include "seglog/meta.h"

/* ---- Java-compatible text helpers ---- */

void sl__lines_init(sl__lines *it, const void *p, size_t len) {
  it->p = (const char *)p;
  it->len = len;
  it->pos = 0;
  it->lineno = 0;
}

bool sl__lines_next(sl__lines *it, const char **line, size_t *len, size_t *start) {
  if (it->pos >= it->len)
    return false;
  size_t s = it->pos;
  size_t e = s;
  while (e < it->len && it->p[e] != '\n' && it->p[e] != '\r')
    e++;
  *line = it->p + s;
  *len = e - s;
  *start = s;
  if (e < it->len) {
    if (it->p[e] == '\r' && e + 1 < it->len && it->p[e + 1] == '\n')
      e++;
    e++;
  }
  it->pos = e;
  it->lineno++;
  return true;
}

size_t sl__split_ws(const char *line, size_t len, sl__token *tok, size_t max) {
  size_t n = 0;
  size_t i = 0;
  if (len == 0) {
    /* "".split(...) is [""] */
    if (max > 0) {
      tok[0].p = line;
      tok[0].len = 0;
    }
    return 1;
  }
  if (sl__is_java_space(line[0])) {
    /* a positive-width match at the start yields a leading empty token */
    while (i < len && sl__is_java_space(line[i]))
      i++;
    if (i == len)
      return 0; /* only whitespace: every token is empty and trailing */
    if (n < max) {
      tok[n].p = line;
      tok[n].len = 0;
    }
    n++;
  }
  while (i < len) {
    size_t s = i;
    while (i < len && !sl__is_java_space(line[i]))
      i++;
    if (n < max) {
      tok[n].p = line + s;
      tok[n].len = i - s;
    }
    n++;
    while (i < len && sl__is_java_space(line[i]))
      i++;
  }
  return n;
}

int sl_parse_decimal(const char *s, size_t len, int64_t min, int64_t max, int64_t *out) {
  char buf[24];
  size_t i = 0;
  size_t o = 0;
  if (len == 0)
    return SL_EINVAL;
  if (s[0] == '+' || s[0] == '-') {
    if (s[0] == '-')
      buf[o++] = '-';
    i = 1;
  }
  if (i == len)
    return SL_EINVAL;
  for (size_t k = i; k < len; k++)
    if (s[k] < '0' || s[k] > '9')
      return SL_EINVAL;
  /* Java accepts any number of leading zeros; strtoll does too, but the
   * digits must fit our buffer, so drop them first. */
  while (i + 1 < len && s[i] == '0')
    i++;
  if (len - i > 19)
    return SL_EINVAL; /* more than 19 significant digits: out of int64 range */
  memcpy(buf + o, s + i, len - i);
  o += len - i;
  buf[o] = '\0';
  errno = 0;
  char *end = NULL;
  long long v = strtoll(buf, &end, 10);
  if (errno != 0 || end != buf + o)
    return SL_EINVAL;
  if (v < min || v > max)
    return SL_EINVAL;
  *out = (int64_t)v;
  return SL_OK;
}

/* ---- the common file frame: version line, count line, entry lines ---- */

typedef int (*entry_fn)(void *ctx, const char *line, size_t len);

/*
 * Walks a checkpoint text: version must be SL_CHECKPOINT_VERSION, count >= 0
 * and equal to the number of entry lines; each entry line goes to fn, which
 * returns 0, SL_ECORRUPT (malformed line) or another error (e.g. SL_ENOMEM).
 */
static int parse_frame(const void *p, size_t len, entry_fn fn, void *ctx, sl_diag *diag) {
  sl__lines it;
  const char *line;
  size_t ll, start;
  int64_t version, expected;
  size_t found = 0;
  sl__lines_init(&it, p, len);
  if (!sl__lines_next(&it, &line, &ll, &start))
    return SL_OK; /* empty file: empty list */
  if (sl_parse_decimal(line, ll, INT32_MIN, INT32_MAX, &version) != SL_OK)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)start,
                       "line 1: malformed version line '%.*s'", (int)(ll > 64 ? 64 : ll),
                       line);
  if (version != SL_CHECKPOINT_VERSION)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)start,
                       "line 1: unrecognised version %" PRId64 ", expected %d", version,
                       SL_CHECKPOINT_VERSION);
  if (!sl__lines_next(&it, &line, &ll, &start))
    return SL_OK; /* ends after the version line: empty list */
  if (sl_parse_decimal(line, ll, 0, INT32_MAX, &expected) != SL_OK)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)start,
                       "line 2: malformed entry count '%.*s'", (int)(ll > 64 ? 64 : ll),
                       line);
  while (sl__lines_next(&it, &line, &ll, &start)) {
    int rc = fn(ctx, line, ll);
    if (rc == SL_ECORRUPT)
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)start,
                         "line %ld: malformed entry '%.*s'", it.lineno,
                         (int)(ll > 96 ? 96 : ll), line);
    if (rc)
      return sl_diag_set(diag, rc, (int64_t)start, "line %ld: %s", it.lineno,
                         sl_strerror(rc));
    found++;
  }
  if ((int64_t)found != expected)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)len,
                       "expected %" PRId64 " entries but found %zu", expected, found);
  return SL_OK;
}

/* ---- offset checkpoints ---- */

void sl_offset_checkpoint_init(sl_offset_checkpoint *c) {
  c->entries = NULL;
  c->count = 0;
  c->cap = 0;
}

void sl_offset_checkpoint_release(sl_offset_checkpoint *c) {
  if (c == NULL)
    return;
  free(c->entries);
  sl_offset_checkpoint_init(c);
}

void sl_offset_checkpoint_reset(sl_offset_checkpoint *c) {
  c->count = 0;
}

static sl_offset_entry *find_entry(const sl_offset_checkpoint *c, const char *topic,
                                   size_t tlen, int32_t partition) {
  for (size_t i = 0; i < c->count; i++) {
    sl_offset_entry *e = &c->entries[i];
    if (e->partition == partition && strlen(e->topic) == tlen &&
        memcmp(e->topic, topic, tlen) == 0)
      return e;
  }
  return NULL;
}

/* Appends without looking for an existing entry; topic already validated. */
static int append_entry(sl_offset_checkpoint *c, const char *topic, size_t tlen,
                        int32_t partition, int64_t offset) {
  if (c->count == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 16;
    sl_offset_entry *n = realloc(c->entries, ncap * sizeof(*n));
    if (n == NULL)
      return SL_ENOMEM;
    c->entries = n;
    c->cap = ncap;
  }
  sl_offset_entry *e = &c->entries[c->count++];
  memcpy(e->topic, topic, tlen);
  e->topic[tlen] = '\0';
  e->partition = partition;
  e->offset = offset;
  return SL_OK;
}

/* Adds or replaces; topic already validated. */
static int set_entry(sl_offset_checkpoint *c, const char *topic, size_t tlen,
                     int32_t partition, int64_t offset) {
  sl_offset_entry *e = find_entry(c, topic, tlen, partition);
  if (e == NULL)
    return append_entry(c, topic, tlen, partition, offset);
  e->offset = offset;
  return SL_OK;
}

int sl_offset_checkpoint_set(sl_offset_checkpoint *c, const char *topic,
                             int32_t partition, int64_t offset) {
  if (c == NULL || topic == NULL || partition < 0)
    return SL_EINVAL;
  size_t tlen = strlen(topic);
  if (sl_topic_name_validate(topic, tlen, NULL) != SL_OK)
    return SL_EINVAL;
  return set_entry(c, topic, tlen, partition, offset);
}

const sl_offset_entry *sl_offset_checkpoint_find(const sl_offset_checkpoint *c,
                                                 const char *topic, int32_t partition) {
  if (c == NULL || topic == NULL)
    return NULL;
  return find_entry(c, topic, strlen(topic), partition);
}

bool sl_offset_checkpoint_remove(sl_offset_checkpoint *c, const char *topic,
                                 int32_t partition) {
  sl_offset_entry *e = (sl_offset_entry *)sl_offset_checkpoint_find(c, topic, partition);
  if (e == NULL)
    return false;
  size_t i = (size_t)(e - c->entries);
  memmove(e, e + 1, (c->count - i - 1) * sizeof(*e));
  c->count--;
  return true;
}

static int offset_line(void *ctx, const char *line, size_t len) {
  sl_offset_checkpoint *c = ctx;
  sl__token t[3];
  int64_t partition, offset;
  if (sl__split_ws(line, len, t, 3) != 3)
    return SL_ECORRUPT;
  if (sl_topic_name_validate(t[0].p, t[0].len, NULL) != SL_OK)
    return SL_ECORRUPT;
  if (sl_parse_decimal(t[1].p, t[1].len, 0, INT32_MAX, &partition) != SL_OK)
    return SL_ECORRUPT;
  if (sl_parse_decimal(t[2].p, t[2].len, INT64_MIN, INT64_MAX, &offset) != SL_OK)
    return SL_ECORRUPT;
  return append_entry(c, t[0].p, t[0].len, (int32_t)partition, offset);
}

/* Sort key for deduplication: (topic, partition, position in the list). */
typedef struct dedup_key {
  const sl_offset_entry *e;
  size_t idx;
} dedup_key;

static int dedup_cmp(const void *a, const void *b) {
  const dedup_key *x = a, *y = b;
  int c = strcmp(x->e->topic, y->e->topic);
  if (c)
    return c;
  if (x->e->partition != y->e->partition)
    return x->e->partition < y->e->partition ? -1 : 1;
  return x->idx < y->idx ? -1 : (x->idx > y->idx ? 1 : 0);
}

/* Keeps the last entry of each (topic, partition), preserving order: Kafka
 * reads the lines into a map, so a later line wins. O(n log n). */
static int dedup_entries(sl_offset_checkpoint *c) {
  if (c->count < 2)
    return SL_OK;
  dedup_key *k = malloc(c->count * sizeof(*k));
  bool *drop = calloc(c->count, sizeof(*drop));
  if (k == NULL || drop == NULL) {
    free(k);
    free(drop);
    return SL_ENOMEM;
  }
  for (size_t i = 0; i < c->count; i++) {
    k[i].e = &c->entries[i];
    k[i].idx = i;
  }
  qsort(k, c->count, sizeof(*k), dedup_cmp);
  for (size_t i = 0; i + 1 < c->count; i++)
    if (strcmp(k[i].e->topic, k[i + 1].e->topic) == 0 &&
        k[i].e->partition == k[i + 1].e->partition)
      drop[k[i].idx] = true;
  size_t o = 0;
  for (size_t i = 0; i < c->count; i++)
    if (!drop[i])
      c->entries[o++] = c->entries[i];
  c->count = o;
  free(k);
  free(drop);
  return SL_OK;
}

int sl_offset_checkpoint_parse(const void *p, size_t len, sl_offset_checkpoint *out,
                               sl_diag *diag) {
  sl_offset_checkpoint tmp;
  int rc;
  sl_offset_checkpoint_init(&tmp);
  if (out == NULL || (p == NULL && len > 0))
    return sl_diag_set(diag, SL_EINVAL, -1, "bad arguments");
  /* Parse into a copy so that `out` is untouched on error. */
  if (out->count > 0) {
    tmp.entries = malloc(out->count * sizeof(*tmp.entries));
    if (tmp.entries == NULL)
      return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
    memcpy(tmp.entries, out->entries, out->count * sizeof(*tmp.entries));
    tmp.count = tmp.cap = out->count;
  }
  rc = parse_frame(p, len, offset_line, &tmp, diag);
  if (rc == SL_OK && dedup_entries(&tmp) != SL_OK)
    rc = sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
  if (rc) {
    sl_offset_checkpoint_release(&tmp);
    return rc;
  }
  sl_offset_checkpoint_release(out);
  *out = tmp;
  return SL_OK;
}

int sl_offset_checkpoint_format(const sl_offset_checkpoint *c, sl_buf *out) {
  char line[SL_TOPIC_NAME_MAX + 64];
  int n = snprintf(line, sizeof(line), "%d\n%zu\n", SL_CHECKPOINT_VERSION, c->count);
  if (sl_buf_append(out, line, (size_t)n))
    return SL_ENOMEM;
  for (size_t i = 0; i < c->count; i++) {
    const sl_offset_entry *e = &c->entries[i];
    n = snprintf(line, sizeof(line), "%s %" PRId32 " %" PRId64 "\n", e->topic,
                 e->partition, e->offset);
    if (n < 0 || (size_t)n >= sizeof(line))
      return SL_EINVAL;
    if (sl_buf_append(out, line, (size_t)n))
      return SL_ENOMEM;
  }
  return SL_OK;
}

/* Reads a whole checkpoint file; a missing file is *missing = true. */
static int read_text(const char *path, sl_buf *b, bool *missing, sl_diag *diag) {
  *missing = false;
  int rc = sl__fio_read_file(path, SL_CHECKPOINT_MAX_FILE, b, diag);
  if (rc == SL_ENOT_FOUND) {
    *missing = true;
    sl_diag_clear(diag);
    return SL_OK;
  }
  return rc;
}

static void set_path(sl_diag *diag, const char *path) {
  if (diag != NULL && path != NULL)
    sl_diag_set_path(diag, path);
}

int sl_offset_checkpoint_read(const char *path, sl_offset_checkpoint *out,
                              sl_diag *diag) {
  sl_buf b = SL_BUF_INIT;
  bool missing;
  int rc = read_text(path, &b, &missing, diag);
  if (rc == SL_OK && !missing) {
    rc = sl_offset_checkpoint_parse(b.data, b.len, out, diag);
    if (rc)
      set_path(diag, path);
  }
  sl_buf_release(&b);
  return rc;
}

int sl_offset_checkpoint_write(const char *path, const sl_offset_checkpoint *c,
                               sl_diag *diag) {
  sl_buf b = SL_BUF_INIT;
  int rc = sl_offset_checkpoint_format(c, &b);
  if (rc)
    rc = sl_diag_set(diag, rc, -1, "formatting checkpoint");
  else
    rc = sl__fio_write_atomic(path, b.data, b.len, true, diag);
  sl_buf_release(&b);
  return rc;
}

/* ---- leader-epoch-checkpoint ---- */

typedef struct epoch_list {
  sl_epoch_entry *e;
  size_t n, cap;
} epoch_list;

static int epoch_line(void *ctx, const char *line, size_t len) {
  epoch_list *l = ctx;
  sl__token t[2];
  int64_t epoch, offset;
  if (sl__split_ws(line, len, t, 2) != 2)
    return SL_ECORRUPT;
  if (sl_parse_decimal(t[0].p, t[0].len, 0, INT32_MAX, &epoch) != SL_OK)
    return SL_ECORRUPT;
  if (sl_parse_decimal(t[1].p, t[1].len, 0, INT64_MAX, &offset) != SL_OK)
    return SL_ECORRUPT;
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 16;
    sl_epoch_entry *ne = realloc(l->e, ncap * sizeof(*ne));
    if (ne == NULL)
      return SL_ENOMEM;
    l->e = ne;
    l->cap = ncap;
  }
  l->e[l->n].epoch = (int32_t)epoch;
  l->e[l->n].start_offset = offset;
  l->n++;
  return SL_OK;
}

int sl_epoch_checkpoint_parse(const void *p, size_t len, sl_epoch_entry **out,
                              size_t *count, sl_diag *diag) {
  epoch_list l = {NULL, 0, 0};
  if (out == NULL || count == NULL || (p == NULL && len > 0))
    return sl_diag_set(diag, SL_EINVAL, -1, "bad arguments");
  *out = NULL;
  *count = 0;
  int rc = parse_frame(p, len, epoch_line, &l, diag);
  if (rc) {
    free(l.e);
    return rc;
  }
  *out = l.e;
  *count = l.n;
  return SL_OK;
}

int sl_epoch_checkpoint_format(const sl_epoch_entry *e, size_t n, sl_buf *out) {
  char line[64];
  int len = snprintf(line, sizeof(line), "%d\n%zu\n", SL_CHECKPOINT_VERSION, n);
  if (sl_buf_append(out, line, (size_t)len))
    return SL_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    len = snprintf(line, sizeof(line), "%" PRId32 " %" PRId64 "\n", e[i].epoch,
                   e[i].start_offset);
    if (sl_buf_append(out, line, (size_t)len))
      return SL_ENOMEM;
  }
  return SL_OK;
}

int sl_epoch_checkpoint_read(const char *path, sl_epoch_entry **out, size_t *count,
                             sl_diag *diag) {
  sl_buf b = SL_BUF_INIT;
  bool missing;
  *out = NULL;
  *count = 0;
  int rc = read_text(path, &b, &missing, diag);
  if (rc == SL_OK && !missing) {
    rc = sl_epoch_checkpoint_parse(b.data, b.len, out, count, diag);
    if (rc)
      set_path(diag, path);
  }
  sl_buf_release(&b);
  return rc;
}

int sl_epoch_checkpoint_write(const char *path, const sl_epoch_entry *e, size_t n,
                              sl_diag *diag) {
  sl_buf b = SL_BUF_INIT;
  int rc = sl_epoch_checkpoint_format(e, n, &b);
  if (rc)
    rc = sl_diag_set(diag, rc, -1, "formatting checkpoint");
  else
    rc = sl__fio_write_atomic(path, b.data, b.len, true, diag);
  sl_buf_release(&b);
  return rc;
}
