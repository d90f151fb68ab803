/*
 * topicconf.c - per-topic configs: Kafka's topic-level key table (types,
 * validators and error wording of Kafka's LogConfig/ConfigDef), overrides,
 * defaults from the broker keys, the effective sl_log_config, and the
 * per-log-directory file that stores them (see topicconf.h; docs/BROKER.md,
 * "Per-topic configs"; docs/FORMAT.md lists the file among our differences).
 */
#include "topicconf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum { NOKEY = -1 };

/* How a key's broker-level default is found. */
typedef enum dflt_how {
  D_KEY,       /* the broker key's text */
  D_RETENTION, /* log.retention.{ms,minutes,hours} -> ms */
  D_ROLL,      /* log.roll.{ms,hours} -> ms */
  D_FLUSH_MS,  /* log.flush.interval.ms, else the scheduler interval */
  D_LOGCFG,    /* the broker's sl_log_config (no broker key of ours) */
  D_FIXED,     /* Kafka's topic default */
} dflt_how;

typedef struct tckey {
  const char *name;
  sd_tc_type type;
  int64_t min, max; /* INT/LONG/DOUBLE ranges */
  const char *allowed;
  int broker_key; /* sd_ckey or NOKEY */
  dflt_how how;
  const char *fixed; /* D_FIXED */
  bool log;          /* a field of sl_log_config */
  const char *doc;
} tckey;

#define LMIN INT64_MIN
#define LMAX INT64_MAX

/* Sorted by name. */
static const tckey keys[] = {
    {"cleanup.policy", SD_TC_LIST, 0, 0, "compact,delete", SD_CFG_CLEANUP_POLICY, D_KEY,
     NULL, true,
     "What happens to old segments: delete (retention by time and size), compact "
     "(keep the latest record per key), or both."},
    {"compression.type", SD_TC_STRING, 0, 0, "uncompressed,zstd,lz4,snappy,gzip,producer",
     SD_CFG_COMPRESSION_TYPE, D_KEY, NULL, false,
     "Codec of the stored batches; producer keeps the producer's codec, other "
     "values make the broker recompress batches in another codec."},
    {"delete.retention.ms", SD_TC_LONG, 0, LMAX, NULL, SD_CFG_CLEANER_DELETE_RETENTION_MS,
     D_KEY, NULL, true,
     "How long a tombstone stays readable after compaction reached it, on compacted "
     "topics."},
    {"file.delete.delay.ms", SD_TC_LONG, 0, LMAX, NULL, SD_CFG_SEGMENT_DELETE_DELAY_MS,
     D_KEY, NULL, true,
     "Delay between a segment leaving the log and its files being removed."},
    {"flush.messages", SD_TC_LONG, 1, LMAX, NULL, SD_CFG_FLUSH_MESSAGES, D_KEY, NULL,
     true, "Force an fsync after this many appended messages."},
    {"flush.ms", SD_TC_LONG, 0, LMAX, NULL, SD_CFG_FLUSH_MS, D_FLUSH_MS, NULL, true,
     "Force an fsync when this much time passed since the last one."},
    {"index.interval.bytes", SD_TC_INT, 0, INT32_MAX, NULL, SD_CFG_INDEX_INTERVAL, D_KEY,
     NULL, true, "Bytes of log between two offset-index entries."},
    {"max.compaction.lag.ms", SD_TC_LONG, 1, LMAX, NULL, SD_CFG_CLEANER_MAX_LAG_MS, D_KEY,
     NULL, true, "Longest time a record may stay uncompacted."},
    {"max.message.bytes", SD_TC_INT, 0, INT32_MAX, NULL, SD_CFG_MESSAGE_MAX_BYTES, D_KEY,
     NULL, true, "Largest record batch the topic accepts (after compression)."},
    {"message.downconversion.enable", SD_TC_BOOLEAN, 0, 0, NULL, NOKEY, D_FIXED, "true",
     false, "Stored; seglogd serves only v2 batches (fetch versions >= 4)."},
    {"message.timestamp.after.max.ms", SD_TC_LONG, 0, LMAX, NULL, NOKEY, D_FIXED,
     "9223372036854775807", false,
     "How far after the broker's clock a CreateTime timestamp may lie."},
    {"message.timestamp.before.max.ms", SD_TC_LONG, 0, LMAX, NULL, NOKEY, D_FIXED,
     "9223372036854775807", false,
     "How far before the broker's clock a CreateTime timestamp may lie."},
    {"message.timestamp.difference.max.ms", SD_TC_LONG, 0, LMAX, NULL, NOKEY, D_FIXED,
     "9223372036854775807", false,
     "Largest accepted difference between a CreateTime timestamp and the broker's "
     "clock (used for before/after when those are not set)."},
    {"message.timestamp.type", SD_TC_STRING, 0, 0, "CreateTime,LogAppendTime",
     SD_CFG_TIMESTAMP_TYPE, D_KEY, NULL, true,
     "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with "
     "the broker's clock."},
    {"min.cleanable.dirty.ratio", SD_TC_DOUBLE, 0, 1, NULL, SD_CFG_CLEANER_MIN_RATIO,
     D_KEY, NULL, true,
     "Share of uncompacted bytes that makes a compacted log eligible for cleaning."},
    {"min.compaction.lag.ms", SD_TC_LONG, 0, LMAX, NULL, SD_CFG_CLEANER_MIN_LAG_MS, D_KEY,
     NULL, true, "Shortest time a record stays uncompacted."},
    {"min.insync.replicas", SD_TC_INT, 1, INT32_MAX, NULL, SD_CFG_MIN_ISR, D_KEY, NULL,
     false,
     "In-sync replicas needed for acks=all; the ISR is this one node, so above 1 "
     "acks=all gets NOT_ENOUGH_REPLICAS."},
    {"preallocate", SD_TC_BOOLEAN, 0, 0, NULL, SD_CFG_PREALLOCATE, D_KEY, NULL, true,
     "Preallocate new segment files."},
    {"retention.bytes", SD_TC_LONG, LMIN, LMAX, NULL, SD_CFG_RETENTION_BYTES, D_KEY, NULL,
     true, "Largest size of a partition before old segments are deleted; -1: no limit."},
    {"retention.ms", SD_TC_LONG, -1, LMAX, NULL, SD_CFG_RETENTION_MS, D_RETENTION, NULL,
     true, "How long segments are kept before deletion; -1: no limit."},
    {"segment.bytes", SD_TC_INT, 14, INT32_MAX, NULL, SD_CFG_SEGMENT_BYTES, D_KEY, NULL,
     true, "Size at which a segment is rolled."},
    {"segment.index.bytes", SD_TC_INT, 4, INT32_MAX, NULL, SD_CFG_INDEX_SIZE_MAX, D_KEY,
     NULL, true, "Size of a segment's offset and time indexes."},
    {"segment.jitter.ms", SD_TC_LONG, 0, LMAX, NULL, NOKEY, D_LOGCFG, NULL, true,
     "Random jitter subtracted from segment.ms when a segment is rolled."},
    {"segment.ms", SD_TC_LONG, 1, LMAX, NULL, SD_CFG_ROLL_MS, D_ROLL, NULL, true,
     "Age at which a segment is rolled even if not full."},
    {"unclean.leader.election.enable", SD_TC_BOOLEAN, 0, 0, NULL, NOKEY, D_FIXED, "false",
     false, "Stored; meaningful with replication."},
};
#define N_KEYS ((int)(sizeof(keys) / sizeof(keys[0])))

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int fail(char *err, size_t cap, int rc, const char *fmt, ...) {
  if (cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static const tckey *find_key(const char *name) {
  int lo = 0, hi = N_KEYS - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    int c = strcmp(keys[mid].name, name);
    if (c == 0)
      return &keys[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}

bool sd_topicconf_known(const char *key) {
  return find_key(key) != NULL;
}
bool sd_topicconf_is_list(const char *key) {
  const tckey *k = find_key(key);
  return k != NULL && k->type == SD_TC_LIST;
}
int sd_topicconf_key_count(void) {
  return N_KEYS;
}
const char *sd_topicconf_key_at(int i) {
  return i >= 0 && i < N_KEYS ? keys[i].name : NULL;
}
sd_tc_type sd_topicconf_key_type(const char *key) {
  const tckey *k = find_key(key);
  return k ? k->type : SD_TC_STRING;
}
const char *sd_topicconf_key_doc(const char *key) {
  const tckey *k = find_key(key);
  return k ? k->doc : NULL;
}

/* ---- values ---- */

/* Java's String.trim into a new string. */
static char *trimmed(const char *s) {
  size_t n = strlen(s);
  while (n > 0 && (unsigned char)s[0] <= ' ') {
    s++;
    n--;
  }
  while (n > 0 && (unsigned char)s[n - 1] <= ' ')
    n--;
  char *d = malloc(n + 1);
  if (d != NULL) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

/* Long.parseLong: optional sign, decimal digits only. */
static bool parse_i64(const char *s, int64_t *out) {
  const char *p = s;
  if (*p == '+' || *p == '-')
    p++;
  if (*p == '\0')
    return false;
  for (const char *q = p; *q; q++)
    if (!isdigit((unsigned char)*q))
      return false;
  errno = 0;
  char *end = NULL;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || end == NULL || *end != '\0')
    return false;
  *out = (int64_t)v;
  return true;
}

static bool parse_double(const char *s, double *out) {
  if (*s == '\0')
    return false;
  size_t n = strlen(s);
  char buf[64];
  if (n >= sizeof(buf))
    return false;
  memcpy(buf, s, n + 1);
  if (strchr("dDfF", buf[n - 1]) != NULL) /* Java's Double.parseDouble suffixes */
    buf[n - 1] = '\0';
  if (buf[0] == '\0' || isspace((unsigned char)buf[0]))
    return false;
  errno = 0;
  char *end = NULL;
  double v = strtod(buf, &end);
  if (end == NULL || *end != '\0' || isnan(v) || (errno == ERANGE && fabs(v) > 1.0))
    return false;
  *out = v;
  return true;
}

static bool in_allowed(const char *allowed, const char *item, size_t n) {
  const char *p = allowed;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t wl = comma ? (size_t)(comma - p) : strlen(p);
    if (wl == n && memcmp(p, item, n) == 0)
      return true;
    if (comma == NULL)
      return false;
    p = comma + 1;
  }
}

/* "a,b,c" -> "a, b, c" as Kafka's Utils.join prints the valid strings. */
static void allowed_text(const char *allowed, char *out, size_t cap) {
  size_t o = 0;
  for (const char *p = allowed; *p && o + 3 < cap; p++) {
    out[o++] = *p;
    if (*p == ',')
      out[o++] = ' ';
  }
  out[o] = '\0';
}

static const char *type_word(sd_tc_type t) {
  switch (t) {
  case SD_TC_INT:
    return "INT";
  case SD_TC_LONG:
    return "LONG";
  case SD_TC_DOUBLE:
    return "DOUBLE";
  case SD_TC_BOOLEAN:
    return "BOOLEAN";
  case SD_TC_LIST:
    return "LIST";
  default:
    return "STRING";
  }
}

/* Kafka's ConfigDef parse + validator for one topic key; v is trimmed. */
static int check_value(const tckey *k, const char *v, char *err, size_t cap) {
  char words[128];
  switch (k->type) {
  case SD_TC_INT:
  case SD_TC_LONG: {
    int64_t x;
    if (!parse_i64(v, &x) || (k->type == SD_TC_INT && (x < INT32_MIN || x > INT32_MAX)))
      return fail(err, cap, SD_TC_BAD_VALUE,
                  "Invalid value %s for configuration %s: Not a number of type %s", v,
                  k->name, type_word(k->type));
    if (k->min != LMIN && x < k->min)
      return fail(err, cap, SD_TC_BAD_VALUE,
                  "Invalid value %s for configuration %s: Value must be at least %lld", v,
                  k->name, (long long)k->min);
    return SD_TC_OK; /* every INT/LONG key's maximum is its type's */
  }
  case SD_TC_DOUBLE: {
    double x;
    if (!parse_double(v, &x))
      return fail(err, cap, SD_TC_BAD_VALUE,
                  "Invalid value %s for configuration %s: Not a number of type DOUBLE", v,
                  k->name);
    if (x < (double)k->min)
      return fail(err, cap, SD_TC_BAD_VALUE,
                  "Invalid value %s for configuration %s: Value must be at least %lld", v,
                  k->name, (long long)k->min);
    if (x > (double)k->max)
      return fail(
          err, cap, SD_TC_BAD_VALUE,
          "Invalid value %s for configuration %s: Value must be no more than %lld", v,
          k->name, (long long)k->max);
    return SD_TC_OK;
  }
  case SD_TC_BOOLEAN:
    if (strcasecmp(v, "true") != 0 && strcasecmp(v, "false") != 0)
      return fail(err, cap, SD_TC_BAD_VALUE,
                  "Invalid value %s for configuration %s: Expected value to be either "
                  "true or false",
                  v, k->name);
    return SD_TC_OK;
  case SD_TC_STRING:
    if (k->allowed != NULL && !in_allowed(k->allowed, v, strlen(v))) {
      allowed_text(k->allowed, words, sizeof(words));
      return fail(err, cap, SD_TC_BAD_VALUE,
                  "Invalid value %s for configuration %s: String must be one of: %s", v,
                  k->name, words);
    }
    return SD_TC_OK;
  case SD_TC_LIST: {
    /* ConfigDef splits on commas (items trimmed; an empty value is an empty
     * list) and ValidList checks each item. */
    if (*v == '\0')
      return SD_TC_OK;
    const char *p = v;
    for (;;) {
      const char *comma = strchr(p, ',');
      size_t n = comma ? (size_t)(comma - p) : strlen(p);
      while (n > 0 && (unsigned char)*p <= ' ') {
        p++;
        n--;
      }
      while (n > 0 && (unsigned char)p[n - 1] <= ' ')
        n--;
      if (k->allowed != NULL && !in_allowed(k->allowed, p, n)) {
        allowed_text(k->allowed, words, sizeof(words));
        return fail(err, cap, SD_TC_BAD_VALUE,
                    "Invalid value %.*s for configuration %s: String must be one of: %s",
                    (int)n, p, k->name, words);
      }
      if (comma == NULL)
        return SD_TC_OK;
      p = comma + 1;
    }
  }
  }
  return SD_TC_OK;
}

int sd_topicconf_set(sd_topicconf *c, const char *key, const char *value, char *err,
                     size_t errcap) {
  const tckey *k = find_key(key);
  if (k == NULL)
    return fail(err, errcap, SD_TC_UNKNOWN_KEY, "Unknown topic config name: %s", key);
  if (value == NULL)
    return fail(err, errcap, SD_TC_BAD_VALUE,
                "Null value not supported for topic configs: %s", key);
  char *v = trimmed(value);
  if (v == NULL)
    return fail(err, errcap, SD_TC_NOMEM, "out of memory");
  int rc = check_value(k, v, err, errcap);
  if (rc != SD_TC_OK) {
    free(v);
    return rc;
  }
  int i = 0;
  while (i < c->n && strcmp(c->e[i].key, key) < 0)
    i++;
  if (i < c->n && strcmp(c->e[i].key, key) == 0) {
    free(c->e[i].value);
    c->e[i].value = v;
    return SD_TC_OK;
  }
  sd_topicconf_entry *ne = realloc(c->e, sizeof(*ne) * (size_t)(c->n + 1));
  char *kc = strdup(k->name);
  if (ne == NULL || kc == NULL) {
    if (ne != NULL)
      c->e = ne;
    free(kc);
    free(v);
    return fail(err, errcap, SD_TC_NOMEM, "out of memory");
  }
  c->e = ne;
  memmove(&ne[i + 1], &ne[i], sizeof(*ne) * (size_t)(c->n - i));
  ne[i].key = kc;
  ne[i].value = v;
  c->n++;
  return SD_TC_OK;
}

void sd_topicconf_unset(sd_topicconf *c, const char *key) {
  for (int i = 0; i < c->n; i++) {
    if (strcmp(c->e[i].key, key) != 0)
      continue;
    free(c->e[i].key);
    free(c->e[i].value);
    memmove(&c->e[i], &c->e[i + 1], sizeof(*c->e) * (size_t)(c->n - i - 1));
    c->n--;
    return;
  }
}

const char *sd_topicconf_get(const sd_topicconf *c, const char *key) {
  for (int i = 0; c != NULL && i < c->n; i++)
    if (strcmp(c->e[i].key, key) == 0)
      return c->e[i].value;
  return NULL;
}

void sd_topicconf_release(sd_topicconf *c) {
  if (c == NULL)
    return;
  for (int i = 0; i < c->n; i++) {
    free(c->e[i].key);
    free(c->e[i].value);
  }
  free(c->e);
  c->e = NULL;
  c->n = 0;
}

int sd_topicconf_copy(sd_topicconf *dst, const sd_topicconf *src) {
  memset(dst, 0, sizeof(*dst));
  if (src == NULL || src->n == 0)
    return 0;
  dst->e = calloc((size_t)src->n, sizeof(*dst->e));
  if (dst->e == NULL)
    return -1;
  for (int i = 0; i < src->n; i++) {
    dst->e[i].key = strdup(src->e[i].key);
    dst->e[i].value = strdup(src->e[i].value);
    dst->n = i + 1;
    if (dst->e[i].key == NULL || dst->e[i].value == NULL) {
      sd_topicconf_release(dst);
      return -1;
    }
  }
  return 0;
}

bool sd_topicconf_equal(const sd_topicconf *a, const sd_topicconf *b) {
  int na = a ? a->n : 0, nb = b ? b->n : 0;
  if (na != nb)
    return false;
  for (int i = 0; i < na; i++)
    if (strcmp(a->e[i].key, b->e[i].key) != 0 ||
        strcmp(a->e[i].value, b->e[i].value) != 0)
      return false;
  return true;
}

/* ---- defaults and the effective config ---- */

/* The broker key's text as Kafka prints it (lists without blanks). */
static void key_text(const sd_config *c, int k, char *out, size_t cap) {
  const char *s = sd_cfg_s(c, (sd_ckey)k);
  size_t o = 0;
  for (; s && *s && o + 1 < cap; s++)
    if (*s != ' ' && *s != '\t')
      out[o++] = *s;
  out[o] = '\0';
}

void sd_topicconf_default(const sd_config *bc, const sl_log_config *blog, const char *key,
                          char *out, size_t cap, const char **synonym,
                          bool *explicit_set) {
  const tckey *k = find_key(key);
  const char *syn = NULL;
  bool ex = false;
  if (cap > 0)
    out[0] = '\0';
  if (k == NULL)
    goto done;
  if (k->broker_key != NOKEY) {
    syn = sd_config_key_name((sd_ckey)k->broker_key);
    ex = bc->v[k->broker_key].explicit_set;
  }
  switch (k->how) {
  case D_RETENTION:
    snprintf(out, cap, "%lld", (long long)bc->retention_ms);
    ex = bc->v[SD_CFG_RETENTION_MS].explicit_set ||
         bc->v[SD_CFG_RETENTION_MINUTES].explicit_set ||
         bc->v[SD_CFG_RETENTION_HOURS].explicit_set;
    break;
  case D_ROLL:
    snprintf(out, cap, "%lld", (long long)bc->roll_ms);
    ex = bc->v[SD_CFG_ROLL_MS].explicit_set || bc->v[SD_CFG_ROLL_HOURS].explicit_set;
    break;
  case D_FLUSH_MS:
    snprintf(out, cap, "%lld", (long long)bc->flush_ms);
    ex = bc->v[SD_CFG_FLUSH_MS].explicit_set ||
         bc->v[SD_CFG_FLUSH_SCHEDULER_MS].explicit_set;
    break;
  case D_LOGCFG:
    snprintf(out, cap, "%lld", (long long)blog->segment_jitter_ms);
    break;
  case D_FIXED:
    snprintf(out, cap, "%s", k->fixed);
    break;
  case D_KEY:
    key_text(bc, k->broker_key, out, cap);
    break;
  }
done:
  if (synonym)
    *synonym = syn;
  if (explicit_set)
    *explicit_set = ex;
}

void sd_topicconf_view(const sd_config *bc, const sl_log_config *blog,
                       const sd_topicconf *conf, const char *key, sd_tc_view *v) {
  bool ex = false;
  sd_topicconf_default(bc, blog, key, v->dflt, sizeof(v->dflt), &v->broker_key, &ex);
  v->broker_source = ex ? SD_SRC_STATIC_BROKER : SD_SRC_DEFAULT;
  v->override = sd_topicconf_get(conf, key);
  v->value = v->override ? v->override : v->dflt;
  v->source = v->override ? SD_SRC_DYNAMIC_TOPIC : v->broker_source;
}

int sd_topicconf_apply(const sd_topicconf *c, const sl_log_config *base,
                       sl_log_config *out, char *err, size_t errcap) {
  sl_log_config lc = *base;
  for (int i = 0; c != NULL && i < c->n; i++) {
    const tckey *k = find_key(c->e[i].key);
    if (k == NULL || !k->log)
      continue;
    /* Normalized text for libseglog's stricter parser. */
    char norm[256];
    const char *v = c->e[i].value;
    if (k->type == SD_TC_BOOLEAN) {
      snprintf(norm, sizeof(norm), "%s", strcasecmp(v, "true") == 0 ? "true" : "false");
      v = norm;
    } else if (k->type == SD_TC_DOUBLE) {
      double d = 0;
      parse_double(v, &d);
      snprintf(norm, sizeof(norm), "%.17g", d);
      v = norm;
    } else if (k->type == SD_TC_INT || k->type == SD_TC_LONG) {
      int64_t x = 0;
      parse_i64(v, &x);
      if (x < -1 && strcmp(k->name, "retention.bytes") == 0)
        x = -1; /* Kafka: any negative retention.bytes means no limit */
      snprintf(norm, sizeof(norm), "%lld", (long long)x);
      v = norm;
    }
    sl_diag diag;
    sl_diag_clear(&diag);
    if (sl_log_config_set(&lc, k->name, v, &diag) != 0) {
      char buf[600];
      return fail(err, errcap, -1, "Invalid value %s for configuration %s: %s",
                  c->e[i].value, k->name, sl_diag_format(&diag, buf, sizeof(buf)));
    }
  }
  if (lc.min_compaction_lag_ms > lc.max_compaction_lag_ms)
    return fail(err, errcap, -1,
                "conflict topic config setting min.compaction.lag.ms (%lld) > "
                "max.compaction.lag.ms (%lld)",
                (long long)lc.min_compaction_lag_ms, (long long)lc.max_compaction_lag_ms);
  sl_diag diag;
  sl_diag_clear(&diag);
  if (sl_log_config_validate(&lc, &diag) != 0) {
    char buf[600];
    return fail(err, errcap, -1, "Invalid topic config: %s",
                sl_diag_format(&diag, buf, sizeof(buf)));
  }
  *out = lc;
  return 0;
}

const char *sd_topicconf_compression(const sd_topicconf *c, const char *broker_default) {
  const char *v = sd_topicconf_get(c, "compression.type");
  return v ? v : broker_default;
}

/* ---- the file ---- */

void sd_tcfile_release(sd_tcfile *f) {
  if (f == NULL)
    return;
  for (int i = 0; i < f->n; i++) {
    free(f->t[i].name);
    sd_topicconf_release(&f->t[i].conf);
  }
  free(f->t);
  f->t = NULL;
  f->n = 0;
}

sd_tcfile_topic *sd_tcfile_find(sd_tcfile *f, const char *name) {
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->t[i].name, name) == 0)
      return &f->t[i];
  return NULL;
}

static sd_tcfile_topic *tcfile_add(sd_tcfile *f, const char *name, size_t len) {
  for (int i = 0; i < f->n; i++)
    if (strlen(f->t[i].name) == len && memcmp(f->t[i].name, name, len) == 0)
      return &f->t[i];
  sd_tcfile_topic *nt = realloc(f->t, sizeof(*nt) * (size_t)(f->n + 1));
  if (nt == NULL)
    return NULL;
  f->t = nt;
  sd_tcfile_topic *t = &nt[f->n];
  memset(t, 0, sizeof(*t));
  t->name = malloc(len + 1);
  if (t->name == NULL)
    return NULL;
  memcpy(t->name, name, len);
  t->name[len] = '\0';
  f->n++;
  return t;
}

int sd_tcfile_put(sd_tcfile *f, const char *name, const sl_uuid *id,
                  const sd_topicconf *conf) {
  sd_tcfile_topic *t = tcfile_add(f, name, strlen(name));
  if (t == NULL)
    return -1;
  sd_topicconf copy;
  if (sd_topicconf_copy(&copy, conf) != 0)
    return -1;
  sd_topicconf_release(&t->conf);
  t->conf = copy;
  if (id != NULL)
    t->id = *id;
  else
    memset(&t->id, 0, sizeof(t->id));
  return 0;
}

bool sd_tcfile_remove(sd_tcfile *f, const char *name) {
  for (int i = 0; i < f->n; i++) {
    if (strcmp(f->t[i].name, name) != 0)
      continue;
    free(f->t[i].name);
    sd_topicconf_release(&f->t[i].conf);
    memmove(&f->t[i], &f->t[i + 1], sizeof(*f->t) * (size_t)(f->n - i - 1));
    f->n--;
    return true;
  }
  return false;
}

typedef struct read_ctx {
  sd_tcfile *f;
  const char *path;
  char *err;
  size_t errcap;
} read_ctx;

static int read_entry(void *vctx, const char *key, const char *value, int line) {
  read_ctx *rc = vctx;
  if (strcmp(key, "generation") == 0) {
    if (!parse_i64(value, &rc->f->generation) || rc->f->generation < 0)
      return fail(rc->err, rc->errcap, -2, "%s:%d: bad generation '%s'", rc->path, line,
                  value);
    return 0;
  }
  const char *slash = strchr(key, '/');
  if (slash == NULL || sl_topic_name_validate(key, (size_t)(slash - key), NULL) != 0)
    return fail(rc->err, rc->errcap, -2, "%s:%d: unexpected key '%s'", rc->path, line,
                key);
  sd_tcfile_topic *t = tcfile_add(rc->f, key, (size_t)(slash - key));
  if (t == NULL)
    return fail(rc->err, rc->errcap, -2, "out of memory");
  const char *what = slash + 1;
  if (strcmp(what, "id") == 0) {
    if (sl_uuid_parse(value, strlen(value), &t->id) != 0)
      return fail(rc->err, rc->errcap, -2, "%s:%d: bad topic id '%s' for %s", rc->path,
                  line, value, t->name);
    return 0;
  }
  char msg[400];
  if (sd_topicconf_set(&t->conf, what, value, msg, sizeof(msg)) != 0)
    return fail(rc->err, rc->errcap, -2, "%s:%d: topic %s: %s", rc->path, line, t->name,
                msg);
  return 0;
}

int sd_tcfile_read(const char *dir, sd_tcfile *out, char *err, size_t errcap) {
  memset(out, 0, sizeof(*out));
  char path[4096];
  if (snprintf(path, sizeof(path), "%s/%s", dir, SD_TOPICCONF_FILE) >= (int)sizeof(path))
    return fail(err, errcap, -1, "%s: path too long", dir);
  FILE *fp = fopen(path, "rb");
  if (fp == NULL) {
    if (errno == ENOENT || errno == ENOTDIR)
      return 0;
    return fail(err, errcap, -1, "cannot read %s: %s", path, strerror(errno));
  }
  char *text = NULL;
  size_t len = 0, cap = 0;
  int rc = 0;
  for (;;) {
    if (len + 4096 > cap) {
      if (cap > (64u << 20)) {
        rc = fail(err, errcap, -1, "%s is larger than 64 MiB", path);
        break;
      }
      size_t nc = cap ? cap * 2 : 8192;
      char *nt = realloc(text, nc);
      if (nt == NULL) {
        rc = fail(err, errcap, -1, "out of memory");
        break;
      }
      text = nt;
      cap = nc;
    }
    size_t got = fread(text + len, 1, cap - len, fp);
    len += got;
    if (got == 0) {
      if (ferror(fp))
        rc = fail(err, errcap, -1, "cannot read %s: %s", path, strerror(errno));
      break;
    }
  }
  fclose(fp);
  if (rc == 0)
    rc = sd_tcfile_parse(text, len, path, out, err, errcap);
  else
    sd_tcfile_release(out);
  free(text);
  return rc;
}

int sd_tcfile_parse(const char *text, size_t len, const char *label, sd_tcfile *out,
                    char *err, size_t errcap) {
  memset(out, 0, sizeof(*out));
  read_ctx ctx = {out, label, err, errcap};
  char perr[300];
  int prc = sd_props_parse(text, len, read_entry, &ctx, perr, sizeof(perr));
  if (prc == 0)
    return 0;
  if (prc != -2) /* -2: read_entry filled err */
    fail(err, errcap, -1, "%s: %s", label, perr);
  sd_tcfile_release(out);
  return -1;
}

/* Properties escaping for a value: anything outside a plain set as \uXXXX. */
static int put_escaped(FILE *fp, const char *s) {
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (isalnum(ch) || ch == '.' || ch == ',' || ch == '-' || ch == '_' || ch == '+') {
      if (fputc(ch, fp) == EOF)
        return -1;
    } else if (fprintf(fp, "\\u%04X", ch) < 0) {
      return -1;
    }
  }
  return 0;
}

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int sd_tcfile_write(const char *dir, const sd_tcfile *f, char *err, size_t errcap) {
  char path[4096], tmp[4200];
  if (snprintf(path, sizeof(path), "%s/%s", dir, SD_TOPICCONF_FILE) >= (int)sizeof(path))
    return fail(err, errcap, -1, "%s: path too long", dir);
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail(err, errcap, -1, "cannot write %s: %s", tmp, strerror(errno));
  FILE *fp = fdopen(fd, "wb");
  if (fp == NULL) {
    close(fd);
    unlink(tmp);
    return fail(err, errcap, -1, "cannot write %s: %s", tmp, strerror(errno));
  }
  bool ok =
      fprintf(fp,
              "# seglogd per-topic configs (docs/BROKER.md, \"Per-topic configs\").\n"
              "# Replaced atomically by seglogd: do not edit while it runs.\n"
              "generation=%lld\n",
              (long long)f->generation) > 0;
  for (int i = 0; ok && i < f->n; i++) {
    const sd_tcfile_topic *t = &f->t[i];
    if (!sl_uuid_is_zero(&t->id)) {
      char ids[SL_UUID_STR_LEN + 1];
      sl_uuid_to_string(&t->id, ids);
      ok = fprintf(fp, "%s/id=%s\n", t->name, ids) > 0;
    }
    for (int j = 0; ok && j < t->conf.n; j++) {
      ok = fprintf(fp, "%s/%s=", t->name, t->conf.e[j].key) > 0 &&
           put_escaped(fp, t->conf.e[j].value) == 0 && fputc('\n', fp) != EOF;
    }
  }
  int saved = 0;
  if (ok && fflush(fp) != 0)
    ok = false;
  if (ok && fsync(fileno(fp)) != 0)
    ok = false;
  if (!ok)
    saved = errno;
  if (fclose(fp) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    unlink(tmp);
    return fail(err, errcap, -1, "cannot write %s: %s", tmp, strerror(saved));
  }
  if (rename(tmp, path) != 0) {
    saved = errno;
    unlink(tmp);
    return fail(err, errcap, -1, "cannot rename %s: %s", tmp, strerror(saved));
  }
  if (fsync_dir(dir) != 0)
    return fail(err, errcap, -1, "cannot fsync %s: %s", dir, strerror(errno));
  return 0;
}

int sd_tcfile_read_all(char *const *dirs, int n, sd_tcfile *out, char *err,
                       size_t errcap) {
  memset(out, 0, sizeof(*out));
  bool have = false;
  for (int i = 0; i < n; i++) {
    sd_tcfile f;
    if (sd_tcfile_read(dirs[i], &f, err, errcap) != 0) {
      sd_tcfile_release(out);
      return -1;
    }
    if (!have || f.generation > out->generation) {
      sd_tcfile_release(out);
      *out = f;
      have = true;
    } else {
      sd_tcfile_release(&f);
    }
  }
  return 0;
}
